/// Who is authenticating, as the back end needs it: addresses for Dovecot's `lip`/`rip` (and its
/// per-client penalties), and whether the session is encrypted.
public struct SASLSessionInfo: Sendable, Hashable {
    /// The client's IP address; empty when unknown.
    public var clientAddress: String
    public var clientPort: Int?
    /// The server's (local) IP address; empty when unknown.
    public var serverAddress: String
    public var serverPort: Int?
    /// Whether TLS is active: Dovecot's `secured`, and `smtpd_sasl_tls_security_options` applies.
    public var isEncrypted: Bool

    public init(clientAddress: String, clientPort: Int? = nil, serverAddress: String, serverPort: Int? = nil, isEncrypted: Bool) {
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.serverAddress = serverAddress
        self.serverPort = serverPort
        self.isEncrypted = isEncrypted
    }
}

/// Why a back end cannot list its mechanisms or start an exchange now.
public struct SASLBackEndUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason for the client (a 454 reply), in Postfix's words.
    public var reason: String
    /// The detail for the log: which socket or file, and what went wrong.
    public var detail: String

    public init(reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { detail }
}

/// A place that checks credentials: Dovecot's auth server, or the built-in passwd-file.
public protocol SASLServerBackEnd: Sendable {
    /// The mechanisms the back end can run, with their properties, before any filtering.
    func availableMechanisms() async throws(SASLBackEndUnavailable) -> [SASLMechanismDescription]

    /// A conversation for one AUTH command with an offered mechanism.
    func makeConversation(mechanism: SASLMechanismName, session: SASLSessionInfo, service: String) -> any SASLConversation

    /// Closes connections and stops background work.
    func shutdown() async
}

/// One exchange with a back end: `start`, then `respond` to each challenge, until a step other
/// than `.challenge`; `abandon` when the client goes away or cancels in between.
public protocol SASLConversation: Sendable {
    mutating func start(initialResponse: [UInt8]?) async -> SASLStep
    mutating func respond(_ response: [UInt8]) async -> SASLStep
    mutating func abandon() async
}
