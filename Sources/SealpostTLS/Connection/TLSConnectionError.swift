/// Why a TLS connection failed: which call, OpenSSL's reason strings, and the certificate
/// verification result when that is what went wrong.
public struct TLSConnectionError: Error, CustomStringConvertible, Sendable {
    /// A stable short identifier of the kind of failure; the raw values never change.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// OpenSSL refused the peer's bytes or our own request (SSL_ERROR_SSL): a bad record, an
        /// alert from the peer, no shared protocol or cipher, a certificate that does not verify.
        case protocolFailure = "protocol-failure"
        /// The peer sent close_notify (SSL_ERROR_ZERO_RETURN): a clean end of its data, not an attack.
        case closedByPeer = "closed-by-peer"
        /// The network input ended without close_notify (SSL_ERROR_SYSCALL with no error queued, or
        /// OpenSSL 3's "unexpected eof while reading"): the peer's data may be truncated.
        case uncleanEOF = "unclean-eof"
        /// A system call failed underneath OpenSSL (SSL_ERROR_SYSCALL with an error queued).
        case systemCallFailure = "system-call-failure"
        /// OpenSSL asked for something this connection never sets up (X.509 lookup, async jobs,
        /// client hello callbacks that pause); reported rather than waited for forever.
        case unexpectedResult = "unexpected-result"
        /// OpenSSL would not accept a setting: an SNI host name, a session to resume, a mode.
        case invalidSetting = "invalid-setting"
        /// OpenSSL could not allocate the connection or its buffers.
        case resourceFailure = "resource-failure"
    }

    /// What kind of failure this is.
    public var code: Code
    /// The OpenSSL call that failed, e.g. `SSL_do_handshake`.
    public var operation: String
    /// One readable line: the innermost OpenSSL reason, or what happened instead.
    public var reason: String
    /// OpenSSL's error strings (`error:0A000086:SSL routines::certificate verify failed`), oldest first.
    public var openSSLErrors: [String]
    /// The X.509 verification result code (`X509_V_ERR_*`) when the peer's certificate did not verify.
    public var verificationResult: Int?
    /// OpenSSL's text for ``verificationResult`` (`unable to get local issuer certificate`).
    public var verificationReason: String?
    /// Where in Sealpost the error arose (`fileID:line`), for bug reports.
    public var sourceLocation: String

    public init(
        _ code: Code,
        operation: String,
        reason: String,
        openSSLErrors: [String] = [],
        verificationResult: Int? = nil,
        verificationReason: String? = nil,
        fileID: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.operation = operation
        self.reason = reason
        self.openSSLErrors = openSSLErrors
        self.verificationResult = verificationResult
        self.verificationReason = verificationReason
        self.sourceLocation = "\(fileID):\(line)"
    }

    /// The reason, the verification failure and OpenSSL's error strings, on one line.
    public var description: String {
        var text = "\(operation): \(reason)"
        if let verificationReason, let verificationResult {
            text += " (certificate verification: \(verificationReason), code \(verificationResult))"
        }
        if !openSSLErrors.isEmpty {
            text += " (OpenSSL: \(openSSLErrors.joined(separator: "; ")))"
        }
        return text
    }
}
