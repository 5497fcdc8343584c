import SealpostConfig

/// Turns the words of a restriction list into ``RestrictionItem``s, as smtpd_check.c's
/// smtpd_check_parse() and generic_checks() read them: names compared without regard to case,
/// `check_*_access` followed by its table, a table alone standing for the list's default check,
/// and restriction class names (case-sensitive, after every built-in name).
struct RestrictionParser {
    /// The parameter the list comes from, for errors.
    let parameter: String
    /// The names of `smtpd_restriction_classes` (and the built-in `reject_sender_login_mismatch`).
    let classNames: Set<String>
    /// Opens (or returns the already opened) table named by a reference.
    let openTable: (String) throws(PolicyConfigurationError) -> AccessTable

    /// Restrictions Postfix 3.7 knows that Sealpost does not implement, and whether they take an
    /// argument.
    static let unsupported: [String: Bool] = [
        "check_policy_service": true, "reject_rbl_client": true, "reject_rbl": true, "permit_dnswl_client": true,
        "reject_rhsbl_client": true, "permit_rhswl_client": true, "reject_rhsbl_reverse_client": true,
        "reject_rhsbl_helo": true, "reject_rhsbl_sender": true, "reject_rhsbl_recipient": true, "sleep": true,
        "check_client_mx_access": true, "check_client_ns_access": true, "check_client_a_access": true,
        "check_reverse_client_hostname_mx_access": true, "check_reverse_client_hostname_ns_access": true,
        "check_reverse_client_hostname_a_access": true, "check_helo_mx_access": true, "check_helo_ns_access": true,
        "check_helo_a_access": true, "check_sender_mx_access": true, "check_sender_ns_access": true,
        "check_sender_a_access": true, "check_recipient_mx_access": true, "check_recipient_ns_access": true,
        "check_recipient_a_access": true, "reject_maps_rbl": false, "reject_unverified_sender": false,
        "reject_unverified_recipient": false, "permit_mx_backup": false,
    ]

    private static let simple: [String: Restriction] = [
        "permit": .permit, "reject": .reject, "defer": .deferAll, "defer_if_permit": .deferIfPermit,
        "defer_if_reject": .deferIfReject, "warn_if_reject": .warnIfReject,
        "reject_unauth_pipelining": .rejectUnauthPipelining, "reject_plaintext_session": .rejectPlaintextSession,
        "reject_unknown_client_hostname": .rejectUnknownClientHostname, "reject_unknown_client": .rejectUnknownClientHostname,
        "reject_unknown_reverse_client_hostname": .rejectUnknownReverseClientHostname,
        "permit_inet_interfaces": .permitInetInterfaces, "permit_mynetworks": .permitMynetworks,
        "reject_invalid_helo_hostname": .rejectInvalidHeloHostname, "reject_invalid_hostname": .rejectInvalidHeloHostname,
        "reject_unknown_helo_hostname": .rejectUnknownHeloHostname, "reject_unknown_hostname": .rejectUnknownHeloHostname,
        "reject_non_fqdn_helo_hostname": .rejectNonFQDNHeloHostname, "reject_non_fqdn_hostname": .rejectNonFQDNHeloHostname,
        "permit_naked_ip_address": .permitNakedIPAddress,
        "reject_unknown_sender_domain": .rejectUnknownSenderDomain, "reject_unknown_address": .rejectUnknownSenderDomain,
        "reject_non_fqdn_sender": .rejectNonFQDNSender, "reject_unlisted_sender": .rejectUnlistedSender,
        "reject_authenticated_sender_login_mismatch": .senderLogin(.authenticated),
        "reject_known_sender_login_mismatch": .senderLogin(.known),
        "reject_unauthenticated_sender_login_mismatch": .senderLogin(.unauthenticated),
        "permit_auth_destination": .permitAuthDestination, "reject_unauth_destination": .rejectUnauthDestination,
        "defer_unauth_destination": .deferUnauthDestination, "check_relay_domains": .checkRelayDomains,
        "permit_sasl_authenticated": .permitSASLAuthenticated,
        "permit_tls_all_clientcerts": .permitTLSAllClientCertificates, "permit_tls_clientcerts": .permitTLSClientCertificates,
        "reject_unknown_recipient_domain": .rejectUnknownRecipientDomain, "reject_non_fqdn_recipient": .rejectNonFQDNRecipient,
        "reject_unlisted_recipient": .rejectUnlistedRecipient, "check_recipient_maps": .rejectUnlistedRecipient,
        "reject_multi_recipient_bounce": .rejectMultiRecipientBounce,
    ]

