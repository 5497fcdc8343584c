import Foundation
import Logging
import SealpostConfig
import SealpostQueue
import SealpostRouting
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// Temporary homes, a fake passwd, alias files and a queue holding the messages to deliver.
final class LocalFixture {
    let directory: TemporaryDirectory
    let queue: QueueStore
    let agent: LocalDeliveryAgent
    let configuration: Configuration
    private var opened: [QueuedMessage] = []

    /// The owner of the test homes: the current user, or nobody when the tests run as root
    /// (then the agent writes as the account's uid, as Postfix does).
    static let owner: (uid: UInt32, gid: UInt32) = geteuid() == 0 ? (65534, 65534) : (geteuid(), getegid())

    static let aliases = """
        postmaster alice
        team alice, Bob, remote@elsewhere.example
        quoted "alice", <bob@example.test> (a comment)
        bob \\bob, alice
        loop1 loop2
        loop2 loop1
        list alice, far@elsewhere.example
        owner-list alice
        members :include:INCLUDE
        relative :include:members.txt
        program "|/usr/bin/procmail -a x"
        archive /var/spool/archive
        empty ,
        ghost nobody-here
        """

    init(extra: String = "", aliases: String = LocalFixture.aliases) throws {
        directory = try TemporaryDirectory()
        let root = directory.path
        if geteuid() == 0 { chown(root, Self.owner.uid, Self.owner.gid) }
        try directory.write("members.txt", "# the team\nalice\n\ncarol@remote.example, \"dave\"\n")
        try directory.write("aliases", aliases.replacingOccurrences(of: "INCLUDE", with: root + "/members.txt"))
        // Explicit modes: other tests in the same process may change the umask for a moment.
        chmod(root + "/members.txt", 0o644)
        chmod(root + "/aliases", 0o644)
        for home in ["alice", "bob", "carol", "locked"] {
            try FileManager.default.createDirectory(atPath: "\(root)/home/\(home)", withIntermediateDirectories: true)
            chmod("\(root)/home/\(home)", 0o755)
            if geteuid() == 0 { chown("\(root)/home/\(home)", Self.owner.uid, Self.owner.gid) }
        }
        if geteuid() == 0 {
            chown("\(root)/home", Self.owner.uid, Self.owner.gid)
            // The account cannot write its home: owned by root.
            chown("\(root)/home/locked", 0, 0)
        } else {
            chmod("\(root)/home/locked", 0o500)
        }
        let users = StaticUserDirectory([
            SystemUser(name: "alice", uid: Self.owner.uid, gid: Self.owner.gid, home: "\(root)/home/alice"),
            SystemUser(name: "carol", uid: Self.owner.uid, gid: Self.owner.gid, home: "\(root)/home/carol"),
            SystemUser(name: "bob", uid: Self.owner.uid, gid: Self.owner.gid, home: "\(root)/home/bob"),
            SystemUser(name: "locked", uid: Self.owner.uid, gid: Self.owner.gid, home: "\(root)/home/locked"),
            SystemUser(name: "homeless", uid: Self.owner.uid, gid: Self.owner.gid, home: "\(root)/home/missing"),
        ])
        let text = """
            myhostname = mx.example.test
            mydomain = example.test
            myorigin = $mydomain
            mydestination = $myhostname, $mydomain, localhost
            home_mailbox = Maildir/
            alias_maps = texthash:\(root)/aliases
            recipient_delimiter = +
            \(extra)
            """
        configuration = Configuration(
            directory: root, main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: "master.cf", bytes: []),
            host: HostFacts(hostname: "mx", interfaceAddresses: [], processID: 1))
        let resolver = AddressResolver(settings: try RoutingSettings(configuration.global, host: configuration.host))
        agent = LocalDeliveryAgent(settings: try .init(configuration.global), resolver: resolver, users: users)
        queue = try QueueStore(configuration: QueueConfiguration(directory: root + "/queue"), logger: Logger(label: "test"))
    }

    deinit {
        for message in opened { message.close() }
        chmod(directory.path + "/home/locked", 0o700)
    }

    /// Queues a message and delivers it to `recipients`.
    func deliver(
        _ recipients: [String], sender: String = "sender@remote.example", notify: DSNNotify = [],
        header: String = "", envid: String? = nil
    ) async throws -> DeliveryReport {
        let envelope = QueueEnvelope(
            sender: sender, recipients: recipients.map { QueueRecipient(address: $0, notify: notify) }, envelopeID: envid)
        let writer = try queue.makeWriter(envelope: envelope)
        try writer.append(header + "From: sender@remote.example\r\nSubject: test\r\n\r\nHello.\r\n")
        let id = try await queue.commit(writer)
        let message = try queue.open(id)
        opened.append(message)
        let request = DeliveryRequest(
            queueID: id, transport: "local", nexthop: "mx.example.test", sender: sender,
            recipients: recipients.enumerated().map { DeliveryRequest.Recipient(index: $0, address: $1, notify: notify) },
            envelope: envelope, arrival: .now(), contentLength: message.snapshot.contentLength,
            openContent: { () throws(QueueError) -> MessageContentReader in try message.content() })
        return await agent.deliver(request)
    }

    /// The messages in a user's Maildir/new.
    func mailbox(_ user: String) -> [String] {
        let path = "\(directory.path)/home/\(user)/Maildir/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: path + "/" + $0, encoding: .utf8) }
    }
}

