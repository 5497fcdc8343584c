import SealpostConfig
import Testing

@testable import SealpostPolicy

/// Restrictions and behaviours the recordings cannot show (TLS, DNS answers, timing of
/// delay_reject, reply footers from tables), checked against smtpd_check.c's texts.
@Suite struct RestrictionTests {
    static let certificate = TLSSessionFacts(
        peerCertificatePresent: true, peerCertificateVerified: false, subjectCommonName: "client.example",
        issuerCommonName: "Example CA", certificateFingerprint: "AA:BB:CC", publicKeyFingerprint: "11:22:33")

    // MARK: - TLS client certificates

    @Test func permitTLSClientcertsLooksUpBothFingerprints() async throws {
        for fingerprint in ["AA:BB:CC", "11:22:33"] {
            let policy = try PolicyTestEnvironment().policy(
                "relay_clientcerts = inline:{ \(fingerprint)=client.example }\nsmtpd_relay_restrictions = permit_tls_clientcerts, reject_unauth_destination")
            var driver = PolicyDriver(policy)
            driver.session.tls = Self.certificate
            await driver.mail("s@example.org")
            #expect(await driver.rcpt("r@remote.test") == "250 2.1.5 Ok", "\(fingerprint)")
        }
        let policy = try PolicyTestEnvironment().policy(
            "relay_clientcerts = inline:{ DD:EE:FF=other }\nsmtpd_relay_restrictions = permit_tls_clientcerts, reject_unauth_destination")
        var unknown = PolicyDriver(policy)
        unknown.session.tls = Self.certificate
        await unknown.mail("s@example.org")
        #expect(await unknown.rcpt("r@remote.test") == "554 5.7.1 <r@remote.test>: Relay access denied")
        // A verified certificate is not enough for permit_tls_clientcerts.
        var verified = PolicyDriver(policy)
        verified.session.tls = TLSSessionFacts(peerCertificatePresent: true, peerCertificateVerified: true, certificateFingerprint: "00")
        await verified.mail("s@example.org")
        #expect(await verified.rcpt("r@remote.test").hasPrefix("554"))
    }

    @Test func permitTLSAllClientcertsNeedsAVerifiedCertificate() async throws {
        let policy = try PolicyTestEnvironment().policy(
            "smtpd_tls_ask_ccert = yes\nsmtpd_relay_restrictions = permit_tls_all_clientcerts, reject_unauth_destination")
        for (tls, accepted) in [
            (TLSSessionFacts(peerCertificatePresent: true, peerCertificateVerified: true), true),
            (Self.certificate, false), (TLSSessionFacts(), false), (nil, false),
        ] as [(TLSSessionFacts?, Bool)] {
            var driver = PolicyDriver(policy)
            driver.session.tls = tls
            await driver.mail("s@example.org")
            #expect(await driver.rcpt("r@remote.test").hasPrefix("250") == accepted)
            #expect(driver.log.allSatisfy { !$0.hasPrefix("warning:") })
        }
    }

