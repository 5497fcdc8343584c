/// The PLAIN mechanism (RFC 4616) on the server side.
///
/// One message, sent as the initial response or in answer to an empty challenge:
/// `[authzid] NUL authcid NUL passwd`.
public struct PlainMechanism: SASLServerMechanism {
    public static let name = SASLMechanismName.plain
    public static let properties: SASLMechanismProperties = [.plaintext]

    private enum State { case initial, awaitingMessage, finished }
    private var state = State.initial

    public init() {}

    public mutating func start(initialResponse: [UInt8]?) -> SASLMechanismAction {
        guard state == .initial else { return finish(.fail(.unexpectedResponse)) }
        guard let initialResponse else {
            state = .awaitingMessage
            return .challenge([])
        }
        return finish(Self.parse(initialResponse))
    }

    public mutating func receive(_ response: [UInt8]) -> SASLMechanismAction {
        guard state == .awaitingMessage else { return finish(.fail(.unexpectedResponse)) }
        return finish(Self.parse(response))
    }

    private mutating func finish(_ action: SASLMechanismAction) -> SASLMechanismAction {
        state = .finished
        return action
    }

    // RFC 4616, section 2:
    //   message   = [authzid] UTF8NUL authcid UTF8NUL passwd
    //   authcid   = 1*SAFE ; MUST accept up to 255 octets
    //   authzid   = 1*SAFE ; MUST accept up to 255 octets
    //   passwd    = 1*SAFE ; MUST accept up to 255 octets
    //   SAFE      = UTF1 / UTF2 / UTF3 / UTF4 ; any UTF-8 encoded Unicode character except NUL
    static func parse(_ message: [UInt8]) -> SASLMechanismAction {
        let parts = message.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .fail(.malformedMessage) }
        guard let authcid = LoginName.validated(parts[1]) else { return .fail(.invalidUsername) }
        var authzid: String?
        if !parts[0].isEmpty {
            guard let identity = LoginName.validated(parts[0]) else { return .fail(.invalidUsername) }
            authzid = identity
        }
        guard !parts[2].isEmpty else { return .fail(.emptyPassword) }
        return .verify(SASLCredentials(authorizationIdentity: authzid, authenticationIdentity: authcid, password: Array(parts[2])))
    }
}
