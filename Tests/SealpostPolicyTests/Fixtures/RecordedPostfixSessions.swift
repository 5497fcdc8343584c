/// SMTP sessions recorded against a real Postfix 3.7.11 (see `Recording/record.py`), replayed
/// against ``AccessPolicy`` by `RecordedSessionTests`.
///
/// Postfix ran with ``mainCf`` (plus queue and logging settings) and the tables below, one smtpd
/// service per session with the session's overrides as `-o` options; the client identity came
/// from XCLIENT (`smtpd_authorized_xclient_hosts = 127.0.0.0/8`); the recording host's resolver
/// answered every DNS question with NXDOMAIN.
enum RecordedPostfixSessions {
    /// The main.cf settings shared by every recorded session; `$TABLES` is the table directory.
    static let mainCf = """
        compatibility_level = 3.7
        myhostname = mx.example.com
        mydomain = example.com
        myorigin = $myhostname
        mydestination = $myhostname, localhost.$mydomain, localhost, example.com
        mynetworks = 10.0.0.0/8, [2001:db8::]/32
        inet_interfaces = 127.0.0.1
        inet_protocols = all
        virtual_mailbox_domains = virtual.example
        virtual_mailbox_maps = texthash:$TABLES/vmailbox
        virtual_alias_domains = alias.example catchall.example
        virtual_alias_maps = texthash:$TABLES/valias
        relay_domains = relayed.example
        relay_recipient_maps = texthash:$TABLES/relayrcpt
        local_recipient_maps = texthash:$TABLES/localusers $alias_maps
        alias_maps = texthash:$TABLES/aliases
        smtpd_restriction_classes = myclass
        myclass = reject_unauth_destination, permit
        """

    /// The tables of `$TABLES`, as Postfix read them.
    static let tables: [String: String] = [
        "vmailbox": """
            box@virtual.example virtual.example/box/
            other@virtual.example virtual.example/other/
            """,
        "valias": """
            info@alias.example box@virtual.example
            alias@virtual.example box@virtual.example
            postmaster@alias.example box@virtual.example
            @catchall.example box@virtual.example
            """,
        "relayrcpt": """
            known@relayed.example x
            @sub.relayed.example x
            """,
        "localusers": """
            alice x
            bob x
            """,
        "aliases": "root alice",
        "access": """
            blocked.example REJECT
            deferred.example DEFER
            text.example REJECT go away
            dsn.example REJECT 5.7.9 custom dsn text
            num.example 553 5.7.2 numeric reply
            num4.example 421 four twenty one
            numnodsn.example 550 plain numeric
            ok.example OK
            relay.example RELAY
            dunno.example DUNNO
            dip.example DEFER_IF_PERMIT
            dir.example DEFER_IF_REJECT
            hold.example HOLD
            discard.example DISCARD
            warn.example WARN a warning
            info.example INFO some info
            list.example permit_mynetworks, reject
            class.example myclass
            bogus.example bogus_restriction
            table.example hash:/etc/foo
            prepend.example PREPEND X-Test: yes
            redirect.example REDIRECT other@example.net
            filter.example FILTER smtp:[127.0.0.1]:10026
            bcc.example BCC spy@example.net
            digits.example 12345
            addrdsn.example REJECT 5.1.1 address dsn
            unknownaction.example FROB something
            spammer@ REJECT local part rule
            user@exact.example REJECT exact address
            user+ext@exact.example REJECT extension address
            1.2.3.4 REJECT by address
            10.9 REJECT by network
            2001:db8:1 REJECT by v6 network
            badhelo REJECT bad helo
            <> REJECT null sender
            .sub.parent.example REJECT subdomain
            """,
    ]
}

/// One recorded session: the smtpd overrides, each command with Postfix's reply lines, and the
/// access policy's log lines.
struct RecordedSession: Sendable, CustomStringConvertible {
    struct Exchange: Sendable {
        let command: String
        let reply: [String]

        init(_ command: String, _ reply: [String]) {
            self.command = command
            self.reply = reply
        }
    }

    let name: String
    let overrides: [(String, String)]
    let exchanges: [Exchange]
    let log: [String]

    var description: String { name }
}
