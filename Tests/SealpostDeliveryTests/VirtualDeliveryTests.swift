import Foundation
import SealpostConfig
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

@Suite struct VirtualDeliveryTests {
    func chunks(_ parts: [String]) -> () throws -> [UInt8]? {
        var remaining = parts.map { Array($0.utf8) }
        return { remaining.isEmpty ? nil : remaining.removeFirst() }
    }

    func files(in directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? []
    }

    @Test func writesIntoNewWithLFLineEndingsAndNothingLeftInTmp() throws {
        let directory = try TemporaryDirectory()
        let maildir = directory.path + "/box/"
        let delivered = try MaildirWriter.deliver(
            to: maildir, hostname: "mx.example/x:y", headerLines: ["Return-Path: <a@b>", "Delivered-To: c@d"], sizeLimit: 0,
            nextChunk: chunks(["Subject: hi\r\n\r\nline one\r", "\nline two\r\n", "bare\rCR\r\n"]))
        #expect(files(in: maildir + "tmp").isEmpty)
        #expect(files(in: maildir + "cur").isEmpty)
        let names = files(in: maildir + "new")
        #expect(names.count == 1)
        let name = try #require(names.first)
        #expect(name.contains(#/^[0-9]+\.V[0-9a-f]+I[0-9a-f]+M[0-9]+\.mx\.example\\057x\\072y$/#), "\(name)")
        let text = try String(contentsOfFile: delivered.path, encoding: .utf8)
        #expect(text == "Return-Path: <a@b>\nDelivered-To: c@d\nSubject: hi\n\nline one\nline two\nbare\rCR\n")
        #expect(delivered.size == text.utf8.count)
    }

