import Foundation
import SealpostQueue
import SealpostTestSupport
import Testing

/// mailq's columns (Postfix showq_compat.c, long queue IDs): `%-17s %8s %-19s %s`.
private func mailqLine(_ id: String, _ size: String, _ time: String, _ address: String) -> String {
    func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
    return pad(id, 17) + " " + String(repeating: " ", count: max(0, 8 - size.count)) + size + " " + pad(time, 19) + " " + address + "\n"
}

/// asctime(3)'s first 19 characters for `id`'s arrival, computed independently of the code under test.
private func asctime19(_ id: QueueID) -> String {
    var seconds = time_t(id.seconds)
    var parts = tm()
    localtime_r(&seconds, &parts)
    var buffer = [CChar](repeating: 0, count: 32)
    _ = asctime_r(&parts, &buffer)
    return String(String(cString: buffer).prefix(19))
}

/// Long queue IDs, Postfix's or Sealpost's: 16 or so characters of the safe alphabet, a marker.
private enum QueueIDShape {
    static func matches(_ text: String) -> Bool {
        var id = Substring(text)
        if let last = id.last, "*!".contains(last) { id = id.dropLast() }
        return (10...20).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

@Suite("sealpost queue")
struct QueueCommandTests {
    @Test("list: mailq's format with markers, reasons and only unfinished recipients")
    func listFormat() async throws {
        let instance = try QueueInstance()
        let content = "Subject: queued\r\n\r\nbody\r\n"
        let active = try await instance.enqueue(recipients: ["bob@example.org", "carol@example.org"], content: content)
        let deferred = try await instance.enqueue(sender: "", recipients: ["a@example.net", "b@example.net", "c@example.net"], content: content)
        let held = try await instance.enqueue(sender: "bob@example.test", recipients: ["d@example.com"], content: content)
        let reason = "connect to mx.example.net[192.0.2.1]:25: Connection refused"
        do {
            let message = try instance.store.open(deferred)
            defer { message.close() }
            try await message.record([
                DeliveryOutcome(recipients: [0, 2], result: .deferred(until: .now().adding(seconds: 3600)), dsnStatus: "4.4.1", reason: reason),
                DeliveryOutcome(recipients: [1], result: .delivered(.relayed), dsnStatus: "2.0.0", reason: "250 ok"),
            ])
            try await message.move(to: .deferred)
        }
        do {
            let message = try instance.store.open(held)
            defer { message.close() }
            try await message.move(to: .hold)
        }
        let size = String(content.utf8.count)
        let indent = String(repeating: " ", count: 47)
        let expected = mailqLine("----Queue ID-----", "--Size--", "---Arrival Time----", "--Sender/Recipient------")
            + mailqLine("\(active)*", size, asctime19(active), "alice@example.test")
            + indent + "bob@example.org\n" + indent + "carol@example.org\n"
            + "\n"
            + mailqLine("\(deferred)", size, asctime19(deferred), "MAILER-DAEMON")
            + String(repeating: " ", count: 76 - reason.count) + "(\(reason))\n"
            + indent + "a@example.net\n" + indent + "c@example.net\n"
            + "\n"
            + mailqLine("\(held)!", size, asctime19(held), "bob@example.test")
            + indent + "d@example.com\n"
            + "\n-- 0 Kbytes in 3 Requests.\n"
        let result = try instance.queue(["list"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == expected)
    }

    @Test("list: the same queue as a recorded Postfix 3.7 mailq gives the same listing")
    func matchesPostfixRecording() async throws {
        let instance = try QueueInstance()
        let reason = "connect to 127.0.0.1[127.0.0.1]:52543: Connection refused"
        let messages: [(String, [String], QueueName)] = [
            ("alice@mx.example.test", ["a@example.net", "b@example.net"], .deferred),
            ("", ["c@example.net"], .deferred),
            ("bob@mx.example.test", ["d@example.com"], .hold),
        ]
        for (sender, recipients, queue) in messages {
            let id = try await instance.enqueue(sender: sender, recipients: recipients)
            let message = try instance.store.open(id)
            try await message.record([
                DeliveryOutcome(recipients: Array(recipients.indices), result: .deferred(until: .now().adding(seconds: 600)), dsnStatus: "4.4.1", reason: reason)
            ])
            try await message.move(to: queue)
            message.close()
        }
        let recorded = try String(contentsOfFile: SealpostBinary.fixture("mailq/postfix-3.7.11-mailq.txt"), encoding: .utf8)
        let ours = try instance.queue(["list"])
        #expect(ours.status == 0)
        #expect(try normalized(ours.standardOutput) == normalized(recorded))
    }

    /// The listing with each message line's ID, size and time replaced by placeholders, after
    /// checking that they sit in mailq's columns.
    private func normalized(_ listing: String) throws -> String {
        try listing.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let first = line.first, first != " ", first != "-", line.count > 47 else { return String(line) }
            let characters = Array(line)
            let id = String(characters[0..<17]).trimmingCharacters(in: .whitespaces)
            let size = String(characters[18..<26])
            let time = String(characters[27..<46])
            guard characters[17] == " ", characters[26] == " ", characters[46] == " ",
                size.trimmingCharacters(in: .whitespaces).allSatisfy(\.isNumber), size.last?.isNumber == true,
                time.range(of: #"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}$"#, options: .regularExpression) != nil,
                QueueIDShape.matches(id)
            else { throw TestFailure("not a mailq message line: \(line)") }
            let marker = id.last.map { "*!".contains($0) ? String($0) : "" } ?? ""
            return "ID\(marker) SIZE TIME " + String(characters[47...])
        }.joined(separator: "\n")
    }

    @Test("list: an empty queue, and the size total in Kbytes")
    func listEmptyAndTotals() async throws {
        let instance = try QueueInstance()
        #expect(try instance.queue(["list"]).standardOutput == "Mail queue is empty\n")
        try await instance.enqueue(recipients: ["bob@example.org"], content: String(repeating: "x", count: 3000) + "\r\n")
        let output = try instance.queue(["list"]).standardOutput
        #expect(output.hasSuffix("\n-- 2 Kbytes in 1 Request.\n"))
    }

    @Test("hold, release, requeue and delete move the files, report each message, and poke the queue manager")
    func administration() async throws {
        let instance = try QueueInstance()
        let recorder = try TriggerRecorder(path: QueueTrigger.queueManagerPath(queueDirectory: instance.queueDirectory))
        let id = try await instance.enqueue(recipients: ["bob@example.org"])

        let held = try instance.queue(["hold", id.text])
        #expect(held.status == 0)
        #expect(held.standardError == "sealpost: \(id): placed on hold\nsealpost: Placed on hold: 1 message\n")
        #expect(instance.names(in: .hold) == [id.text])
        #expect(await eventually { recorder.requests.contains(.scanAll) })

        let released = try instance.queue(["release", "ALL"])
        #expect(released.status == 0)
        #expect(released.standardError.contains("\(id): released from hold"))
        #expect(instance.names(in: .deferred) == [id.text])

        // A retry time far ahead; requeue makes it due now.
        do {
            let message = try instance.store.open(id)
            defer { message.close() }
            try await message.record([DeliveryOutcome(recipients: [0], result: .deferred(until: .now().adding(seconds: 86400)), dsnStatus: "4.0.0", reason: "later")])
        }
        let requeued = try instance.queue(["requeue", id.text])
        #expect(requeued.status == 0, "\(requeued.standardError)")
        #expect(requeued.standardError.contains("\(id): requeued"))
        #expect(instance.names(in: .active) == [id.text])
        do {
            let message = try instance.store.open(id)
            defer { message.close() }
            let next = try #require(message.recipients[0].nextAttempt)
            #expect(next <= QueueTimestamp.now())
            #expect(message.recipients[0].status == .deferred)
        }
        #expect(await eventually { recorder.requests.contains(.scanActive) })

        let deleted = try instance.queue(["delete", id.text])
        #expect(deleted.status == 0)
        #expect(deleted.standardError == "sealpost: \(id): removed\nsealpost: Deleted: 1 message\n")
        #expect(instance.store.list().messages.isEmpty)
    }

    @Test("delete ALL and delete deferred")
    func deleteSelections() async throws {
        let instance = try QueueInstance()
        let first = try await instance.enqueue(recipients: ["a@example.org"])
        let second = try await instance.enqueue(recipients: ["b@example.org"])
        let third = try await instance.enqueue(recipients: ["c@example.org"])
        for id in [second, third] {
            let message = try instance.store.open(id)
            try await message.move(to: .deferred)
            message.close()
        }
        let deferred = try instance.queue(["delete", "deferred"])
        #expect(deferred.standardError.hasSuffix("Deleted: 2 messages\n"))
        #expect(instance.store.list().messages.map(\.id) == [first])
        let all = try instance.queue(["delete", "ALL"])
        #expect(all.standardError.hasSuffix("Deleted: 1 message\n"))
        #expect(instance.store.list().messages.isEmpty)
    }

    @Test("a message being delivered (locked) is reported, not waited for; unknown IDs fail")
    func busyAndUnknown() async throws {
        let instance = try QueueInstance()
        let id = try await instance.enqueue(recipients: ["bob@example.org"])
        let delivering = try instance.store.open(id)
        let result = try instance.queue(["delete", id.text])
        delivering.close()
        #expect(result.status == 1)
        #expect(result.standardError.contains("\(id): the message is being delivered"))
        #expect(instance.names(in: .active) == [id.text])

        let unknown = try instance.queue(["hold", "4jclds4CSdz2P1LV", "not-an-id"])
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("no such message"))
        #expect(unknown.standardError.contains("not-an-id: not a queue ID"))
    }

    @Test("cat shows the envelope, recipient states and content")
    func cat() async throws {
        let instance = try QueueInstance()
        let id = try await instance.enqueue(recipients: ["bob@example.org", "carol@example.org"], content: "Subject: shown\r\n\r\nline\r\n")
        do {
            let message = try instance.store.open(id)
            defer { message.close() }
            try await message.record([DeliveryOutcome(recipients: [1], result: .bounced, dsnStatus: "5.1.1", reason: "550 no such user")])
        }
        let result = try instance.queue(["cat", id.text])
        #expect(result.status == 0, "\(result.standardError)")
        let output = result.standardOutput
        #expect(output.hasPrefix("*** ENVELOPE RECORDS active/\(id) ***\nmessage_size: 24\n"))
        #expect(output.contains("\nsender: alice@example.test\n"))
        #expect(output.contains("\nrecipient: bob@example.org\n    status: pending\n"))
        #expect(output.contains("\nrecipient: carol@example.org\n    status: bounced, attempts=1, dsn=5.1.1, (550 no such user)\n"))
        #expect(output.hasSuffix("*** MESSAGE CONTENTS active/\(id) ***\nSubject: shown\n\nline\n*** MESSAGE FILE END active/\(id) ***\n"))
        #expect(try instance.queue(["cat", "4jclds4CSdz2P1LV"]).status == 1)
    }

    @Test("flush pokes D, or says the mail system is down")
    func flush() async throws {
        let instance = try QueueInstance()
        let down = try instance.queue(["flush"])
        #expect(down.status == 69)
        #expect(down.standardError.contains("mail system is down"))
        let recorder = try TriggerRecorder(path: QueueTrigger.queueManagerPath(queueDirectory: instance.queueDirectory))
        #expect(try instance.queue(["flush"]).status == 0)
        #expect(await eventually { recorder.requests == [.flushDeferred] })
    }

    @Test("users other than root and mail_owner are refused")
    func refusesOtherUsers() throws {
        let instance = try QueueInstance()
        let process = Process()
        if geteuid() == 0 {
            // As a user who is neither root nor mail_owner (nobody is mail_owner here, so 65533).
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                Issue.record("setpriv is missing: install the Debian package util-linux")
                return
            }
            process.arguments = ["--reuid=65533", "--regid=65533", "--clear-groups", SealpostBinary.path, "queue", "-c", instance.directory, "list"]
        } else {
            process.executableURL = URL(fileURLWithPath: SealpostBinary.path)
            process.arguments = ["queue", "-c", instance.directory, "list"]
        }
        let error = Pipe()
        process.standardError = error
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 77)
        #expect(text.contains("needs root or mail_owner (nobody) privileges"))
    }
}
