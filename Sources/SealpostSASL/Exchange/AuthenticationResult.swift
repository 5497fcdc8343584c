/// How one AUTH command ended: the reply to send, what it means for the session, and the log line.
public struct AuthenticationResult: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// Logged in as `username`.
        case authenticated(username: String)
        /// The back end refused the credentials (535). `username` is the login tried, if known.
        case rejected(reason: String, username: String?)
        /// The client named a mechanism that is not offered (535 Invalid authentication mechanism).
        case invalidMechanism
        /// A response was not base64 (501 5.5.2).
        case undecodableResponse(initial: Bool)
        /// A response was longer than `smtpd_sasl_response_limit` (500 5.5.6).
        case responseTooLong
        /// The client sent `*` (501 5.7.0).
        case aborted
        /// The back end could not decide (454).
        case temporaryFailure(reason: String)
    }

    public var outcome: Outcome
    /// The mechanism as the client named it, made printable (Postfix logs it so).
    public var mechanism: String
    public var reply: SASLReply

    public init(outcome: Outcome, mechanism: String) {
        self.outcome = outcome
        self.mechanism = mechanism
        switch outcome {
        case .authenticated: reply = .authenticated
        case .rejected(let reason, _): reply = .failed(reason: reason)
        case .invalidMechanism: reply = .failed(reason: SASLFailureReason.invalidMechanism)
        case .undecodableResponse: reply = .cannotDecode
        case .responseTooLong: reply = .responseLimitExceeded
        case .aborted: reply = .aborted
        case .temporaryFailure(let reason): reply = .temporaryFailure(reason: reason)
        }
    }

    /// The login name on success.
    public var username: String? {
        if case .authenticated(let username) = outcome { return username }
        return nil
    }

    /// Whether this counts as a failed login for brute-force throttling: the back end judged the
    /// credentials and refused them. Aborts, unknown mechanisms, malformed or overlong responses
    /// and back-end trouble are errors of the session, but do not try a password.
    public var isFailedLogin: Bool {
        if case .rejected = outcome { return true }
        return false
    }

    /// Postfix's warning for this outcome, after the client's `name[address]`, or nil when Postfix
    /// logs nothing (success, response limit): `SASL PLAIN authentication failed: <reason>,
    /// sasl_username=<name>` or `SASL LOGIN authentication aborted` (smtpd_sasl_glue.c). fail2ban's
    /// postfix filter matches these lines.
    public func warning(client: String) -> String? {
        let method = String(mechanism.prefix(100))
        func failed(_ reason: String, _ username: String?) -> String {
            "\(client): SASL \(method) authentication failed: \(reason), sasl_username=\(username.map { String($0.prefix(100)) } ?? "(unavailable)")"
        }
        switch outcome {
        case .authenticated, .responseTooLong: return nil
        case .aborted: return "\(client): SASL \(method) authentication aborted"
        case .rejected(let reason, let username): return failed(reason, username)
        case .invalidMechanism: return failed(SASLFailureReason.invalidMechanism, nil)
        case .undecodableResponse(let initial):
            return failed(initial ? SASLFailureReason.invalidInitialBase64 : SASLFailureReason.invalidContinuedBase64, nil)
        case .temporaryFailure(let reason): return failed(reason, nil)
        }
    }
}