    @Test func concurrentDeliveriesGetDistinctFiles() async throws {
        let directory = try TemporaryDirectory()
        let maildir = directory.path + "/box/"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    var sent = false
                    _ = try MaildirWriter.deliver(to: maildir, hostname: "h", headerLines: [], sizeLimit: 0) {
                        defer { sent = true }
                        return sent ? nil : Array("message \(index)\r\n".utf8)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(files(in: maildir + "new").count == 50)
    }

    @Test func aMessageOverTheLimitBouncesAndLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        let maildir = directory.path + "/box/"
        #expect(throws: MaildirError.tooLarge(limit: 10)) {
            try MaildirWriter.deliver(to: maildir, hostname: "h", headerLines: [], sizeLimit: 10, nextChunk: chunks([String(repeating: "x", count: 100)]))
        }
        #expect(files(in: maildir + "tmp").isEmpty && files(in: maildir + "new").isEmpty)
        #expect(MaildirError.tooLarge(limit: 10).dsnStatus == "5.2.2")
    }

    @Test("a full file system defers with 4.3.0 (mail system full), a full mailbox bounces with 5.2.2, as Postfix's mbox_dsn()")
    func fileSystemErrorsMapAsPostfix() {
        #expect(MaildirError.system("write maildir file", ENOSPC).dsnStatus == "4.3.0")
        #expect(MaildirError.system("write maildir file", EDQUOT).dsnStatus == "5.2.2")
        #expect(MaildirError.system("write maildir file", EFBIG).dsnStatus == "5.2.2")
        #expect(MaildirError.system("create maildir file", EIO).dsnStatus == "4.2.0")
    }

    /// The mailbox owner: the current user, or nobody when the tests run as root (Postfix never
    /// delivers as root, and neither does Sealpost: virtual_minimum_uid is at least 1).
    static let owner: (uid: UInt32, gid: UInt32) = geteuid() == 0 ? (65534, 65534) : (geteuid(), getegid())

    func agent(_ directory: TemporaryDirectory, uid: UInt32 = owner.uid, gid: UInt32 = owner.gid, extra: String = "") throws -> VirtualDeliveryAgent {
        if geteuid() == 0 { chown(directory.path, uid, gid) }
        try directory.write("vmailbox", "demo@example.test example.test/demo/\ncatch@other.test other.test/catch/\n@other.test other.test/all/\nmbox@example.test example.test/mbox\n")
        let text = """
            myhostname = mx.example.test
            virtual_mailbox_base = \(directory.path)/mail
            virtual_mailbox_maps = texthash:\(directory.path)/vmailbox
            virtual_uid_maps = static:\(uid)
            virtual_gid_maps = static:\(gid)
            virtual_minimum_uid = 1
            \(extra)
            """
        let configuration = Configuration(
            directory: directory.path, main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: "master.cf", bytes: []),
            host: HostFacts(hostname: "mx", interfaceAddresses: [], processID: 1))
        return VirtualDeliveryAgent(settings: try VirtualDeliveryAgent.Settings(configuration.global))
    }

    @Test func deliversToTheMailboxTheMapNames() throws {
        let directory = try TemporaryDirectory()
        let agent = try agent(directory)
        let outcome = agent.deliver(recipient: "Demo@Example.test", sender: "s@remote.example", nextChunk: chunks(["Subject: x\r\n\r\nbody\r\n"]))
        #expect(outcome == .init(status: .sent, dsn: "2.0.0", text: "delivered to maildir", warning: nil))
        let delivered = files(in: directory.path + "/mail/example.test/demo/new")
        #expect(delivered.count == 1)
        let name = try #require(delivered.first)
        let text = try String(contentsOfFile: directory.path + "/mail/example.test/demo/new/" + name, encoding: .utf8)
        #expect(text.hasPrefix("Return-Path: <s@remote.example>\nDelivered-To: Demo@Example.test\nSubject: x\n"))

        // user@domain first, then the @domain catch-all.
        #expect(agent.deliver(recipient: "catch@other.test", sender: "", nextChunk: chunks(["x\r\n"])).status == .sent)
        #expect(agent.deliver(recipient: "anyone@other.test", sender: "", nextChunk: chunks(["x\r\n"])).status == .sent)
        #expect(files(in: directory.path + "/mail/other.test/all/new").count == 1)
    }

    @Test func unknownUsersBounceAndConfigurationErrorsDefer() throws {
        let directory = try TemporaryDirectory()
        let agent = try agent(directory)
        let unknown = agent.deliver(recipient: "nobody@example.test", sender: "", nextChunk: chunks(["x"]))
        #expect(unknown.status == .bounced && unknown.dsn == "5.1.1")
        let mbox = agent.deliver(recipient: "mbox@example.test", sender: "", nextChunk: chunks(["x"]))
        #expect(mbox.status == .deferred && mbox.dsn == "4.3.5")
        #expect(mbox.warning?.contains("Maildir only") == true)

        if geteuid() != 0 {
            let otherOwner = try self.agent(directory, uid: geteuid() + 1)
            let wrongUser = otherOwner.deliver(recipient: "demo@example.test", sender: "", nextChunk: chunks(["x"]))
            #expect(wrongUser.status == .deferred && wrongUser.text == "mail system configuration error")
            #expect(wrongUser.warning?.contains("map virtual_uid_maps") == true)
        } else {
            // As root the file is written as the mailbox owner.
            _ = try self.agent(directory)
            #expect(agent.deliver(recipient: "demo@example.test", sender: "", nextChunk: chunks(["x"])).status == .sent)
            let box = directory.path + "/mail/example.test/demo/new/"
            let name = try #require(files(in: box).first)
            let attributes = try FileManager.default.attributesOfItem(atPath: box + name)
            #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == Self.owner.uid)
        }
        let tooLow = try self.agent(directory, uid: 0, extra: "virtual_minimum_uid = 100")
        #expect(tooLow.deliver(recipient: "demo@example.test", sender: "", nextChunk: chunks(["x"])).warning?.contains("bad uid 0") == true)
    }
}
