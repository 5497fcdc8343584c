/// An SMTP reply of the AUTH command, with Postfix's wording. Every reply text the SASL layer
/// produces is made here, with the Postfix source it comes from.
public struct SASLReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    /// The RFC 3463 enhanced status code, e.g. `5.7.8`.
    public var enhancedStatusCode: String
    public var text: String

    public init(code: Int, enhancedStatusCode: String, text: String) {
        self.code = code
        self.enhancedStatusCode = enhancedStatusCode
        self.text = text
    }

    /// The reply line without CRLF: `535 5.7.8 Error: authentication failed: …`.
    public var description: String { "\(code) \(enhancedStatusCode) \(text)" }

    /// Whether the client should retry later (4xx) rather than give up (5xx).
    public var isTemporary: Bool { (400..<500).contains(code) }

    // MARK: The exchange (smtpd_sasl_glue.c, smtpd_sasl_authenticate)

    /// `235 2.7.0 Authentication successful` (RFC 4954, section 6).
    public static let authenticated = SASLReply(code: 235, enhancedStatusCode: "2.7.0", text: "Authentication successful")

    /// `535 5.7.8 Error: authentication failed: <reason>` (RFC 4954, section 6).
    public static func failed(reason: String) -> SASLReply {
        SASLReply(code: 535, enhancedStatusCode: "5.7.8", text: "Error: authentication failed: \(reason)")
    }

    /// `454 4.7.0 Temporary authentication failure: <reason>` (RFC 4954, section 6).
    public static func temporaryFailure(reason: String) -> SASLReply {
        SASLReply(code: 454, enhancedStatusCode: "4.7.0", text: "Temporary authentication failure: \(reason)")
    }

    /// `501 5.7.0 Authentication aborted`: the client answered a challenge with `*`.
    public static let aborted = SASLReply(code: 501, enhancedStatusCode: "5.7.0", text: "Authentication aborted")

    /// `500 5.5.6 SASL response limit exceeded`: a response longer than `smtpd_sasl_response_limit`.
    public static let responseLimitExceeded = SASLReply(
        code: 500, enhancedStatusCode: "5.5.6", text: "SASL response limit exceeded")

    /// `501 5.5.2 Cannot decode response`: a response that is not base64. RFC 4954, section 4
    /// requires 501 with 5.5.2 here; Postfix 3.7 answers 535 instead (see the README).
    public static let cannotDecode = SASLReply(code: 501, enhancedStatusCode: "5.5.2", text: "Cannot decode response")

    /// The `334` challenge line for raw challenge bytes: `334 VXNlcm5hbWU6`, or `334 ` (with the
    /// space, as Postfix sends it) for an empty challenge.
    public static func challengeLine(_ challenge: [UInt8]) -> String {
        "334 " + Base64.encode(challenge)
    }

    // MARK: The AUTH command's preconditions (smtpd_sasl_proto.c, smtpd_sasl_auth_cmd)

    /// `503 5.5.1 Error: send HELO/EHLO first` (with `smtpd_helo_required`).
    public static let sendHELOFirst = SASLReply(code: 503, enhancedStatusCode: "5.5.1", text: "Error: send HELO/EHLO first")
    /// `503 5.5.1 Error: authentication not enabled`: AUTH is off for this session.
    public static let notEnabled = SASLReply(code: 503, enhancedStatusCode: "5.5.1", text: "Error: authentication not enabled")
    /// `503 5.5.1 Error: MAIL transaction in progress`.
    public static let transactionInProgress = SASLReply(
        code: 503, enhancedStatusCode: "5.5.1", text: "Error: MAIL transaction in progress")
    /// `504 5.5.4 Encryption required for requested authentication mechanism` (`smtpd_tls_auth_only`
    /// before STARTTLS; RFC 4954, section 4).
    public static let encryptionRequired = SASLReply(
        code: 504, enhancedStatusCode: "5.5.4", text: "Encryption required for requested authentication mechanism")
    /// `503 5.5.1 Error: already authenticated`.
    public static let alreadyAuthenticated = SASLReply(code: 503, enhancedStatusCode: "5.5.1", text: "Error: already authenticated")
    /// `501 5.5.4 Syntax: AUTH mechanism`: no mechanism, or more than an initial response after it.
    public static let syntax = SASLReply(code: 501, enhancedStatusCode: "5.5.4", text: "Syntax: AUTH mechanism")

    // MARK: Throttling (smtpd.c)

    /// `450 4.7.1 Error: too many AUTH commands from <address>`: `smtpd_client_auth_rate_limit`
    /// (smtpd_sasl_auth_cmd_wrapper).
    public static func tooManyAuthCommands(from clientAddress: String) -> SASLReply {
        SASLReply(code: 450, enhancedStatusCode: "4.7.1", text: "Error: too many AUTH commands from \(clientAddress)")
    }

    /// `421 4.7.0 <myhostname> Error: too many errors`: Postfix's reply at the hard error limit,
    /// used when a client is cut off for too many failed logins; the server hangs up after it.
    public static func tooManyErrors(hostname: String) -> SASLReply {
        SASLReply(code: 421, enhancedStatusCode: "4.7.0", text: "\(hostname) Error: too many errors")
    }
}

/// The reasons in 535 and 454 replies, as Postfix words them.
public enum SASLFailureReason {
    /// The back end gave no reason (smtpd_sasl_glue.c). Dovecot gives none for a wrong password.
    public static let unavailable = "(reason unavailable)"
    /// The client named a mechanism that is not offered (xsasl_dovecot_server.c).
    public static let invalidMechanism = "Invalid authentication mechanism"
    /// The back end answered outside its protocol (xsasl_dovecot_server.c).
    public static let backEndError = "Authentication backend error"
    /// The authentication server went away mid-exchange (xsasl_dovecot_server.c).
    public static let connectionLost = "Connection lost to authentication server"
    /// The authentication server cannot be reached (xsasl_dovecot_server.c).
    public static let cannotConnect = "Can't connect to authentication server"
    /// Logged for a bad initial response (Dovecot's wording, as Postfix logs it).
    public static let invalidInitialBase64 = "Invalid base64 data in initial response"
    /// Logged for a bad continued response (xsasl_dovecot_server.c).
    public static let invalidContinuedBase64 = "Invalid base64 data in continued response"
}
