import SealpostConfig
import Testing

@testable import SealpostPolicy

/// Lists that Postfix would refuse (fatal at start-up) or fail on every request ("451 4.3.5
/// Server configuration error") stop Sealpost at start-up, naming the parameter and the place.
@Suite struct StartupErrorTests {
    static func error(_ settings: String, master: String = "", service: String? = nil) throws -> PolicyConfigurationError? {
        let environment = try PolicyTestEnvironment()
        let configuration = try environment.configuration(settings, master: master)
        do {
            _ = try AccessPolicy(
                configuration: configuration, service: service.flatMap { configuration.service($0) }, dns: StaticDNSResolver())
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("smtpd_client_restrictions = frobnicate", "smtpd_client_restrictions", "unknown smtpd restriction: \"frobnicate\""),
        ("smtpd_sender_restrictions = check_sender_access", "smtpd_sender_restrictions",
         "restriction check_sender_access: bad argument \"(none)\": need maptype:mapname"),
        ("smtpd_sender_restrictions = check_sender_access reject", "smtpd_sender_restrictions",
         "restriction check_sender_access: bad argument \"reject\": need maptype:mapname"),
        ("smtpd_helo_restrictions = check_helo_access nis:mail.helo", "smtpd_helo_restrictions", "unsupported lookup table type \"nis\""),
        ("smtpd_client_restrictions = check_client_access hash:/nonexistent/access", "smtpd_client_restrictions",
         "cannot open access table hash:/nonexistent/access"),
        ("smtpd_client_restrictions = reject_rbl_client zen.spamhaus.org", "smtpd_client_restrictions",
         "restriction \"reject_rbl_client zen.spamhaus.org\" is not supported by Sealpost"),
        ("smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:10023", "smtpd_recipient_restrictions",
         "restriction \"check_policy_service inet:127.0.0.1:10023\" is not supported by Sealpost"),
        ("smtpd_restriction_classes = myclass, missing", "smtpd_restriction_classes", "restriction class `missing' needs a definition"),
        ("smtpd_restriction_classes = a, b\na = permit_mynetworks, b\nb = a", "a", "restriction class `a' refers to itself (a → b → a)"),
        ("smtpd_data_restrictions = inline:{ x=REJECT }", "smtpd_data_restrictions", "this list has no default access check"),
        ("smtpd_client_restrictions = check_ccert_access { inline:{x=OK}, { search_order = subject_cn } }", "smtpd_client_restrictions",
         "unknown search type \"subject_cn\""),
        ("mynetworks = 2001:db8::/32", "mynetworks", "write IPv6 addresses and networks in brackets, as [2001:db8::]/32"),
        ("mynetworks = 10.0.0.1/8", "mynetworks",
         "non-null host address bits in \"10.0.0.1/8\", perhaps you should use \"10.0.0.0/8\" instead"),
        ("mynetworks = 10.0.0.0/33", "mynetworks", "bad net/mask pattern: \"10.0.0.0/33\""),
        ("unknown_address_tempfail_action = maybe", "unknown_address_tempfail_action", "expected defer_if_permit or defer"),
    ])
    func refusesBadLists(_ settings: String, _ parameter: String, _ message: String) throws {
        let error = try #require(try Self.error(settings))
        #expect(error.parameter == parameter)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location?.file.hasSuffix("main.cf") == true)
        #expect(error.diagnostic.severity == .error)
    }

    // smtpd_check.c, smtpd_check_init() and fail_required(), recorded from Postfix 3.7.11:
    // "fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at
    // least one working instance of: reject_unauth_destination, defer_unauth_destination, reject,
    // defer, defer_if_permit or check_relay_domains".
    @Test(arguments: [
        "smtpd_relay_restrictions = permit_mynetworks\nsmtpd_recipient_restrictions = permit_mynetworks",
        "smtpd_relay_restrictions = permit, reject\nsmtpd_recipient_restrictions = warn_if_reject reject_unauth_destination",
        "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions =",
        "smtpd_restriction_classes = lax\nlax = permit_mynetworks\nsmtpd_relay_restrictions = lax",
    ])
    func requiresARelayCheck(_ settings: String) throws {
        let error = try #require(try Self.error(settings))
        #expect(error.parameter == "smtpd_relay_restrictions")
        #expect(
            error.message
                == "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of: "
                + "reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains")
    }

    @Test(arguments: [
        "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination",
        "smtpd_relay_restrictions = defer_if_permit",
        "smtpd_restriction_classes = strict\nstrict = permit_mynetworks, reject\nsmtpd_relay_restrictions = strict",
        "smtpd_relay_restrictions = warn_if_reject reject_unauth_destination, check_relay_domains",
    ])
    func acceptsListsWithARelayCheck(_ settings: String) throws {
        #expect(try Self.error(settings) == nil)
    }

    @Test func errorsInServiceOverridesNameMasterCf() throws {
        let master = """
            smtp      inet  n       -       n       -       -       smtpd
            submission inet n       -       n       -       -       smtpd
              -o smtpd_relay_restrictions=permit_sasl_authenticated,rejekt
            """
        let error = try #require(try Self.error("", master: master, service: "submission/inet"))
        #expect(error.parameter == "smtpd_relay_restrictions")
        #expect(error.location == SourceLocation(file: error.location?.file ?? "", line: 3))
        #expect(error.location?.file.hasSuffix("master.cf") == true)
        #expect(error.description.hasSuffix("master.cf:3: smtpd_relay_restrictions: unknown smtpd restriction: \"rejekt\"; expected a restriction name, a restriction class named in smtpd_restriction_classes, or a type:table lookup table"))
    }

    @Test func restrictionNamesIgnoreCaseButClassNamesDoNot() throws {
        #expect(try Self.error("smtpd_client_restrictions = Permit_MyNetworks, REJECT") == nil)
        let error = try #require(try Self.error("smtpd_restriction_classes = Strict\nStrict = reject\nsmtpd_client_restrictions = strict"))
        #expect(error.message.hasPrefix("unknown smtpd restriction: \"strict\""))
    }
}
