internal import COpenSSL

/// A TLS session (`SSL_SESSION`) that a client can offer again to skip the full handshake.
///
/// Taken from a connection after its handshake (``TLSConnection/session``) and handed to the next
/// connection to the same destination (``TLSConnection/setSessionToResume(_:)``). Immutable once
/// made; OpenSSL reference counts and locks it, hence `@unchecked Sendable`.
public final class TLSSession: @unchecked Sendable {
    /// The owned `SSL_SESSION *` (one reference), freed in `deinit`.
    let pointer: OpaquePointer

    /// Takes ownership of one reference to `pointer`.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        SSL_SESSION_free(pointer)
    }

    /// A session from its DER form (``derEncoded``), as a client session cache stores it.
    public convenience init(derEncoded der: [UInt8]) throws(TLSConnectionError) {
        OpenSSLErrorQueue.clear()
        let decoded: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_SSL_SESSION(nil, &cursor, buffer.count)
        }
        guard let decoded else {
            throw TLSConnectionError(
                .invalidSetting, operation: "d2i_SSL_SESSION", reason: "the stored TLS session does not decode",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        self.init(taking: decoded)
    }

    /// The session in DER form, for a session cache that outlives the process.
    public var derEncoded: [UInt8] {
        let length = i2d_SSL_SESSION(pointer, nil)
        guard length > 0 else { return [] }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_SSL_SESSION(pointer, &cursor)
        }
        return der
    }

    /// Whether a client may offer this session (a TLS 1.3 session becomes resumable once its ticket arrived).
    public var isResumable: Bool {
        SSL_SESSION_is_resumable(pointer) == 1
    }

    /// The protocol the session was made with, e.g. `TLSv1.3`.
    public var protocolVersion: String {
        TLSConnection.protocolName(Int32(SSL_SESSION_get_protocol_version(pointer)))
    }

    /// How long the session may be resumed, in seconds from its creation.
    public var timeout: Int {
        Int(SSL_SESSION_get_timeout(pointer))
    }
}
