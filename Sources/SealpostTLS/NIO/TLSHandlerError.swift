import NIOCore

/// Why a ``TLSHandler`` gave up on its channel, naming the peer and carrying OpenSSL's reasons.
///
/// Fired through the pipeline with `fireErrorCaught`; the handler then closes that channel only.
public struct TLSHandlerError: Error, CustomStringConvertible, Sendable {
    /// A stable short identifier of the kind of failure; the raw values never change.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// OpenSSL failed the handshake (no shared protocol or cipher, a certificate that did not
        /// verify, an alert from the peer, bytes that are not TLS).
        case handshakeFailed = "handshake-failed"
        /// The handshake did not finish within the configured time (`smtpd_starttls_timeout`).
        case handshakeTimedOut = "handshake-timed-out"
        /// The peer closed the connection before the handshake finished (Postfix: "lost connection").
        case connectionLostDuringHandshake = "connection-lost-during-handshake"
        /// Decrypting the peer's records failed after the handshake (a bad record, a fatal alert).
        case readFailed = "read-failed"
        /// Encrypting our data failed after the handshake.
        case writeFailed = "write-failed"
    }

    /// What kind of failure this is.
    public var code: Code
    /// The peer's address, when the channel knew it.
    public var peerAddress: SocketAddress?
    /// The failed OpenSSL call and its reasons, when OpenSSL failed.
    public var connectionError: TLSConnectionError?
    /// Where in Sealpost the error arose (`fileID:line`), for bug reports.
    public var sourceLocation: String

    public init(
        _ code: Code, peerAddress: SocketAddress?, connectionError: TLSConnectionError? = nil,
        fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.peerAddress = peerAddress
        self.connectionError = connectionError
        self.sourceLocation = "\(fileID):\(line)"
    }

    /// The peer as `192.0.2.1:25` or `[2001:db8::1]:25`, `unknown` when the channel had no address.
    public var peer: String {
        guard let peerAddress, let ip = peerAddress.ipAddress else {
            return peerAddress.map { "\($0)" } ?? "unknown"
        }
        let host = ip.contains(":") ? "[\(ip)]" : ip
        return peerAddress.port.map { "\(host):\($0)" } ?? host
    }

    /// One readable line: what failed, with whom, and OpenSSL's reason.
    public var reason: String {
        switch code {
        case .handshakeFailed:
            "TLS handshake with \(peer) failed: \(connectionError?.reason ?? "unknown reason")"
        case .handshakeTimedOut:
            "TLS handshake with \(peer) timed out"
        case .connectionLostDuringHandshake:
            "TLS handshake with \(peer) failed: lost connection"
        case .readFailed:
            "TLS read from \(peer) failed: \(connectionError?.reason ?? "unknown reason")"
        case .writeFailed:
            "TLS write to \(peer) failed: \(connectionError?.reason ?? "unknown reason")"
        }
    }

    public var description: String {
        guard let connectionError else { return reason }
        var text = reason
        if let verificationReason = connectionError.verificationReason, let result = connectionError.verificationResult {
            text += " (certificate verification: \(verificationReason), code \(result))"
        }
        if !connectionError.openSSLErrors.isEmpty {
            text += " (OpenSSL: \(connectionError.openSSLErrors.joined(separator: "; ")))"
        }
        return text
    }
}
