import Foundation
import Logging
import SealpostQueue
import SealpostTestSupport
import Testing

/// The envelope lines and the content of a maildrop file.
private func split(_ file: String) -> (envelope: [String], content: String) {
    let parts = file.components(separatedBy: "\n\n")
    let envelope = parts[0].components(separatedBy: "\n")
    return (envelope, parts.dropFirst().joined(separator: "\n\n"))
}

@Suite("sealpost sendmail")
struct SendmailTests {
    @Test("recipients as arguments, the login name as sender, LF input stored with CRLF")
    func basicSubmission() throws {
        let instance = try QueueInstance()
        let result = try instance.sendmail(["bob@example.org", "Carol <carol@example.org>"], input: "Subject: hi\n\nline one\r\nline two\n")
        #expect(result.status == 0, "\(result.standardError)")
        let (envelope, content) = split(try instance.onlyMaildropFile())
        let login = String(cString: getpwuid(getuid())!.pointee.pw_name)
        #expect(envelope.filter { !$0.hasPrefix("fullname ") } == [
            "SEALPOST-MAILDROP 1", "size \(content.utf8.count)", "sender <\(login)>",
            "recipient <bob@example.org>", "recipient <carol@example.org>",
        ])
        #expect(content == "Subject: hi\r\n\r\nline one\r\nline two\r\n")
        #expect(MaildropWriter.isFinalName(instance.maildropFiles[0]))
    }

    @Test("without -i a lone dot ends the input; with -i or -oi it is content", arguments: [
        ([String](), "a\r\n"),
        (["-i"], "a\r\n.\r\nb\r\n"),
        (["-oi"], "a\r\n.\r\nb\r\n"),
    ])
    func dots(_ flags: [String], _ expected: String) throws {
        let instance = try QueueInstance()
        let result = try instance.sendmail(flags + ["bob@example.org"], input: "a\n.\nb\n")
        #expect(result.status == 0)
        #expect(split(try instance.onlyMaildropFile()).content == expected)
    }

    @Test("a leading mbox From_ line is dropped, as Postfix's sendmail does")
    func fromLine() throws {
        let instance = try QueueInstance()
        #expect(try instance.sendmail(["bob"], input: "From alice Mon Jan  1 00:00:00 2024\nSubject: x\n\n").status == 0)
        #expect(split(try instance.onlyMaildropFile()).content == "Subject: x\r\n\r\n")
    }

    @Test("-f, -F, -N, -R, -V and -B go into the envelope")
    func envelopeOptions() throws {
        let instance = try QueueInstance()
        let result = try instance.sendmail(
            ["-f", "alice@example.org", "-FAlice Example", "-N", "delay,failure", "-R", "hdrs", "-V", "ENVID1", "-B", "8BITMIME", "bob@example.org"])
        #expect(result.status == 0, "\(result.standardError)")
        let (envelope, _) = split(try instance.onlyMaildropFile())
        #expect(envelope.contains("sender <alice@example.org>"))
        #expect(envelope.contains("fullname Alice Example"))
        #expect(envelope.contains("notify failure,delay"))
        #expect(envelope.contains("ret hdrs"))
        #expect(envelope.contains("envid ENVID1"))
        #expect(envelope.contains("body 8BITMIME"))
    }

    @Test("-f '<>' is the null sender; -r is -f")
    func nullSender() throws {
        let instance = try QueueInstance()
        #expect(try instance.sendmail(["-f", "<>", "bob"]).status == 0)
        #expect(split(try instance.onlyMaildropFile()).envelope.contains("sender <>"))
        let second = try QueueInstance()
        #expect(try second.sendmail(["-rbounces@example.org", "bob"]).status == 0)
        #expect(split(try second.onlyMaildropFile()).envelope.contains("sender <bounces@example.org>"))
    }

    @Test("-t takes recipients from To, Cc and Bcc and adds the arguments' (the pickup service removes Bcc)")
    func extractRecipients() throws {
        let instance = try QueueInstance()
        let input = "To: Bob <bob@example.org>, carol@example.org (Carol)\nCc: team: dave@example.org, \"e e\"@example.org;\nBcc: secret@example.org,\n  other@example.org\nSubject: t\n\nbody\nTo: not@header.example\n"
        let result = try instance.sendmail(["-t", "extra@example.org"], input: input)
        #expect(result.status == 0, "\(result.standardError)")
        let (envelope, content) = split(try instance.onlyMaildropFile())
        #expect(envelope.filter { $0.hasPrefix("recipient ") } == [
            "recipient <extra@example.org>", "recipient <bob@example.org>", "recipient <carol@example.org>",
            "recipient <dave@example.org>", "recipient <\"e e\"@example.org>", "recipient <secret@example.org>",
            "recipient <other@example.org>",
        ])
        #expect(content == "To: Bob <bob@example.org>, carol@example.org (Carol)\r\nCc: team: dave@example.org, \"e e\"@example.org;\r\nBcc: secret@example.org,\r\n  other@example.org\r\nSubject: t\r\n\r\nbody\r\nTo: not@header.example\r\n")
    }

    @Test("the full name: -F, else $NAME, else the passwd entry's GECOS field")
    func fullName() throws {
        let instance = try QueueInstance()
        let named = try SealpostBinary.run(["sendmail", "-C", instance.directory, "bob"], environment: ["NAME": "From Environment"], input: "x\n")
        #expect(named.status == 0)
        #expect(split(try instance.onlyMaildropFile()).envelope.contains("fullname From Environment"))
        let second = try QueueInstance()
        #expect(try second.sendmail(["-F", "Given", "bob"]).status == 0)
        #expect(split(try second.onlyMaildropFile()).envelope.contains("fullname Given"))
        let gecos = String(cString: getpwuid(getuid())!.pointee.pw_gecos).prefix { $0 != "," }
        if !gecos.isEmpty, !gecos.contains("&"), ProcessInfo.processInfo.environment["NAME"] == nil {
            let third = try QueueInstance()
            #expect(try SealpostBinary.run(["sendmail", "-C", third.directory, "bob"], input: "x\n").status == 0)
            #expect(split(try third.onlyMaildropFile()).envelope.contains("fullname \(gecos)"))
        }
    }

    @Test("-t uses only the Resent- headers when there are any")
    func resentHeaders() throws {
        let instance = try QueueInstance()
        #expect(try instance.sendmail(["-t"], input: "To: old@example.org\nResent-To: new@example.org\n\n").status == 0)
        #expect(split(try instance.onlyMaildropFile()).envelope.filter { $0.hasPrefix("recipient") } == ["recipient <new@example.org>"])
    }

    @Test("usage errors exit 64 (EX_USAGE) and queue nothing", arguments: [
        ([String](), "Recipient addresses must be specified"),
        (["-t"], "No recipient addresses found in message header"),
        (["-Z", "bob"], "invalid option -- 'Z'"),
        (["-f"], "option requires an argument -- 'f'"),
        (["-N", "sometimes", "bob"], "bad -N option value"),
        (["-R", "most", "bob"], "-R option needs full or hdrs"),
        (["-B", "9BIT", "bob"], "-B option needs 8BITMIME or 7BIT"),
        (["-V", "a+b", "bob"], "bad -V option value"),
        (["-bs"], "-bs (SMTP on standard input) is not supported"),
        (["-bv", "bob"], "-bv (address verification) is not supported"),
        (["-bd"], "-bd is not supported"),
        (["-I"], "newaliases"),
        (["-qIABC"], "-qI is not supported"),
    ])
    func usageErrors(_ arguments: [String], _ message: String) throws {
        let instance = try QueueInstance()
        let result = try instance.sendmail(arguments, input: "Subject: none\n\n")
        #expect(result.status == 64, "\(arguments): \(result.standardError)")
        #expect(result.standardError.contains("sendmail: fatal: ") && result.standardError.contains(message), "\(result.standardError)")
        #expect(instance.maildropFiles.isEmpty)
    }

    @Test("ignored options are accepted as Postfix accepts them")
    func ignoredOptions() throws {
        let instance = try QueueInstance()
        let result = try instance.sendmail(["-oem", "-odi", "-o7", "-G", "-U", "-v", "-m", "-n", "-h", "5", "-L", "label", "-O", "x=y", "-bm", "-q30m", "--", "bob@example.org"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(split(try instance.onlyMaildropFile()).envelope.contains("recipient <bob@example.org>"))
    }

    @Test("a message over message_size_limit is refused with EX_DATAERR")
    func tooLarge() throws {
        let instance = try QueueInstance(mainExtra: "message_size_limit = 1000")
        let result = try instance.sendmail(["bob"], input: String(repeating: "x", count: 2000) + "\n")
        #expect(result.status == 65)
        #expect(result.standardError.contains("message file too big"))
        #expect(instance.maildropFiles.isEmpty)
    }

    @Test("no maildrop directory: EX_TEMPFAIL with the reason")
    func noMaildrop() throws {
        let instance = try QueueInstance()
        #expect(rmdir(instance.maildrop) == 0)
        let result = try instance.sendmail(["bob"])
        #expect(result.status == 75)
        #expect(result.standardError.contains("maildrop"))
    }

    @Test("the pickup FIFO is poked with W after the file is in place")
    func pokesPickup() async throws {
        let instance = try QueueInstance()
        let recorder = try TriggerRecorder(path: QueueTrigger.pickupPath(queueDirectory: instance.queueDirectory))
        #expect(try instance.sendmail(["bob"]).status == 0)
        #expect(await eventually { recorder.requests == [.pickup] })
    }

    @Test("invoked as sendmail (a symbolic link), the binary is sendmail; as mailq, it lists the queue")
    func personalities() throws {
        let instance = try QueueInstance()
        let sendmail = instance.directory + "/sendmail", mailq = instance.directory + "/mailq"
        #expect(symlink(SealpostBinary.path, sendmail) == 0)
        #expect(symlink(SealpostBinary.path, mailq) == 0)
        let submitted = try run(sendmail, ["-C", instance.directory, "-f", "alice", "bob@example.org"], input: "Subject: linked\n\n")
        #expect(submitted.status == 0, "\(submitted.error)")
        #expect(split(try instance.onlyMaildropFile()).envelope.contains("sender <alice>"))
        let listed = try run(mailq, ["-C", instance.directory], input: "")
        #expect(listed.status == 0, "\(listed.error)")
        #expect(listed.output == "Mail queue is empty\n")
    }

    @Test("-bp lists the queue; -q without a daemon says the mail system is down (EX_UNAVAILABLE)")
    func queueModes() async throws {
        let instance = try QueueInstance()
        let listed = try instance.sendmail(["-bp"], input: "")
        #expect(listed.status == 0)
        #expect(listed.standardOutput == "Mail queue is empty\n")
        let flushed = try instance.sendmail(["-q"], input: "")
        #expect(flushed.status == 69)
        #expect(flushed.standardError.contains("mail system is down"))
        let recorder = try TriggerRecorder(path: QueueTrigger.queueManagerPath(queueDirectory: instance.queueDirectory))
        #expect(try instance.sendmail(["-q"], input: "").status == 0)
        #expect(await eventually { recorder.requests == [.flushDeferred] })
    }

    @Test("sendmail to pickup to queue list: the message shows up with the qualified sender")
    func endToEnd() async throws {
        let instance = try QueueInstance()
        #expect(try instance.sendmail(["-f", "alice", "bob@example.org"], input: "Subject: e2e\n\nhello\n").status == 0)
        let service = PickupService(
            store: instance.store,
            settings: PickupSettings(maildropDirectory: instance.maildrop, hostname: "mx.example.test", origin: "example.test"),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), onQueued: { _ in })
        let id = try #require(await service.scan().first)
        let listed = try instance.queue(["list"])
        #expect(listed.status == 0, "\(listed.standardError)")
        #expect(listed.standardOutput.contains("\(id)*"))
        #expect(listed.standardOutput.contains(" alice@example.test\n"))
        #expect(listed.standardOutput.contains(String(repeating: " ", count: 47) + "bob@example.org\n"))
        let shown = try instance.queue(["cat", id.text])
        #expect(shown.standardOutput.contains("named_attribute: uid=\(getuid())\n"))
        #expect(shown.standardOutput.contains("Subject: e2e\n"))
        #expect(shown.standardOutput.contains("\nhello\n"))
    }

    @Test("an ordinary user can submit: the file is theirs, and the pickup records their uid")
    func unprivilegedUser() async throws {
        guard geteuid() == 0 else { return }  // needs a second account to switch to
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            Issue.record("setpriv is missing: install the Debian package util-linux")
            return
        }
        let instance = try QueueInstance()
        // A uid without a passwd entry has no login name to send as (EX_NOUSER), as in Postfix.
        let nameless = try run(
            "/usr/bin/setpriv", ["--reuid=65533", "--regid=65533", "--clear-groups", SealpostBinary.path, "sendmail", "-C", instance.directory, "bob@example.org"],
            input: "x\n")
        #expect(nameless.status == 67)
        #expect(nameless.error.contains("no login name found for user ID 65533"))
        // nobody (65534) exists on Debian.
        let result = try run(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", SealpostBinary.path, "sendmail", "-C", instance.directory, "bob@example.org"],
            input: "Subject: from a user\n\nhello\n")
        #expect(result.status == 0, "\(result.error)")
        let file = try #require(instance.maildropFiles.first)
        var status = stat()
        #expect(stat(instance.maildrop + "/" + file, &status) == 0)
        #expect(status.st_uid == 65534)
        // Another user can neither list the directory nor remove the file.
        let listing = try run("/usr/bin/setpriv", ["--reuid=65532", "--regid=65532", "--clear-groups", "/bin/ls", instance.maildrop], input: "")
        #expect(listing.status != 0)
        let removal = try run("/usr/bin/setpriv", ["--reuid=65532", "--regid=65532", "--clear-groups", "/bin/rm", "-f", instance.maildrop + "/" + file], input: "")
        #expect(removal.status != 0)
        let service = PickupService(
            store: instance.store,
            settings: PickupSettings(maildropDirectory: instance.maildrop, hostname: "mx.example.test", origin: "example.test"),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), onQueued: { _ in })
        let id = try #require(await service.scan().first)
        let message = try instance.store.open(id)
        defer { message.close() }
        #expect(message.envelope.attributes["uid"] == "65534")
        #expect(message.envelope.sender == "nobody@example.test")
    }

    private func run(_ executable: String, _ arguments: [String], input: String) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let error = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }
}
