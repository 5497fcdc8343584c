/// The SMTP side of one AUTH command (RFC 4954) as a state machine: it checks the mechanism and
/// the initial response, turns back-end challenges into `334` lines and client lines into
/// responses, and ends with the reply. It never does I/O: each event returns the action to perform.
///
///     var exchange = AuthenticationExchange(mechanism: "PLAIN", initialResponse: "AGJvYgBzZWNyZXQ=", …)
///     var action = exchange.start()
///     // .startBackEnd → backEndAnswered(step) → .sendChallenge → clientResponded(line) → … → .finish
///
/// Any failure moves it to its final state; events after that keep returning the same result.
public struct AuthenticationExchange: Sendable {
    public enum Action: Sendable, Hashable {
        /// Begin the back end's conversation for `mechanism` (the offered spelling), with the
        /// decoded initial response if the client sent one (empty for `=`). Then call
        /// ``AuthenticationExchange/backEndAnswered(_:)``.
        case startBackEnd(mechanism: SASLMechanismName, initialResponse: [UInt8]?)
        /// Send `line` (`334 …`), then read one client line of at most `responseLimit` bytes and
        /// call ``AuthenticationExchange/clientResponded(_:)`` or
        /// ``AuthenticationExchange/clientResponseTooLong()``.
        case sendChallenge(line: String, responseLimit: Int)
        /// Pass the decoded client response to the back end's conversation, then call
        /// ``AuthenticationExchange/backEndAnswered(_:)``.
        case continueBackEnd(response: [UInt8])
        /// The exchange is over: send `result.reply`. When `abandonBackEnd` is set, the back end's
        /// conversation was started and is left unfinished; tell it so.
        case finish(AuthenticationResult, abandonBackEnd: Bool)
    }

    private enum State: Sendable {
        case initial
        case awaitingBackEnd
        case awaitingClient
        case finished(AuthenticationResult)
    }

    private var state = State.initial
    private let requestedMechanism: String
    private let initialResponse: String?
    private let offered: [SASLMechanismName]
    private let responseLimit: Int

    /// - Parameters:
    ///   - mechanism: the AUTH command's first argument, as the client sent it.
    ///   - initialResponse: its second argument, if any (`=` for an empty initial response).
    ///   - offered: the mechanisms offered to this session.
    ///   - responseLimit: `smtpd_sasl_response_limit`.
    public init(mechanism: String, initialResponse: String?, offered: [SASLMechanismName], responseLimit: Int) {
        self.requestedMechanism = mechanism
        self.initialResponse = initialResponse
        self.offered = offered
        self.responseLimit = responseLimit
    }

    /// The mechanism as the client named it, printable, for logs.
    public var mechanismForLog: String { Printable.text(requestedMechanism) }

    /// Checks the command and asks for the back end to start.
    public mutating func start() -> Action {
        guard case .initial = state else { return repeatFinalOrFail() }
        // xsasl_dovecot_server_first: the mechanism must be one of those offered.
        guard let name = SASLMechanismName(requestedMechanism), let mechanism = offered.first(where: { $0 == name }) else {
            return finish(.invalidMechanism, abandon: false)
        }
        var decoded: [UInt8]?
        if let initialResponse {
            guard initialResponse.utf8.count <= responseLimit else { return finish(.responseTooLong, abandon: false) }
            // RFC 4954, section 4: "=" is an empty initial response.
            if initialResponse == "=" {
                decoded = []
            } else {
                guard let bytes = Base64.decode(initialResponse.utf8) else {
                    return finish(.undecodableResponse(initial: true), abandon: false)
                }
                decoded = bytes
            }
        }
        state = .awaitingBackEnd
        return .startBackEnd(mechanism: mechanism, initialResponse: decoded)
    }

    /// The back end answered the start or the last response.
    public mutating func backEndAnswered(_ step: SASLStep) -> Action {
        guard case .awaitingBackEnd = state else { return repeatFinalOrFail() }
        switch step {
        case .challenge(let challenge):
            state = .awaitingClient
            return .sendChallenge(line: SASLReply.challengeLine(challenge), responseLimit: responseLimit)
        case .success(let username):
            return finish(.authenticated(username: username), abandon: false)
        case .failure(let reason, let username):
            return finish(.rejected(reason: reason ?? SASLFailureReason.unavailable, username: username), abandon: false)
        case .temporaryFailure(let reason):
            return finish(.temporaryFailure(reason: reason), abandon: false)
        }
    }

    /// The client sent a response line (without CRLF).
    public mutating func clientResponded(_ line: some Collection<UInt8>) -> Action {
        guard case .awaitingClient = state else { return repeatFinalOrFail() }
        let bytes = Array(line)
        if bytes.count > responseLimit { return finish(.responseTooLong, abandon: true) }
        // RFC 4954, section 4: "*" cancels the exchange.
        if bytes == [UInt8(ascii: "*")] { return finish(.aborted, abandon: true) }
        guard let response = Base64.decode(bytes) else {
            return finish(.undecodableResponse(initial: false), abandon: true)
        }
        state = .awaitingBackEnd
        return .continueBackEnd(response: response)
    }

    /// The client sent a line longer than the limit given with the challenge.
    public mutating func clientResponseTooLong() -> Action {
        guard case .awaitingClient = state else { return repeatFinalOrFail() }
        return finish(.responseTooLong, abandon: true)
    }

    private mutating func finish(_ outcome: AuthenticationResult.Outcome, abandon: Bool) -> Action {
        let result = AuthenticationResult(outcome: outcome, mechanism: mechanismForLog)
        state = .finished(result)
        return .finish(result, abandonBackEnd: abandon)
    }

    /// An event out of order: the caller broke the protocol of this type. End the exchange with a
    /// temporary failure rather than crash the server.
    private mutating func repeatFinalOrFail() -> Action {
        if case .finished(let result) = state { return .finish(result, abandonBackEnd: false) }
        return finish(.temporaryFailure(reason: SASLFailureReason.backEndError), abandon: true)
    }
}

extension AuthenticationExchange.Action: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Client responses carry credentials: only their length is shown.
    public var description: String {
        switch self {
        case .startBackEnd(let mechanism, let initial):
            "startBackEnd(\(mechanism), initialResponse: \(initial.map { "<\($0.count) bytes>" } ?? "none"))"
        case .sendChallenge(let line, let limit): "sendChallenge(\(line), responseLimit: \(limit))"
        case .continueBackEnd(let response): "continueBackEnd(<\(response.count) bytes>)"
        case .finish(let result, let abandon): "finish(\(result.reply), abandonBackEnd: \(abandon))"
        }
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}
