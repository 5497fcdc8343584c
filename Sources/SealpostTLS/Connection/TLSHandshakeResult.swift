/// What a completed handshake negotiated: the protocol, the cipher, the peer's certificate and
/// whether an earlier session was resumed.
///
/// ``TLSHandler`` sends it up the pipeline in ``TLSUserEvent/handshakeCompleted(_:)``. Its
/// ``session`` is Session/'s ``TLSSessionInfo`` — trust level, fingerprints, key exchange and
/// signatures — from which Postfix's log line (``TLSSessionInfo/summaryLine(peer:usage:sni:)``) and
/// the Received header's TLS clause are made.
public struct TLSHandshakeResult: Sendable {
    /// Everything Postfix reports about the session.
    public var session: TLSSessionInfo
    /// The cipher suite with its IANA name beside OpenSSL's.
    public var cipher: TLSNegotiatedCipher
    /// The SNI name the client sent (a client's own, or the one a server received); nil without SNI.
    public var serverName: String?

    /// Which end we were.
    public var role: TLSContext.Role { session.role }
    /// OpenSSL's protocol name, `TLSv1.3` or `TLSv1.2` (Postfix logs it as is).
    public var protocolVersion: String { session.protocolVersion }
    /// Whether an earlier session was resumed (no certificate exchange took place).
    public var isResumed: Bool { session.isResumed }
    /// The peer's certificates as sent, leaf first; empty when it sent none.
    public var peerCertificateChain: [Certificate] { session.peerCertificates }
    /// The peer's leaf certificate; nil when it sent none (a client not asked for one, anonymous suites).
    public var peerCertificate: Certificate? { session.peerCertificates.first }
    /// Whether the peer presented a certificate that verified against the trusted CAs.
    public var peerCertificateVerified: Bool { session.verifyResult == 0 }

    /// Reads what `connection` negotiated; call once its handshake has completed.
    init(connection: TLSConnection) {
        session = connection.context.sessionInfo(for: connection.sslPointer)
        cipher = connection.cipher ?? TLSNegotiatedCipher(name: session.cipher, standardName: nil, secretBits: 0, algorithmBits: 0)
        serverName = connection.serverName
    }
}
