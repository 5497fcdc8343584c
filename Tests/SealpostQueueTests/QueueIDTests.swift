import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostQueue

@Suite("Queue IDs")
struct QueueIDTests {
    @Test("encodes time and inode in Postfix's long form")
    func longForm() throws {
        // Decoded here independently of the implementation, by Postfix's rules (mail_queue.h, safe_ultostr.c).
        let id = QueueID(seconds: 1_700_000_000, microseconds: 123_456, inode: 2_621_447)
        var seconds: UInt64 = 0
        let alphabet = Array("0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz")
        let text = Array(id.text)
        let separator = try #require(text.lastIndex(of: "z"))
        for character in text[..<(separator - 4)] { seconds = seconds * 52 + UInt64(alphabet.firstIndex(of: character)!) }
        var microseconds: UInt64 = 0
        for character in text[(separator - 4)..<separator] { microseconds = microseconds * 52 + UInt64(alphabet.firstIndex(of: character)!) }
        var inode: UInt64 = 0
        for character in text[(separator + 1)...] {
            let digit = alphabet.firstIndex(of: character)!
            #expect(digit < 51)
            inode = inode * 51 + UInt64(digit)
        }
        #expect(seconds == 1_700_000_000)
        #expect(microseconds == 123_456)
        #expect(inode == 2_621_447)
        #expect(separator == 10)
        #expect(!id.text.contains { "AEIOUaeiou".contains($0) })
    }

    @Test("parses what it makes, and a real Postfix ID")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 4)
        for _ in 0..<2000 {
            let id = QueueID(
                seconds: UInt64.random(in: 0...UInt64(UInt32.max) * 4, using: &generator),
                microseconds: UInt32.random(in: 0..<1_000_000, using: &generator),
                inode: UInt64.random(in: 1...UInt64.max, using: &generator))
            #expect(QueueID(id.text) == id)
            #expect(QueueID(id.text)?.text == id.text)
        }
        // Made by Postfix 3.7.11 (sendmail → postdrop with enable_long_queue_ids = yes).
        let postfix = try #require(QueueID("4jclds4CSdz2P1LV"))
        #expect(postfix.text == "4jclds4CSdz2P1LV")
        #expect(postfix.microseconds < 1_000_000)
        #expect(postfix.seconds > 1_700_000_000)
    }

    @Test(
        "rejects names that are not long queue IDs",
        arguments: [
            "", "z", "../4jclds4CSdz2P1LV", "4jclds4CSdz2P1LV/..", "4jclds4C/Sdz2P1LV", "4jclds4CSdz2P1LV.tmp",
            "4jcld4CSdz2P1LV",  // seconds shorter than six characters
            "04jclds4CSdz2P1LV",  // non-canonical leading zero
            "4jclds4CSdz02P1LV",  // inode with a leading zero
            "4jclds4CSdz",  // no inode
            "4jclds4CSAz2P1LV",  // vowel
            "4jcldszzzzz2P1LV",  // microseconds out of range
            "3F2A81C0A2B",  // a short (hexadecimal) Postfix ID
            "12345.6789",  // an incoming file name
        ])
    func rejects(_ name: String) {
        #expect(QueueID(name) == nil)
    }

    @Test("sorts by creation time, as strings and as values")
    func ordering() {
        var generator = SeededGenerator(seed: 7)
        var ids: [QueueID] = []
        for _ in 0..<1000 {
            ids.append(QueueID(
                seconds: UInt64.random(in: 1_000_000_000...2_000_000_000, using: &generator),
                microseconds: UInt32.random(in: 0..<1_000_000, using: &generator),
                inode: UInt64.random(in: 1...10_000_000, using: &generator)))
        }
        let byTime = ids.sorted { ($0.seconds, $0.microseconds, $0.inode) < ($1.seconds, $1.microseconds, $1.inode) }
        #expect(ids.sorted() == byTime)
        // Postfix's property: the fixed-width time prefix sorts as a string.
        let byText = ids.sorted { $0.text.prefix(10) < $1.text.prefix(10) || ($0.text.prefix(10) == $1.text.prefix(10) && $0.inode < $1.inode) }
        #expect(byText.map(\.text) == byTime.map(\.text))
    }

    @Test("IDs of queued messages carry the file's inode and the creation time, in order")
    func fromQueue() async throws {
        let queue = try TestQueue()
        let before = QueueTimestamp.now()
        var ids: [QueueID] = []
        for _ in 0..<20 { ids.append(try await queue.enqueue()) }
        let after = QueueTimestamp.now()
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.timestamp >= QueueTimestamp(seconds: before.seconds) && id.timestamp <= after)
            let attributes = try FileManager.default.attributesOfItem(atPath: queue.path(.active, id.text))
            #expect((attributes[.systemFileNumber] as? NSNumber)?.uint64Value == id.inode)
        }
    }

    static var postfixAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sendmail")
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/postdrop") && getpwnam("postfix") != nil
            && getgrnam("postdrop") != nil
    }

    @Test("matches an ID that Postfix itself assigns", .enabled(if: postfixAvailable))
    func matchesPostfix() throws {
        let scratch = try TemporaryDirectory()
        let config = scratch.path + "/etc"
        let spool = scratch.path + "/spool"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        for directory in ["maildrop", "public", "pid"] {
            try FileManager.default.createDirectory(atPath: "\(spool)/\(directory)", withIntermediateDirectories: true)
        }
        chmod(scratch.path, 0o755)
        let postfix = getpwnam("postfix")!.pointee
        let postdrop = getgrnam("postdrop")!.pointee
        chown(spool, postfix.pw_uid, 0)
        chown("\(spool)/maildrop", postfix.pw_uid, postdrop.gr_gid)
        chmod("\(spool)/maildrop", 0o1730)
        try """
            queue_directory = \(spool)
            enable_long_queue_ids = yes
            mail_owner = postfix
            setgid_group = postdrop
            compatibility_level = 3.6

            """.write(toFile: config + "/main.cf", atomically: true, encoding: .utf8)
        let before = Date().timeIntervalSince1970
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/sendmail")
        process.arguments = ["-C", config, "-f", "a@example.org", "b@example.net"]
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("Subject: x\n\nhello\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let after = Date().timeIntervalSince1970
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(spool)/maildrop")
        let name = try #require(names.first, "postdrop left no file")
        let id = try #require(QueueID(name), "Sealpost cannot parse Postfix's ID \(name)")
        #expect(id.text == name)
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(spool)/maildrop/\(name)")
        #expect((attributes[.systemFileNumber] as? NSNumber)?.uint64Value == id.inode)
        #expect(Double(id.seconds) >= before.rounded(.down) && Double(id.seconds) <= after)
        #expect(name.count == QueueID(seconds: id.seconds, microseconds: 999_999, inode: id.inode).text.count)
    }
}
