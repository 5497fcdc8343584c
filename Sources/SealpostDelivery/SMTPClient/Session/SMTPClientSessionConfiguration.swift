import SealpostTLS

/// What one client session needs to know, decided by the agent before it connects: the peer's
/// name for texts, the effective TLS level for this destination, credentials, limits.
public struct SMTPClientSessionConfiguration: Sendable {
    public var protocolKind: MailClientProtocol
    public var heloName: String
    /// `myhostname`: a server that answers EHLO with it is ourselves.
    public var myHostname: String
    /// `host[addr]`, as Postfix names the peer in its texts (`session->namaddr`).
    public var peerName: String
    /// The request's next hop, for "mail for x loops back to myself".
    public var nexthop: String
    /// The effective level: the policy table's, else the default; `.none` for a plaintext retry.
    public var tlsLevel: TLSClientSecurityLevel
    /// TLS was started when the connection was made (`smtp_tls_wrappermode`).
    public var wrapperMode: Bool
    public var skip5xxGreeting: Bool
    public var neverSendEHLO: Bool
    public var alwaysSendEHLO: Bool
    /// This server is one of the most preferred MX hosts (a loop then bounces rather than defers).
    public var isBestMX: Bool
    /// Whether a server that answers EHLO with `myhostname` is a loop: Postfix checks only SMTP
    /// to port 25, so that a content filter on another port of this host works.
    public var loopDetection: Bool
    public var noteStartTLSOffer: Bool
    public var credentials: SASLCredentials?
    /// `smtp_sasl_security_options`, `smtp_sasl_tls_security_options`, `smtp_sasl_mechanism_filter`.
    public var saslPlaintextOptions: [String]
    public var saslTLSOptions: [String]
    public var saslMechanismFilter: [String]
    public var saslSoftBounce: Bool
    public var timeouts: SMTPClientSettings.Timeouts

    public init(
        protocolKind: MailClientProtocol = .smtp, heloName: String, myHostname: String, peerName: String, nexthop: String,
        tlsLevel: TLSClientSecurityLevel = .none, wrapperMode: Bool = false, skip5xxGreeting: Bool = true,
        neverSendEHLO: Bool = false, alwaysSendEHLO: Bool = true, isBestMX: Bool = true, loopDetection: Bool = true,
        noteStartTLSOffer: Bool = false,
        credentials: SASLCredentials? = nil, saslPlaintextOptions: [String] = ["noplaintext", "noanonymous"],
        saslTLSOptions: [String] = ["noanonymous"], saslMechanismFilter: [String] = [], saslSoftBounce: Bool = true,
        timeouts: SMTPClientSettings.Timeouts = .init()
    ) {
        self.protocolKind = protocolKind
        self.heloName = heloName
        self.myHostname = myHostname
        self.peerName = peerName
        self.nexthop = nexthop
        self.tlsLevel = tlsLevel
        self.wrapperMode = wrapperMode
        self.skip5xxGreeting = skip5xxGreeting
        self.neverSendEHLO = neverSendEHLO
        self.alwaysSendEHLO = alwaysSendEHLO
        self.isBestMX = isBestMX
        self.loopDetection = loopDetection
        self.noteStartTLSOffer = noteStartTLSOffer
        self.credentials = credentials
        self.saslPlaintextOptions = saslPlaintextOptions
        self.saslTLSOptions = saslTLSOptions
        self.saslMechanismFilter = saslMechanismFilter
        self.saslSoftBounce = saslSoftBounce
        self.timeouts = timeouts
    }
}

/// A user name and password from `smtp_sasl_password_maps`.
public struct SASLCredentials: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// Parses a table value `username:password` (the password may contain colons).
    public init?(tableValue: String) {
        guard let colon = tableValue.firstIndex(of: ":") else { return nil }
        username = String(tableValue[..<colon])
        password = String(tableValue[tableValue.index(after: colon)...])
    }

    /// Never prints the password.
    public var description: String { "\(username):********" }
}
