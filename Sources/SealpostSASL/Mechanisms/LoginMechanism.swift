/// The LOGIN mechanism (draft-murchison-sasl-login) on the server side: the challenges
/// `Username:` and `Password:`, each answered with one response. An initial response, which many
/// clients send, is the user name.
public struct LoginMechanism: SASLServerMechanism {
    public static let name = SASLMechanismName.login
    public static let properties: SASLMechanismProperties = [.plaintext]

    /// `Username:`, sent as `334 VXNlcm5hbWU6`.
    public static let usernameChallenge = Array("Username:".utf8)
    /// `Password:`, sent as `334 UGFzc3dvcmQ6`.
    public static let passwordChallenge = Array("Password:".utf8)

    private enum State {
        case initial
        case awaitingUsername
        case awaitingPassword(username: String)
        case finished
    }
    private var state = State.initial

    public init() {}

    public mutating func start(initialResponse: [UInt8]?) -> SASLMechanismAction {
        guard case .initial = state else { return finish(.fail(.unexpectedResponse)) }
        guard let initialResponse else {
            state = .awaitingUsername
            return .challenge(Self.usernameChallenge)
        }
        return acceptUsername(initialResponse)
    }

    public mutating func receive(_ response: [UInt8]) -> SASLMechanismAction {
        switch state {
        case .awaitingUsername:
            return acceptUsername(response)
        case .awaitingPassword(let username):
            guard !response.isEmpty else { return finish(.fail(.emptyPassword)) }
            return finish(.verify(SASLCredentials(authenticationIdentity: username, password: response)))
        case .initial, .finished:
            return finish(.fail(.unexpectedResponse))
        }
    }

    private mutating func acceptUsername(_ response: [UInt8]) -> SASLMechanismAction {
        guard let username = LoginName.validated(response) else { return finish(.fail(.invalidUsername)) }
        state = .awaitingPassword(username: username)
        return .challenge(Self.passwordChallenge)
    }

    private mutating func finish(_ action: SASLMechanismAction) -> SASLMechanismAction {
        state = .finished
        return action
    }
}