    @Test func certificateChecksWarnWhenNoCertificateIsAskedFor() async throws {
        let policy = try PolicyTestEnvironment().policy(
            "smtpd_relay_restrictions = permit_tls_clientcerts, check_ccert_access inline:{x=OK}, reject_unauth_destination")
        var driver = PolicyDriver(policy)
        driver.session.tls = TLSSessionFacts()
        await driver.mail("s@example.org")
        await driver.rcpt("r@remote.test")
        #expect(Array(driver.log.prefix(2)) == [
            "warning: permit_tls_clientcerts is requested, but \"smtpd_tls_ask_ccert = no\"",
            "warning: check_ccert_access is requested, but \"smtpd_tls_ask_ccert = no\"",
        ])
    }

    @Test func checkCcertAccessNamesTheCommonNameAndFollowsTheSearchOrder() async throws {
        let table = "inline:{ {AA:BB:CC=REJECT revoked}, {11:22:33=OK} }"
        var driver = PolicyDriver(try PolicyTestEnvironment().policy("smtpd_client_restrictions = check_ccert_access \(table)"))
        driver.session.tls = Self.certificate
        await driver.mail("s@example.org")
        #expect(await driver.rcpt("alice@example.com") == "554 5.7.1 <client.example>: Client certificate rejected: revoked")

        let reversed = "smtpd_client_restrictions = check_ccert_access { \(table), { search_order = pubkey_fingerprint, cert_fingerprint } }"
        var keyFirst = PolicyDriver(try PolicyTestEnvironment().policy(reversed + ", reject"))
        keyFirst.session.tls = Self.certificate
        await keyFirst.mail("s@example.org")
        // OK from the public key ends the client list before its "reject".
        #expect(await keyFirst.rcpt("alice@example.com") == "250 2.1.5 Ok")

        var dunnoThenKey = PolicyDriver(
            try PolicyTestEnvironment().policy("smtpd_client_restrictions = check_ccert_access inline:{ {AA:BB:CC=DUNNO}, {11:22:33=REJECT by key} }"))
        dunnoThenKey.session.tls = Self.certificate
        await dunnoThenKey.mail("s@example.org")
        #expect(await dunnoThenKey.rcpt("alice@example.com") == "554 5.7.1 <client.example>: Client certificate rejected: by key")
    }

    @Test func rejectPlaintextSession() async throws {
        let policy = try PolicyTestEnvironment().policy("smtpd_sender_restrictions = reject_plaintext_session")
        var plain = PolicyDriver(policy)
        await plain.mail("s@example.org")
        #expect(await plain.rcpt("alice@example.com") == "450 4.7.1 Session encryption is required")
        var encrypted = PolicyDriver(policy)
        encrypted.session.tls = TLSSessionFacts()
        await encrypted.mail("s@example.org")
        #expect(await encrypted.rcpt("alice@example.com") == "250 2.1.5 Ok")
    }

    @Test func rejectUnauthPipelining() async throws {
        var driver = PolicyDriver(try PolicyTestEnvironment().policy("smtpd_data_restrictions = reject_unauth_pipelining"))
        await driver.mail("s@example.org")
        await driver.rcpt("alice@example.com")
        #expect(await driver.data().hasPrefix("354"))
        driver.session.improperPipelining = true
        #expect(await driver.data() == "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining")
    }

    // MARK: - DNS

    @Test func rejectUnknownHeloHostnameAsksForAddressesOrMX() async throws {
        var dns = StaticDNSResolver()
        dns.answers[StaticDNSResolver.key("mx-only.example", .mx)] = .found(["mail.example"])
        dns.answers[StaticDNSResolver.key("v6.example", .aaaa)] = .found(["2001:db8::1"])
        dns.answers[StaticDNSResolver.key("flaky.example", .a)] = .temporaryFailure
        dns.answers[StaticDNSResolver.key("broken.example", .a)] = .malformed
        dns.answers[StaticDNSResolver.key("nullmx.example", .mx)] = .nullMX
        let settings = "smtpd_helo_restrictions = reject_unknown_helo_hostname"
        let cases: [(String, String)] = [
            ("mx-only.example", "250 2.1.5 Ok"), ("v6.example", "250 2.1.5 Ok"), ("nullmx.example", "250 2.1.5 Ok"),
            ("nowhere.example", "450 4.7.1 <nowhere.example>: Helo command rejected: Host not found"),
            ("broken.example", "450 4.7.1 <broken.example>: Helo command rejected: Malformed DNS server reply"),
            // A temporary failure only defers what would otherwise be permitted.
            ("flaky.example", "450 4.7.1 <flaky.example>: Helo command rejected: Host not found"),
        ]
        for (helo, reply) in cases {
            var driver = PolicyDriver(try PolicyTestEnvironment().policy(settings, dns: dns))
            await driver.ehlo(helo)
            await driver.mail("s@example.org")
            #expect(await driver.rcpt("alice@example.com") == reply, "\(helo)")
        }
        // defer_if_permit: a later reject wins over the temporary failure.
        var strict = PolicyDriver(try PolicyTestEnvironment().policy("smtpd_helo_restrictions = reject_unknown_helo_hostname, reject", dns: dns))
        await strict.ehlo("flaky.example")
        await strict.mail("s@example.org")
        #expect(await strict.rcpt("alice@example.com") == "554 5.7.1 <flaky.example>: Helo command rejected: Access denied")
        // unknown_helo_hostname_tempfail_action = defer: the temporary failure answers at once.
        var deferring = PolicyDriver(
            try PolicyTestEnvironment().policy(
                "unknown_helo_hostname_tempfail_action = defer\nsmtpd_helo_restrictions = reject_unknown_helo_hostname, reject", dns: dns))
        await deferring.ehlo("flaky.example")
        await deferring.mail("s@example.org")
        #expect(await deferring.rcpt("alice@example.com") == "450 4.7.1 <flaky.example>: Helo command rejected: Host not found")
    }

    @Test func rejectUnknownSenderAndRecipientDomains() async throws {
        var dns = StaticDNSResolver()
        dns.answers[StaticDNSResolver.key("mx.test", .mx)] = .found(["mail.mx.test"])
        dns.answers[StaticDNSResolver.key("a.test", .a)] = .found(["192.0.2.1"])
        dns.answers[StaticDNSResolver.key("null.test", .mx)] = .nullMX
        dns.answers[StaticDNSResolver.key("flaky.test", .mx)] = .temporaryFailure
        dns.answers[StaticDNSResolver.key("xn--bcher-kva.test", .mx)] = .found(["mail.xn--bcher-kva.test"])
        let settings = """
            smtpd_sender_restrictions = reject_unknown_sender_domain
            smtpd_relay_restrictions = permit_mynetworks, reject_unknown_recipient_domain, permit
            smtpd_recipient_restrictions = reject_unauth_destination
            """
        let policy = try PolicyTestEnvironment().policy(settings, dns: dns)
        let senders: [(String, String)] = [
            ("s@mx.test", "250 2.1.5 Ok"), ("s@a.test", "250 2.1.5 Ok"), ("s@[192.0.2.1]", "250 2.1.5 Ok"),
            ("s@example.com", "250 2.1.5 Ok"), ("s@bücher.test", "250 2.1.5 Ok"),
            ("s@null.test", "550 5.7.27 <s@null.test>: Sender address rejected: Domain null.test does not accept mail (nullMX)"),
            ("s@nowhere.test", "450 4.1.8 <s@nowhere.test>: Sender address rejected: Domain not found"),
            ("s@flaky.test", "450 4.1.8 <s@flaky.test>: Sender address rejected: Domain not found"),
        ]
        for (sender, reply) in senders {
            var driver = PolicyDriver(policy)
            driver.session.smtputf8 = true
            await driver.mail(sender)
            #expect(await driver.rcpt("alice@example.com") == reply, "\(sender)")
        }
        var driver = PolicyDriver(policy)
        await driver.mail("s@mx.test")
        #expect(await driver.rcpt("r@null.test") == "556 5.1.10 <r@null.test>: Recipient address rejected: Domain null.test does not accept mail (nullMX)")
        #expect(await driver.rcpt("r@nowhere.test") == "450 4.1.2 <r@nowhere.test>: Recipient address rejected: Domain not found")
        #expect(await driver.rcpt("r@flaky.test") == "554 5.7.1 <r@flaky.test>: Relay access denied")
        #expect(await driver.rcpt("alice@example.com") == "250 2.1.5 Ok")
    }

    @Test func multiTypeLookupsReportTheHighestStatus() async {
        var dns = StaticDNSResolver()
        dns.answers[StaticDNSResolver.key("x.test", .a)] = .temporaryFailure
        dns.answers[StaticDNSResolver.key("x.test", .aaaa)] = .notFound
        dns.answers[StaticDNSResolver.key("x.test", .mx)] = .nullMX
        #expect(await dns.lookup("x.test", types: [.a, .aaaa, .mx], stopAt: [.found]) == .temporaryFailure)
        #expect(await dns.lookup("x.test", types: [.mx, .a, .aaaa], stopAt: [.found, .nullMX]) == .nullMX)
        #expect(await dns.lookup("x.test", types: [.aaaa, .mx], stopAt: [.found]) == .nullMX)
    }

    // MARK: - Client names

    @Test func unknownClientHostnameCodes() async throws {
        let policy = try PolicyTestEnvironment().policy("unknown_client_reject_code = 550\nsmtpd_client_restrictions = reject_unknown_client_hostname")
        let cases: [(ClientNameStatus, String)] = [
            (.ok, "250 2.1.5 Ok"),
            (.temporaryFailure, "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.40]"),
            (.permanentFailure, "550 5.7.25 Client host rejected: cannot find your hostname, [192.0.2.40]"),
            (.forged, "550 5.7.25 Client host rejected: cannot find your hostname, [192.0.2.40]"),
        ]
        for (status, reply) in cases {
            var driver = PolicyDriver(policy, client: ClientIdentity(address: "192.0.2.40", name: status == .ok ? "ok.example" : "unknown", nameStatus: status, reverseName: "ptr.example", reverseNameStatus: .ok))
            await driver.mail("s@example.org")
            #expect(await driver.rcpt("alice@example.com") == reply)
        }
    }

    @Test func clientHostnameVerification() async {
        var dns = StaticDNSResolver()
        dns.hostnames = [
            "192.0.2.1": .found(["good.example"]), "192.0.2.2": .found(["forged.example"]), "192.0.2.3": .temporaryFailure,
            "192.0.2.4": .found(["192.0.2.4"]), "192.0.2.5": .found(["flaky.example"]), "192.0.2.6": .found(["bad_name!"]),
            "2001:db8::1": .found(["six.example"]),
        ]
        dns.addresses = [
            "good.example": .found(["192.0.2.1", "2001:db8::9"]), "forged.example": .found(["192.0.2.99"]),
            "flaky.example": .temporaryFailure, "six.example": .found(["2001:DB8:0:0::1"]),
        ]
        let verifier = ClientHostnameVerifier(resolver: dns)
        let good = await verifier.identify(address: "192.0.2.1", port: "4711")
        #expect(good.client == ClientIdentity(address: "192.0.2.1", port: "4711", name: "good.example", nameStatus: .ok))
        #expect(good.warnings.isEmpty)
        let forged = await verifier.identify(address: "192.0.2.2")
        #expect(forged.client.name == "unknown" && forged.client.nameStatus == .forged)
        #expect(forged.client.reverseName == "forged.example" && forged.client.reverseNameStatus == .ok)
        #expect(forged.warnings.map(\.description) == ["warning: hostname forged.example does not resolve to address 192.0.2.2"])
        let temporary = await verifier.identify(address: "192.0.2.3")
        #expect(temporary.client.nameStatus == .temporaryFailure && temporary.client.reverseNameStatus == .temporaryFailure)
        let numeric = await verifier.identify(address: "192.0.2.4")
        #expect(numeric.client.nameStatus == .permanentFailure)
        #expect(numeric.warnings.map(\.description) == ["warning: numeric hostname: 192.0.2.4"])
        let flaky = await verifier.identify(address: "192.0.2.5")
        #expect(flaky.client.nameStatus == .temporaryFailure && flaky.client.reverseName == "flaky.example")
        #expect((await verifier.identify(address: "192.0.2.6")).client.reverseNameStatus == .permanentFailure)
        #expect((await verifier.identify(address: "192.0.2.7")).client == ClientIdentity(address: "192.0.2.7"))
        #expect((await verifier.identify(address: "2001:db8::1")).client.name == "six.example")
        let off = await ClientHostnameVerifier(resolver: dns, lookupEnabled: false).identify(address: "192.0.2.1")
        #expect(off.client.name == "unknown" && off.client.nameStatus == .permanentFailure)
    }

    // MARK: - delay_reject

    @Test func withoutDelayRejectEachStageAnswersAtItsCommand() async throws {
        let settings = """
            smtpd_delay_reject = no
            smtpd_client_restrictions = check_client_access inline:{ {192.0.2.66=REJECT go away}, {hold.test=HOLD}, {prepend.test=PREPEND X-A: b} }
            smtpd_helo_restrictions = reject_invalid_helo_hostname
            smtpd_sender_restrictions = reject_non_fqdn_sender
            """
        let policy = try PolicyTestEnvironment().policy(settings)
        var bad = PolicyDriver(policy, client: ClientIdentity(address: "192.0.2.66", name: "bad.example", nameStatus: .ok))
        #expect(await bad.connect() == "554 5.7.1 <bad.example[192.0.2.66]>: Client host rejected: go away")
        #expect(bad.log == ["NOQUEUE: reject: CONNECT from bad.example[192.0.2.66]: 554 5.7.1 <bad.example[192.0.2.66]>: Client host rejected: go away; proto=SMTP"])

        var client = PolicyDriver(policy)
        #expect(await client.connect() == "220 mx.example.com ESMTP")
        #expect(await client.ehlo("bad!name") == "501 5.5.2 <bad!name>: Helo command rejected: Invalid name")
        #expect(client.log.last == "NOQUEUE: reject: EHLO from client.outside.test[192.0.2.9]: 501 5.5.2 <bad!name>: Helo command rejected: Invalid name; proto=SMTP helo=<bad!name>")
        await client.ehlo("good.example")
        #expect(await client.mail("nodomain") == "504 5.5.2 <nodomain>: Sender address rejected: need fully-qualified address")
        #expect(client.log.last == "NOQUEUE: reject: MAIL from client.outside.test[192.0.2.9]: 504 5.5.2 <nodomain>: Sender address rejected: need fully-qualified address; from=<nodomain> proto=ESMTP helo=<good.example>")
        #expect(await client.mail("s@example.org") == "250 2.1.0 Ok")
        #expect(await client.rcpt("alice@example.com") == "250 2.1.5 Ok")

        // Actions for the cleanup server need a mail transaction.
        var held = PolicyDriver(policy, client: ClientIdentity(address: "192.0.2.67", name: "hold.test", nameStatus: .ok))
        #expect(await held.connect() == "220 mx.example.com ESMTP")
        #expect(held.log == ["warning: access table inline:{ {192.0.2.66=REJECT go away}, {hold.test=HOLD}, {prepend.test=PREPEND X-A: b} }: with smtpd_delay_reject=no, action HOLD is always skipped in Client host or Helo command restrictions"])
        #expect(held.session.actions.isEmpty)
    }

    @Test func withDelayRejectTheClientIsJudgedAtEachRecipient() async throws {
        let policy = try PolicyTestEnvironment().policy(
            "smtpd_client_restrictions = check_client_access inline:{ {192.0.2.66=REJECT go away}, {hold.test=HOLD} }")
        var bad = PolicyDriver(policy, client: ClientIdentity(address: "192.0.2.66", name: "bad.example", nameStatus: .ok))
        #expect(await bad.connect() == "220 mx.example.com ESMTP")
        #expect(await bad.ehlo("bad.example") == "250-mx.example.com")
        #expect(await bad.mail("s@example.org") == "250 2.1.0 Ok")
        #expect(await bad.rcpt("alice@example.com") == "554 5.7.1 <bad.example[192.0.2.66]>: Client host rejected: go away")
        #expect(await bad.rcpt("bob@example.com") == "554 5.7.1 <bad.example[192.0.2.66]>: Client host rejected: go away")
        #expect(bad.log.count == 2)

        var held = PolicyDriver(policy, client: ClientIdentity(address: "192.0.2.67", name: "hold.test", nameStatus: .ok))
        await held.mail("s@example.org")
        await held.rcpt("alice@example.com")
        await held.rcpt("bob@example.com")
        #expect(held.session.actions.hold)
        // HOLD is logged once per transaction.
        #expect(held.log == ["NOQUEUE: hold: RCPT from hold.test[192.0.2.67]: <hold.test[192.0.2.67]>: Client host triggers HOLD action; from=<s@example.org> to=<alice@example.com> proto=SMTP"])
        _ = held.rset()
        #expect(held.session.actions.isEmpty)
    }

    // MARK: - Access table actions

    @Test func accessTableActionsAreReportedToTheServer() async throws {
        let table = """
            inline:{ {a.test=FILTER smtp:[127.0.0.1]:10025}, {b.test=REDIRECT other@example.net}, {c.test=BCC spy@example.net}, \
            {d.test=PREPEND X-Checked: yes}, {e.test=DISCARD}, {f.test=FILTER nocolon}, {g.test=PREPEND not a header}, \
            {h.test=REDIRECT nobody}, {i.test=HANGUP bye} }
            """
        let policy = try PolicyTestEnvironment().policy("smtpd_sender_restrictions = check_sender_access \(table)")
        func run(_ sender: String) async -> PolicyDriver {
            var driver = PolicyDriver(policy)
            await driver.mail(sender)
            await driver.rcpt("alice@example.com")
            return driver
        }
        #expect(await run("s@a.test").session.actions.filter == "smtp:[127.0.0.1]:10025")
        #expect(await run("s@b.test").session.actions.redirect == "other@example.net")
        #expect(await run("s@c.test").session.actions.bcc == ["spy@example.net"])
        #expect(await run("s@d.test").session.actions.prependedHeaders == ["X-Checked: yes"])
        let discarded = await run("s@e.test")
        #expect(discarded.session.actions.discard)
        let noColon = await run("s@f.test")
        #expect(noColon.session.actions.filter == nil)
        #expect(noColon.log.first == "warning: access table \(table.replacingOccurrences(of: "\\\n", with: "")) entry \"s@f.test\" requires transport:destination")
        #expect(await run("s@g.test").log.first?.hasSuffix("entry \"s@g.test\" requires header: text") == true)
        #expect(await run("s@h.test").log.first?.hasSuffix("entry \"s@h.test\" requires user@domain target") == true)

        var hangup = PolicyDriver(policy)
        await hangup.mail("s@i.test")
        let verdict = await policy.checkRecipient(&hangup.session, recipient: "alice@example.com")
        #expect(verdict.hangUp && verdict.reply == nil && !verdict.isAccepted)
        #expect(verdict.log.map(\.description) == ["NOQUEUE: hangup: RCPT from client.outside.test[192.0.2.9]: bye; from=<s@i.test> to=<alice@example.com> proto=SMTP"])
    }

    @Test func actionsAreUnavailableInEtrn() async throws {
        let policy = try PolicyTestEnvironment().policy("smtpd_etrn_restrictions = check_etrn_access inline:{ x.test=HOLD }")
        var driver = PolicyDriver(policy)
        #expect(await driver.etrn("x.test") == "250 Queuing started")
        #expect(driver.log == ["warning: access table inline:{ x.test=HOLD }: action HOLD is unavailable in smtpd_etrn_restrictions"])
    }

    // MARK: - Recipient validation and classes

    @Test func recipientValidationCanBeSwitchedOff() async throws {
        var unchecked = PolicyDriver(try PolicyTestEnvironment().policy("receive_override_options = no_unknown_recipient_checks"))
        await unchecked.mail("s@example.org")
        #expect(await unchecked.rcpt("nobody@example.com") == "250 2.1.5 Ok")
        #expect(await unchecked.rcpt("nobox@virtual.example") == "250 2.1.5 Ok")
        // One process: show_user_unknown_table_name applies to the resolver's alias text too.
        var terse = PolicyDriver(try PolicyTestEnvironment().policy("show_user_unknown_table_name = no"))
        await terse.mail("s@example.org")
        #expect(await terse.rcpt("noalias@alias.example") == "550 5.1.1 <noalias@alias.example>: Recipient address rejected: User unknown")
        #expect(await terse.rcpt("nobody@example.com") == "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown")
    }

    @Test func recipientValidationUsesTheCanonicalAndAliasTables() async throws {
        let policy = try PolicyTestEnvironment().policy(
            "canonical_maps = inline:{ renamed@example.com=alice@example.com }\nrecipient_canonical_maps = inline:{ @old.example.com=x }")
        var driver = PolicyDriver(policy)
        await driver.mail("s@example.org")
        #expect(await driver.rcpt("renamed@example.com") == "250 2.1.5 Ok")
        #expect(await driver.rcpt("missing@example.com").hasPrefix("550 5.1.1"))
    }

    @Test func restrictionClassesNestAndEndOnlyTheirOwnList() async throws {
        let policy = try PolicyTestEnvironment().policy(
            """
            smtpd_restriction_classes = trusted, outer
            trusted = permit_mynetworks, permit_sasl_authenticated
            outer = trusted, reject
            smtpd_relay_restrictions = outer
            smtpd_recipient_restrictions = check_recipient_access inline:{ {blocked@example.com=REJECT no} }
            """)
        var inside = PolicyDriver(policy, client: TestClients.inside)
        await inside.mail("s@example.org")
        #expect(await inside.rcpt("r@remote.test") == "250 2.1.5 Ok")
        // The permit from the class ends the relay list; the recipient list still runs.
        #expect(await inside.rcpt("blocked@example.com") == "554 5.7.1 <blocked@example.com>: Recipient address rejected: no")
        var outside = PolicyDriver(policy)
        await outside.mail("s@example.org")
        #expect(await outside.rcpt("alice@example.com") == "554 5.7.1 <alice@example.com>: Recipient address rejected: Access denied")
    }

    // MARK: - Replies

    @Test func footerFromTablesAndSoftBounceApplyToEveryReply() throws {
        let policy = try PolicyTestEnvironment().policy(
            """
            soft_bounce = yes
            smtpd_reject_footer = Contact postmaster@example.com
            smtpd_reject_footer_maps = regexp:{ {/^550 5\\.5\\.1 / \\c (see RFC 5321)} }
            """)
        let session = PolicySession(client: TestClients.outside)
        #expect(policy.replyLines("550 5.5.1 Error: nested MAIL command", session: session) == ["450 4.5.1 Error: nested MAIL command (see RFC 5321)"])
        #expect(policy.replyLines("554 5.7.1 Access denied", session: session) == ["454-4.7.1 Access denied", "454 4.7.1 Contact postmaster@example.com"])
        #expect(policy.replyLines("250 2.0.0 Ok", session: session) == ["250 2.0.0 Ok"])
        #expect(policy.replyLines("421 mx.example.com Error: timeout", session: session) == ["421-mx.example.com Error: timeout", "421 Contact postmaster@example.com"])
    }

    @Test func footerMacros() throws {
        let policy = try PolicyTestEnvironment().policy(
            #"smtpd_reject_footer = \c [$client $client_port $reverse_client_name ${sender_name}@${sender_domain} $recipient $localtime $unknown]"#,
            now: { 0 })
        var session = PolicySession(client: ClientIdentity(address: "192.0.2.9", port: "4711", name: "c.example", nameStatus: .ok))
        session.sender = "s\u{7}x@example.org"
        session.recipientAccepted("r@example.com")
        let line = try #require(policy.replyLines("550 5.1.1 No", session: session).first)
        #expect(line.hasPrefix("550 5.1.1 No [c.example[192.0.2.9] 4711 c.example s_x@example.org r@example.com "))
        #expect(line.hasSuffix(" ]"))
    }

    @Test func replyCodesAndStatusCodesAreChecked() async throws {
        let policy = try PolicyTestEnvironment().policy("reject_code = 250\nsmtpd_client_restrictions = reject")
        var driver = PolicyDriver(policy)
        await driver.mail("s@example.org")
        #expect(await driver.rcpt("alice@example.com") == "450 4.7.1 Service unavailable")
        #expect(driver.log.first == "warning: SMTP reply code configuration error: 250 5.7.1 <client.outside.test[192.0.2.9]>: Client host rejected: Access denied")
    }

    @Test func unprintableTextIsReplaced() async throws {
        let policy = try PolicyTestEnvironment().policy("smtputf8_enable = no\nsmtpd_sender_restrictions = check_sender_access inline:{ {a.test=REJECT grüße} }")
        var driver = PolicyDriver(policy)
        await driver.mail("s@a.test")
        #expect(await driver.rcpt("alice@example.com") == "554 5.7.1 <s@a.test>: Sender address rejected: gr    e")
    }

    @Test func logLineFormat() {
        var line = PolicyLogLine(
            queueID: nil, action: "reject", stage: "RCPT", client: "host.example[192.0.2.1]",
            text: "554 5.7.1 <r@x.test>: Relay access denied", sender: "s@y.test", recipient: "r@x.test", protocolName: "ESMTP",
            helo: "h.example")
        #expect(line.formatted == "NOQUEUE: reject: RCPT from host.example[192.0.2.1]: 554 5.7.1 <r@x.test>: Relay access denied; from=<s@y.test> to=<r@x.test> proto=ESMTP helo=<h.example>")
        line.queueID = "4Xyz1234"
        line.sender = ""
        line.recipient = nil
        line.helo = nil
        #expect(line.formatted == "4Xyz1234: reject: RCPT from host.example[192.0.2.1]: 554 5.7.1 <r@x.test>: Relay access denied; from=<> proto=ESMTP")
    }

    @Test func portLogging() async throws {
        let policy = try PolicyTestEnvironment().policy("smtpd_client_port_logging = yes\nsmtpd_client_restrictions = reject")
        var driver = PolicyDriver(policy, client: ClientIdentity(address: "192.0.2.9", port: "4711", name: "c.example", nameStatus: .ok))
        await driver.mail("s@example.org")
        #expect(await driver.rcpt("alice@example.com") == "554 5.7.1 <c.example[192.0.2.9]:4711>: Client host rejected: Access denied")
        #expect(driver.log.first?.hasPrefix("NOQUEUE: reject: RCPT from c.example[192.0.2.9]:4711: ") == true)
    }

    @Test func theAddressSyntaxCheckOfMailAndRcpt() throws {
        let policy = try PolicyTestEnvironment().policy()
        for address in ["user@remote.test", "user@[192.0.2.1]", "user@[IPv6:2001:db8::1]", "postmaster", "", "user%x@example.com"] {
            #expect(policy.isAcceptableAddress(address, smtputf8: false), "\(address)")
        }
        for address in ["user@192.0.2.1", "user@[999.1.1.1]", "user@exa mple.com", "user@", "-user@example.com"] {
            #expect(!policy.isAcceptableAddress(address, smtputf8: false), "\(address)")
        }
        #expect(!policy.isAcceptableAddress("user@bücher.test", smtputf8: false))
        #expect(policy.isAcceptableAddress("user@bücher.test", smtputf8: true))
    }
}