@Suite struct LocalDeliveryTests {
    @Test func deliversToTheUsersMaildirWithPostfixsHeaders() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["Alice+News@Example.test"])
        let result = try #require(report.results.first)
        #expect(result.status == .sent && result.dsn == "2.0.0" && result.text == "delivered to maildir" && result.relay == "local")
        #expect(result.action == .delivered)
        #expect(report.forwarded.isEmpty)
        #expect(
            fixture.mailbox("alice") == [
                "Return-Path: <sender@remote.example>\nX-Original-To: Alice+News@Example.test\nDelivered-To: Alice+News@Example.test\n"
                    + "From: sender@remote.example\nSubject: test\n\nHello.\n"
            ])
    }

    @Test func unknownUsersBounceAsPostfixWordsIt() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["nobody+x@example.test", "+only@example.test"])
        #expect(report.results[0].status == .bounced && report.results[0].dsn == "5.1.1")
        #expect(report.results[0].text == "unknown user: \"nobody\"")
        #expect(report.results[1].status == .bounced && report.results[1].dsn == "5.1.1", "a leading delimiter is not split")
    }

    @Test func aDeliveredToHeaderForTheRecipientIsALoop() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(
            ["alice@example.test", "carol@example.test", "bob@example.test"], header: "Delivered-To: other@example.test\r\nDelivered-To:\r\n ALICE@example.test\r\n")
        #expect(report.results[0].status == .bounced && report.results[0].dsn == "5.4.6")
        #expect(report.results[0].text == "mail forwarding loop for alice@example.test")
        #expect(fixture.mailbox("alice").isEmpty)
        #expect(report.results[1].status == .sent && fixture.mailbox("carol").count == 1)
        // bob's alias lists alice: that part of the expansion is a loop too.
        #expect(report.results[2].status == .bounced && report.results[2].text == "mail forwarding loop for alice@example.test")
    }

    @Test func aliasesExpandToMailboxesAndAddressesForTheQueue() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["Team@example.test"], notify: [.success, .failure], envid: "E1")
        let result = try #require(report.results.first)
        #expect(result.status == .sent && result.action == .expanded)
        #expect(result.text == "delivered to maildir; forwarded")
        #expect(fixture.mailbox("alice").count == 1 && fixture.mailbox("bob").count == 1)
        #expect(fixture.mailbox("alice").first?.hasPrefix("Return-Path: <sender@remote.example>\nX-Original-To: Team@example.test\nDelivered-To: Team@example.test\n") == true)
        #expect(
            report.forwarded == [
                ForwardedMail(
                    originalIndex: 0, sender: "sender@remote.example",
                    recipients: [QueueRecipient(address: "remote@elsewhere.example", originalAddress: "Team@example.test", notify: [.failure])],
                    envelopeID: "E1", returnContent: nil, headerLines: ["Delivered-To: Team@example.test"])
            ])

        // NOTIFY=SUCCESS alone becomes NEVER for the forwarded copies.
        let success = try await fixture.deliver(["team@example.test"], notify: [.success])
        #expect(success.forwarded.first?.recipients.first?.notify == [.never])

        // Quoted and bracketed destinations, comments, and the postmaster alias.
        _ = try await fixture.deliver(["quoted@example.test", "postmaster@mx.example.test"])
        #expect(fixture.mailbox("alice").count == 4 && fixture.mailbox("bob").count == 3)
    }

    @Test func anAliasThatNamesItselfMeansTheUser() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["bob@example.test"])
        #expect(report.results[0].status == .sent)
        #expect(fixture.mailbox("bob").count == 1 && fixture.mailbox("alice").count == 1)
    }

    @Test func aliasLoopsAndEmptyAliasesFailClearly() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["loop1@example.test", "empty@example.test", "ghost@example.test"])
        #expect(report.results[0].status == .bounced && report.results[0].dsn == "5.4.6")
        #expect(report.results[0].text.hasPrefix("alias database loop for loop"))
        #expect(report.results[1].status == .deferred && report.results[1].text == "alias database unavailable")
        #expect(report.results[1].warning == "no recipient in alias lookup result for empty")
        #expect(report.results[2].status == .bounced && report.results[2].text == "unknown user: \"nobody-here\"")
    }

    @Test func aListWithAnOwnerGoesThroughTheQueueFromTheOwner() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["list@example.test"], notify: [.success], envid: "E2")
        #expect(report.results[0].status == .sent && report.results[0].action == .delivered)
        #expect(fixture.mailbox("alice").isEmpty, "list members are resubmitted, not delivered directly")
        let forwarded = try #require(report.forwarded.first)
        #expect(report.forwarded.count == 1)
        #expect(forwarded.sender == "owner-list@example.test")
        #expect(forwarded.envelopeID == nil)
        #expect(forwarded.recipients.map(\.address) == ["alice@example.test", "far@elsewhere.example"])
        #expect(forwarded.recipients.allSatisfy { $0.notify == [] && $0.originalAddress == nil })
    }

    @Test func includeFilesAreReadAndTheirMembersQueued() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["members@example.test", "relative@example.test"])
        #expect(report.results[0].status == .sent)
        #expect(report.forwarded.first?.sender == "sender@remote.example")
        #expect(report.forwarded.first?.recipients.map(\.address) == ["alice@example.test", "carol@remote.example", "dave@example.test"])
        #expect(report.results[1].status == .bounced && report.results[1].dsn == "5.3.5")
        #expect(report.results[1].warning == ":include:members.txt uses a relative path")

        // A world-writable include file is refused.
        chmod(fixture.directory.path + "/members.txt", 0o666)
        let writable = try await fixture.deliver(["members@example.test"])
        #expect(writable.results[0].status == .bounced && writable.results[0].warning?.contains("world writable") == true)
    }

    @Test func commandsAndFilesAreDeferredAsUnsupportedOrRestricted() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["program@example.test", "archive@example.test"])
        #expect(report.results[0].status == .deferred && report.results[0].dsn == "4.3.5")
        #expect(report.results[0].warning?.contains("delivery to command |/usr/bin/procmail -a x is not supported") == true)
        #expect(report.results[1].status == .deferred && report.results[1].warning?.contains("delivery to file /var/spool/archive") == true)

        let restricted = try LocalFixture(extra: "allow_mail_to_commands = forward\nallow_mail_to_files = include")
        let refused = try await restricted.deliver(["program@example.test", "archive@example.test"])
        #expect(refused.results.map(\.status) == [.bounced, .bounced])
        #expect(refused.results.map(\.text) == ["mail to command is restricted", "mail to file is restricted"])
        #expect(refused.results.map(\.dsn) == ["5.7.1", "5.7.1"])
    }

    @Test func unwritableAndMissingHomesDeferWithTheReason() async throws {
        let fixture = try LocalFixture()
        let report = try await fixture.deliver(["locked@example.test", "homeless@example.test"])
        let locked = report.results[0]
        #expect(locked.status == .deferred && locked.dsn == "4.2.0")
        #expect(locked.text.contains("Permission denied"), "\(locked.text)")
        #expect(locked.warning?.contains("maildir access problem for locked") == true)
        #expect(locked.warning?.contains("cannot write \(fixture.directory.path)/home/locked/Maildir/") == true)
        #expect(report.results[1].status == .deferred && report.results[1].dsn == "4.3.0")
        #expect(report.results[1].text.hasPrefix("cannot access home directory \(fixture.directory.path)/home/missing: "))
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path + "/home/missing"))
    }

    @Test func theNullSenderIsAnEmptyReturnPath() async throws {
        let fixture = try LocalFixture()
        _ = try await fixture.deliver(["alice@example.test"], sender: "")
        #expect(fixture.mailbox("alice").first?.hasPrefix("Return-Path: <>\n") == true)
    }

    @Test func mboxConfigurationsAreReportedAtStartUp() throws {
        func problem(_ text: String) -> String? {
            let configuration = Configuration(
                directory: "/nonexistent", main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
                master: MasterConfFile(path: "master.cf", bytes: []),
                host: HostFacts(hostname: "mx", interfaceAddresses: [], processID: 1))
            return LocalDeliveryAgent.Settings.mailboxStyleProblem(configuration.global)
        }
        #expect(problem("")?.contains("mail_spool_directory = /var/mail holds mbox files") == true)
        #expect(problem("home_mailbox = Mailbox")?.contains("is an mbox file") == true)
        #expect(problem("home_mailbox = Maildir/") == nil)
        #expect(problem("mail_spool_directory = /var/spool/maildirs/") == nil)
        #expect(problem("home_mailbox = Maildir/\nmailbox_command = /usr/bin/procmail")?.contains("mailbox_command") == true)
    }

    @Test func hashAliasMapsAreReadInAliasesFormat() async throws {
        let etcAliases = """
            # /etc/aliases as newaliases reads it
            postmaster: alice
            Team : alice,
                bob@example.test
            "odd name": alice
            nocolon alice
            remote@elsewhere: alice
            """
        let etc = try TemporaryDirectory()
        let path = try etc.write("aliases", etcAliases)
        let warnings = TestLocked<[String]>([])
        let table = try TableReference(parsing: "hash:" + path).open(
            TableOptions(onWarning: { warning in warnings.withLock { $0.append("\(warning)") } }, aliasFileFormat: true))
        #expect(try table.lookup("POSTMASTER") == "alice")
        #expect(try table.lookup("team")?.hasSuffix("bob@example.test") == true, "continuation lines belong to the value")
        #expect(try table.lookup("odd name") == "alice")
        #expect(try table.lookup("nocolon") == nil && table.lookup("remote@elsewhere") == nil)
        #expect(warnings.withLock { $0 }.contains { $0.contains("need name:value pair") })
        #expect(warnings.withLock { $0 }.contains { $0.contains("name must be local") })

        // The same file through the agent's alias_maps.
        let configured = try LocalFixture(extra: "alias_maps = hash:\(path)")
        let report = try await configured.deliver(["team@example.test"])
        #expect(report.results[0].status == .sent && report.results[0].action == .expanded)
        #expect(configured.mailbox("alice").count == 1 && configured.mailbox("bob").count == 1)
        // texthash: stays in postmap format, as in Postfix.
        let texthash = try TableReference(parsing: "texthash:" + path).open(TableOptions(aliasFileFormat: true))
        #expect(try texthash.lookup("postmaster:") == "alice")
    }

    @Test func theSystemUserDirectoryReadsPasswd() throws {
        let root = try #require(try SystemUserDirectory().user(named: "root"))
        #expect(root.uid == 0 && root.name == "root" && root.home.hasPrefix("/"))
        #expect(try SystemUserDirectory().user(named: "no-such-user-sealpost") == nil)
    }

    @Test func aliasValuesParseAsPostfixTokenizesThem() {
        #expect(
            AliasDestination.parse("a, B@x.example ,\"|cmd arg, more\" , /file , :include:/etc/list, \\me, Name <n@x> (comment), \"q u\"@x")
                == [
                    .address("a", noAliases: false), .address("B@x.example", noAliases: false), .command("cmd arg, more"), .file("/file"),
                    .include("/etc/list"), .address("me", noAliases: true), .address("n@x", noAliases: false),
                    .address("q u@x", noAliases: false),
                ])
        #expect(AliasDestination.parse("# only a comment\n\n ,, ").isEmpty)
        #expect(AliasDestination.parse("a\r\nb\r\n") == [.address("a", noAliases: false), .address("b", noAliases: false)])
    }

    @Test func deliveredToHeadersAreReadFromTheHeaderOnly() {
        let header = Array("Delivered-To: A@Example.test\r\nX: y\r\ndelivered-to :\r\n\tb@example.test\r\n\r\nDelivered-To: body@example.test\r\n".utf8)
        #expect(DeliveredToHeaders.parse(header) == ["a@example.test", "b@example.test"])
    }
}
