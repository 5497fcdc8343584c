import Logging
import NIOCore
import NIOPosix

/// `smtpd_sasl_type = dovecot`: Dovecot's auth server runs the mechanisms and checks the
/// credentials; Sealpost relays the exchange over the auth socket named by `smtpd_sasl_path`.
public final class DovecotBackEnd: SASLServerBackEnd {
    private let client: DovecotAuthClient

    /// - Parameters:
    ///   - endpoint: the auth-client socket (`unix_listener` or `inet_listener` of Dovecot's
    ///     `service auth`).
    ///   - timeout: how long to wait for the connection, the handshake and each reply (Postfix: 10 s).
    public init(
        endpoint: DovecotEndpoint, timeout: Duration = .seconds(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) {
        client = DovecotAuthClient(endpoint: endpoint, group: group, timeout: timeout, logger: logger)
    }

    public var endpoint: DovecotEndpoint { client.endpoint }

    /// How many connections to Dovecot have been opened so far.
    public var connectionsOpened: Int {
        get async { await client.connectionsOpened }
    }

    public func availableMechanisms() async throws(SASLBackEndUnavailable) -> [SASLMechanismDescription] {
        try await client.mechanisms()
    }

    public func makeConversation(mechanism: SASLMechanismName, session: SASLSessionInfo, service: String) -> any SASLConversation {
        DovecotConversation(client: client, mechanism: mechanism, session: session, service: service)
    }

    public func shutdown() async {
        await client.shutdown()
    }
}

/// One AUTH request relayed to Dovecot.
struct DovecotConversation: SASLConversation {
    let client: DovecotAuthClient
    let mechanism: SASLMechanismName
    let session: SASLSessionInfo
    let service: String
    private var request: (id: UInt32, connection: Int)?

    init(client: DovecotAuthClient, mechanism: SASLMechanismName, session: SASLSessionInfo, service: String) {
        self.client = client
        self.mechanism = mechanism
        self.session = session
        self.service = service
    }

    mutating func start(initialResponse: [UInt8]?) async -> SASLStep {
        let (step, request) = await client.begin(
            mechanism: mechanism, service: service, session: session, initialResponse: initialResponse)
        self.request = request
        return step
    }

    mutating func respond(_ response: [UInt8]) async -> SASLStep {
        guard let request else { return .temporaryFailure(reason: SASLFailureReason.connectionLost) }
        return await client.proceed(request: request.id, connection: request.connection, response: response)
    }

    mutating func abandon() async {
        if let request { await client.abandon(request: request.id) }
        request = nil
    }
}