    /// Parses a list at start-up: every problem is an error.
    func parse(_ words: [String]) throws(PolicyConfigurationError) -> [RestrictionItem] {
        var items: [RestrictionItem] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            let name = word.lowercased()
            index += 1
            if let restriction = Self.simple[name] {
                items.append(RestrictionItem(name: word, restriction: restriction))
            } else if let check = AccessCheck(rawValue: name) {
                let table = try argument(of: word, words, &index)
                items.append(RestrictionItem(name: word, restriction: .access(check, try openTable(table))))
            } else if name == "check_ccert_access" {
                let spec = try argument(of: word, words, &index)
                let (table, order) = try certificateSearch(spec)
                items.append(RestrictionItem(name: word, restriction: .clientCertificateAccess(try openTable(table), searchOrder: order)))
            } else if word.first == "{" || word.contains(":") {
                // smtpd_check.c, generic_checks(): "type:table" alone means the list's check.
                items.append(RestrictionItem(name: word, restriction: .bareTable(try openTable(word))))
            } else if classNames.contains(word) {
                items.append(RestrictionItem(name: word, restriction: .restrictionClass(word)))
            } else if let takesArgument = Self.unsupported[name] {
                let shown = takesArgument && index < words.count ? "\(word) \(words[index])" : word
                throw PolicyConfigurationError(
                    parameter: parameter, value: word,
                    "restriction \"\(shown)\" is not supported by Sealpost; remove it or replace it with a supported restriction")
            } else {
                throw PolicyConfigurationError(
                    parameter: parameter, value: word,
                    "unknown smtpd restriction: \"\(word)\"; expected a restriction name, a restriction class named in "
                        + "smtpd_restriction_classes, or a type:table lookup table")
            }
        }
        return items
    }

    private func argument(of command: String, _ words: [String], _ index: inout Int) throws(PolicyConfigurationError) -> String {
        // smtpd_check.c, is_map_command(): "restriction %s: bad argument \"%s\": need maptype:mapname".
        guard index < words.count, words[index].contains(":") else {
            let shown = index < words.count ? words[index] : "(none)"
            throw PolicyConfigurationError(
                parameter: parameter, value: command,
                "restriction \(command): bad argument \"\(shown)\": need maptype:mapname")
        }
        defer { index += 1 }
        return words[index]
    }

    // map_search.c, map_search_create(): "type:name", or "{ type:name, { search_order = name, … } }"
    // with cert_fingerprint and pubkey_fingerprint (the default order) as search names.
    private func certificateSearch(_ spec: String) throws(PolicyConfigurationError) -> (String, [CertificateKey]) {
        let defaultOrder: [CertificateKey] = [.certificateFingerprint, .publicKeyFingerprint]
        guard spec.first == "{" else { return (spec, defaultOrder) }
        func failure(_ why: String) -> PolicyConfigurationError {
            PolicyConfigurationError(
                parameter: parameter, value: spec,
                "check_ccert_access: \(why); expected type:table or { type:table, { search_order = cert_fingerprint, pubkey_fingerprint } }")
        }
        guard case .success(let inside) = PostfixList.unbrace(spec) else { throw failure("malformed map specification") }
        var words = PostfixList.split(inside)
        guard !words.isEmpty else { throw failure("empty map specification") }
        let table = words.removeFirst()
        guard table.contains(":") else { throw failure("expected maptype:mapname instead of \"\(table)\"") }
        var order = defaultOrder
        for word in words {
            guard case .success(let attribute) = PostfixList.unbraceIfGrouped(word) else { throw failure("malformed map attribute") }
            guard let equals = attribute.firstIndex(of: "=") else { throw failure("malformed map attribute \"\(attribute)\"") }
            let attributeName = PostfixList.trimmed(String(attribute[..<equals]))
            guard attributeName.lowercased() == "search_order" else { throw failure("unknown map attribute \"\(attributeName)\"") }
            order = []
            for searchName in PostfixList.split(String(attribute[attribute.index(after: equals)...])) {
                guard let key = CertificateKey(rawValue: searchName) else {
                    throw failure("unknown search type \"\(searchName)\" (Sealpost, like Postfix 3.7, matches cert_fingerprint and pubkey_fingerprint)")
                }
                order.append(key)
            }
        }
        return (table, order)
    }

    /// Parses a restriction list found as an access table result, when requests are evaluated:
    /// problems become ``Restriction/invalid(warning:)`` items, as Postfix only finds them then.
    static func parseResult(_ words: [String], classNames: Set<String>) -> [RestrictionItem] {
        var items: [RestrictionItem] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            let name = word.lowercased()
            index += 1
            if let restriction = simple[name] {
                items.append(RestrictionItem(name: word, restriction: restriction))
            } else if AccessCheck(rawValue: name) != nil || name == "check_ccert_access" {
                // The value has no ':' (check_table_result() refused it), so no table follows.
                let shown = index < words.count ? words[index] : "(null)"
                items.append(RestrictionItem(name: word, restriction: .invalid(warning: "restriction \(word): bad argument \"\(shown)\": need maptype:mapname")))
                index = words.count
            } else if classNames.contains(word) {
                items.append(RestrictionItem(name: word, restriction: .restrictionClass(word)))
            } else if unsupported[name] != nil {
                items.append(RestrictionItem(name: word, restriction: .invalid(warning: "restriction \"\(word)\" is not supported by Sealpost")))
            } else {
                items.append(RestrictionItem(name: word, restriction: .invalid(warning: "unknown smtpd restriction: \"\(word)\"")))
            }
        }
        return items
    }
}
