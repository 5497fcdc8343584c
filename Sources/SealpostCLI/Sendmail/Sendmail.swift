import ArgumentParser
import SealpostConfig
import SealpostQueue

#if canImport(Glibc)
import Glibc
#endif

/// The exit statuses of sendmail(1), from sysexits.h, as Postfix's sendmail uses them.
enum SysExits {
    static let ok: Int32 = 0
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noUser: Int32 = 67
    static let unavailable: Int32 = 69
    static let software: Int32 = 70
    static let tempFail: Int32 = 75
    static let noPermission: Int32 = 77
}

/// `sealpost sendmail` — and `sendmail` when the binary is invoked under that name — the
/// sendmail(1) interface for local programs: reads a message on standard input and leaves it
/// in the maildrop directory for the pickup service, without the network. See
/// `SendmailOptions` for the command line and `MaildropWriter` for why no set-id program is
/// needed.
enum Sendmail {
    /// Runs with `arguments` (without the program name) and returns the exit status.
    static func run(_ arguments: [String]) async -> Int32 {
        let options: SendmailOptions
        do {
            options = try SendmailOptions(parsing: arguments)
        } catch {
            fail("\(error.message)")
            fail("usage: sendmail [options] [recipient ...] (see sendmail(1))")
            return SysExits.usage
        }
        let directory = configDirectory(options.configDirectory)
        switch options.mode {
        case .unsupported(let why):
            fail(why)
            return SysExits.usage
        case .listQueue:
            return QueueTool.list(configDirectory: directory)
        case .flushQueue:
            return QueueTool.flush(configDirectory: directory)
        case .deliver:
            return submit(options, configDirectory: directory)
        }
    }

    private static func submit(_ options: SendmailOptions, configDirectory: String) -> Int32 {
        let configuration = Configuration.load(directory: configDirectory).global
        let queueDirectory = configuration.string("queue_directory")
        let sizeLimit = configuration.integer("message_size_limit")
        let lineLimit = max(configuration.integer("line_length_limit"), 256)

        let sender: String
        if let given = options.sender {
            // -f '<>' and -f '' both mean the null sender; brackets are dropped as Postfix does.
            sender = HeaderAddresses.parse(given).first ?? ""
        } else {
            guard let login = loginName() else {
                fail("no login name found for user ID \(getuid())")
                return SysExits.noUser
            }
            sender = login
        }
        var recipients = options.recipients.flatMap { HeaderAddresses.parse($0) }
        if recipients.isEmpty, !options.extractRecipients {
            fail("Recipient addresses must be specified on the command line or via the -t option")
            return SysExits.usage
        }

        let input: MessageInput
        switch MessageInput.read(from: STDIN_FILENO, ignoreDots: options.ignoreDots, limit: sizeLimit) {
        case .success(let read): input = read
        case .failure(let error):
            fail(error.description)
            return SysExits.tempFail
        }
        if input.tooLarge {
            fail("message file too big: message_size_limit is \(sizeLimit) bytes")
            return SysExits.dataError
        }
        let content = input.content
        if options.extractRecipients {
            recipients += RecipientExtraction.extract(from: content)
            if recipients.isEmpty {
                fail("No recipient addresses found in message header")
                return SysExits.usage
            }
        }
        let fullName = options.fullName ?? getenv("NAME").map { String(cString: $0) } ?? gecosName()
        for value in [sender] + recipients + [fullName ?? ""] where !MaildropEnvelope.isAcceptableValue(value, limit: lineLimit - 20) {
            fail("bad address or name: \"\(value.prefix(80))\" (control characters, or longer than line_length_limit)")
            return SysExits.usage
        }
        for address in [sender] + recipients where address.contains("<") || address.contains(">") {
            fail("bad address: \"\(address.prefix(80))\"")
            return SysExits.usage
        }

        let envelope = MaildropEnvelope(
            sender: sender, recipients: recipients, fullName: fullName, notify: options.notify,
            returnContent: options.returnContent, envelopeID: options.envelopeID, bodyType: options.bodyType)
        let maildrop = MaildropDirectory.maildropPath(queueDirectory: queueDirectory)
        do {
            _ = try MaildropWriter.post(envelope: envelope, content: content, directory: maildrop)
        } catch {
            fail("\(error) (is the mail system installed and started once? `sealpost run` creates \(maildrop))")
            return SysExits.tempFail
        }
        // Not running: the daemon picks the file up when it starts.
        _ = try? QueueTrigger.send(.pickup, to: QueueTrigger.pickupPath(queueDirectory: queueDirectory))
        return SysExits.ok
    }

    /// The invoking user's login name (the real user ID, as Postfix's sendmail uses).
    private static func loginName() -> String? {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return nil }
        let login = String(cString: name)
        return login.isEmpty ? nil : login
    }

    /// The full name in the invoking user's passwd entry: the GECOS field up to the first comma,
    /// `&` standing for the capitalised login name (as Postfix's fullname() reads it).
    private static func gecosName() -> String? {
        guard let entry = getpwuid(getuid()), let gecos = entry.pointee.pw_gecos, let login = entry.pointee.pw_name else { return nil }
        let field = String(cString: gecos).prefix { $0 != "," }
        let user = String(cString: login)
        let name = field.replacingAmpersand(with: user.prefix(1).uppercased() + user.dropFirst())
        return name.isEmpty ? nil : name
    }

    /// `-C`, then `$MAIL_CONFIG` (Postfix's), then `$SEALPOST_CONFIG_DIR`, then `/etc/sealpost`.
    /// `-C` may name main.cf itself, as with Postfix.
    static func configDirectory(_ given: String?) -> String {
        if var given, !given.isEmpty {
            var status = stat()
            if stat(given, &status) == 0, status.st_mode & S_IFMT == S_IFREG, let slash = given.lastIndex(of: "/") {
                given = slash == given.startIndex ? "/" : String(given[..<slash])
            } else if stat(given, &status) == 0, status.st_mode & S_IFMT == S_IFREG {
                given = "."
            }
            return given
        }
        for variable in ["MAIL_CONFIG", "SEALPOST_CONFIG_DIR"] {
            if let value = getenv(variable).map({ String(cString: $0) }), !value.isEmpty { return value }
        }
        return Configuration.defaultDirectory
    }

    /// `sendmail: fatal: message` on standard error, as Postfix's sendmail reports.
    private static func fail(_ message: String) {
        Terminal.diagnostic("fatal", message, program: "sendmail")
    }
}

extension Substring {
    fileprivate func replacingAmpersand(with text: String) -> String {
        var result = ""
        for character in self { if character == "&" { result += text } else { result.append(character) } }
        return result
    }
}

/// `sealpost sendmail [options] [recipient ...]`: the sendmail(1) interface (also reached by
/// invoking the binary as `sendmail`, for a /usr/sbin/sendmail symbolic link).
struct SendmailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sendmail",
        abstract: "Queue a message from standard input, as sendmail(1) does (-f, -F, -t, -i, -N, -R, -V, -B, -C, -bp, -q).",
        discussion: """
            Options follow Postfix's sendmail(1). The message is left in $queue_directory/maildrop for the \
            running daemon's pickup service. Exit status as sysexits(3): 64 usage, 65 message too big, \
            67 unknown user, 75 cannot queue now.
            """)

    @Argument(parsing: .captureForPassthrough, help: "sendmail options and recipients")
    var arguments: [String] = []

    func run() async throws {
        let status = await Sendmail.run(arguments)
        if status != 0 { throw ExitCode(status) }
    }
}
