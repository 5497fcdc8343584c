/// A back end's answer to the start of an exchange or to a client response.
public enum SASLStep: Sendable, Hashable {
    /// Send this challenge (raw bytes) and pass on the client's response.
    case challenge([UInt8])
    /// The client is who it claims: `username` is the login name to record (`sasl_username`).
    case success(username: String)
    /// The credentials were refused. `reason` is shown to the client (nil: Postfix's
    /// "(reason unavailable)"); `username` is the login name tried, for the log.
    case failure(reason: String?, username: String?)
    /// The back end cannot decide now (unreachable, broken): a 454 reply.
    case temporaryFailure(reason: String)
}
