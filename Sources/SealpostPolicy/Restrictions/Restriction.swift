import SealpostConfig

/// One access table as a restriction names it: the text as written (for warnings) and the opened
/// tables.
struct AccessTable: Sendable {
    /// The reference as written in the restriction (`hash:/etc/postfix/access`).
    let name: String
    let tables: TableList
}

/// What a certificate check looks up, in order (check_ccert_access's `search_order`).
enum CertificateKey: String, Sendable, Hashable {
    case certificateFingerprint = "cert_fingerprint"
    case publicKeyFingerprint = "pubkey_fingerprint"
}

/// Which `check_*_access` a table belongs to; a table written alone in a list takes the list's
/// kind (smtpd_check.c's `def_acl`).
enum AccessCheck: String, Sendable, Hashable {
    case client = "check_client_access"
    case reverseClient = "check_reverse_client_hostname_access"
    case helo = "check_helo_access"
    case sender = "check_sender_access"
    case recipient = "check_recipient_access"
    case etrn = "check_etrn_access"
    case sasl = "check_sasl_access"
}

/// The sender login checks (smtpd_sender_login_maps).
enum SenderLoginCheck: String, Sendable, Hashable {
    case authenticated = "reject_authenticated_sender_login_mismatch"
    case known = "reject_known_sender_login_mismatch"
    case unauthenticated = "reject_unauthenticated_sender_login_mismatch"
}

/// One restriction of a list, parsed (smtpd_check.c, generic_checks()).
indirect enum Restriction: Sendable {
    // Generic.
    case permit
    case reject
    case deferAll
    case deferIfPermit
    case deferIfReject
    case warnIfReject
    case rejectUnauthPipelining
    case rejectPlaintextSession
    // Client.
    case rejectUnknownClientHostname
    case rejectUnknownReverseClientHostname
    case permitInetInterfaces
    case permitMynetworks
    case access(AccessCheck, AccessTable)
    /// A table written without a `check_*_access` in front: the list's default check.
    case bareTable(AccessTable)
    case clientCertificateAccess(AccessTable, searchOrder: [CertificateKey])
    // HELO.
    case rejectInvalidHeloHostname
    case rejectUnknownHeloHostname
    case rejectNonFQDNHeloHostname
    case permitNakedIPAddress
    // Sender.
    case rejectUnknownSenderDomain
    case rejectNonFQDNSender
    case rejectUnlistedSender
    case senderLogin(SenderLoginCheck)
    // Recipient.
    case permitAuthDestination
    case rejectUnauthDestination
    case deferUnauthDestination
    case checkRelayDomains
    case permitSASLAuthenticated
    case permitTLSAllClientCertificates
    case permitTLSClientCertificates
    case rejectUnknownRecipientDomain
    case rejectNonFQDNRecipient
    case rejectUnlistedRecipient
    case rejectMultiRecipientBounce
    // Lists.
    case restrictionClass(String)
    /// Something that is not a usable restriction, met in an access table result: Postfix logs
    /// the warning and answers "451 4.3.5 Server configuration error".
    case invalid(warning: String)
}

/// A restriction with the name it was written as (for logging and warnings).
struct RestrictionItem: Sendable {
    let name: String
    let restriction: Restriction
}
