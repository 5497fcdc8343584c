internal import COpenSSL

/// An OpenSSL `SSL_CTX`: the immutable TLS set-up of one service (server) or one kind of
/// destination (client), from which every connection's `SSL` object is made.
///
/// Built by ``TLSServerContextBuilder`` and ``TLSClientContextBuilder`` from typed settings, then
/// shared: after it is built nothing changes it, so making connections from several threads is
/// safe (OpenSSL locks the session cache and reference counts itself).
public final class TLSContext: @unchecked Sendable {
    /// Which end of the handshake the context's connections take.
    public enum Role: Sendable, Hashable {
        case server
        case client
    }

    public let role: Role
    /// The `SSL_CTX *`, owned.
    let pointer: OpaquePointer

    /// Takes ownership of `pointer` (freed with the context).
    init(role: Role, taking pointer: OpaquePointer) {
        self.role = role
        self.pointer = pointer
    }

    deinit {
        SSL_CTX_free(pointer)
    }
}
