import ArgumentParser
import SealpostConfig
import SealpostSASL

#if canImport(Glibc)
import Glibc
#endif

/// `sealpost passwd`: manage the users of the passwd-file that `smtpd_sasl_type = passwd-file`
/// reads. The file stays a valid Dovecot passwd-file, so Dovecot can share it.
struct PasswdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Add, change, delete or list the users of the SMTP AUTH passwd-file.",
        discussion: """
            The file is the smtpd_sasl_path of the services with smtpd_sasl_type = passwd-file, or \
            the one named with -f. add asks for the password twice on a terminal, or reads one \
            line from standard input; it sets the password of an existing user and adds a new \
            user at the end. Only the edited line changes; the file is replaced atomically and \
            keeps its mode, owner and group (a new file gets mode 0640 and, as root, mail_owner's \
            group). list prints the user names, never the hashes.
            """)

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case add, delete, list
    }

    @OptionGroup var config: ConfigDirectoryOption

    @Option(
        name: .customShort("f"),
        help: ArgumentHelp("The passwd-file, instead of the one main.cf and master.cf name.", valueName: "file"))
    var file: String?

    @Option(
        name: .customShort("s"),
        help: ArgumentHelp(
            "The hash for new passwords: yescrypt or sha512-crypt.",
            discussion: "Default: yescrypt when this system's libcrypt recommends it, else sha512-crypt.",
            valueName: "scheme"))
    var scheme: PasswordHashMethod?

    @Argument(help: "What to do.")
    var action: Action

    @Argument(help: "The user name (user or user@domain); list takes none.")
    var user: String?

    func validate() throws {
        switch action {
        case .add, .delete:
            guard let user else { throw ValidationError("\(action.rawValue) needs a user name") }
            if let problem = PasswdFileEditor.problem(withUsername: user) { throw ValidationError("\(problem): \"\(user)\"") }
        case .list:
            if user != nil { throw ValidationError("list takes no user name") }
        }
        if scheme != nil && action != .add { throw ValidationError("-s applies to add only") }
    }

    func run() throws {
        let (path, group) = try passwdFile()
        switch action {
        case .list: try list(path)
        case .add: try add(user!, to: path, group: group)
        case .delete: try delete(user!, from: path)
        }
    }

    // MARK: - Actions

    private func list(_ path: String) throws {
        let file: PasswdFile
        do {
            file = try PasswdFile.load(path: path)
        } catch {
            throw failure(error.description)
        }
        report(file.diagnostics)
        Terminal.out(file.usernames.map { $0 + "\n" }.joined())
    }

    private func add(_ user: String, to path: String, group: gid_t?) throws {
        var password = try PasswordInput.read()
        defer { password.resetBytes(in: 0..<password.count) }
        let field: String
        do {
            field = try PasswordHasher.passwordField(for: password, method: scheme ?? PasswordHasher.defaultMethod)
        } catch {
            throw failure("\(path): \(error.description)")
        }
        let change: PasswdFileEditor.Change
        do {
            change = try PasswdFileEditor.edit(path: path, create: true, group: group) { contents in
                let edited = PasswdFileEditor.settingPassword(field, for: user, in: contents)
                return (edited.bytes, edited.change)
            }
        } catch {
            throw failure(error.description)
        }
        switch change {
        case .added: Terminal.out("added user \(user) to \(path)\n")
        case .replaced(let line): Terminal.out("changed the password of \(user) in \(path) (line \(line))\n")
        }
        reportAfterEdit(path)
    }

    private func delete(_ user: String, from path: String) throws {
        let removed: [Int]
        do {
            removed = try PasswdFileEditor.edit(path: path, create: false) { contents in
                let edited = PasswdFileEditor.removing(user, from: contents)
                return (edited.bytes, edited.removedLines)
            }
        } catch {
            throw failure(error.description)
        }
        guard !removed.isEmpty else { throw failure("\(path): no user \(user)") }
        let lines = removed.map(String.init).joined(separator: ", ")
        Terminal.out("deleted user \(user) from \(path) (line\(removed.count == 1 ? "" : "s") \(lines))\n")
        reportAfterEdit(path)
    }

    private func reportAfterEdit(_ path: String) {
        if let file = try? PasswdFile.load(path: path) { report(file.diagnostics) }
    }

    private func report(_ diagnostics: [ConfigurationDiagnostic]) {
        for diagnostic in diagnostics {
            Terminal.diagnostic(diagnostic.severity == .error ? "error" : "warning", diagnostic.description)
        }
    }

    // MARK: - Which file

    /// `-f`, or the one passwd-file that main.cf and the master.cf services name; with it, the
    /// group a new file gets (mail_owner's, when running as root).
    private func passwdFile() throws -> (path: String, group: gid_t?) {
        if let file { return (file, nil) }
        let directory = config.resolved
        let configuration = Configuration.load(directory: directory)
        if let problem = configuration.diagnostics.first(where: { $0.code == "open" && $0.severity == .error }) {
            throw failure("\(problem.description); name the passwd-file with -f")
        }
        var paths: [String] = []
        for scope in [configuration.global] + configuration.services {
            if let path = SASLServerSettings.passwdFilePath(of: scope), !paths.contains(path) { paths.append(path) }
        }
        guard let path = paths.first else {
            throw failure(
                "\(directory)/main.cf: no service has smtpd_sasl_type = passwd-file with smtpd_sasl_path; "
                    + "set them, or name the passwd-file with -f")
        }
        guard paths.count == 1 else {
            throw failure("several passwd-files are configured (\(paths.joined(separator: ", "))); choose one with -f")
        }
        return (path, mailOwnerGroup(configuration))
    }

    private func mailOwnerGroup(_ configuration: Configuration) -> gid_t? {
        guard geteuid() == 0, let entry = getpwnam(configuration.global.string("mail_owner")) else { return nil }
        return entry.pointee.pw_gid
    }

    private func failure(_ message: String) -> ExitCode {
        Terminal.fatal(message)
        return ExitCode(1)
    }
}

extension PasswordHashMethod: ExpressibleByArgument {}
