#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
internal import COpenSSL

/// The SMTP client's TLS session cache: one resumable session per destination key, kept for
/// `smtp_tls_session_cache_timeout` — what Postfix keeps in `smtp_tls_session_cache_database` through tlsmgr,
/// kept here in memory.
///
/// The key is the caller's: Postfix uses the transport, next hop, address and port (`smtp:[192.0.2.1]:25`),
/// salted with the protocol and cipher settings so that a session negotiated under one policy is never offered
/// under another; ``TLSClientDestination/sessionCacheKey`` builds such a key. Sessions are captured from OpenSSL's
/// new-session callback (for TLS 1.3 that is when the server's ticket arrives after the handshake).
public final class TLSClientSessionCache: Sendable {
    private struct Entry {
        /// An `SSL_SESSION *` holding one reference (as a bit pattern, so that the entry is Sendable).
        var session: UInt
        var stored: Int
    }

    /// How long an entry may be resumed, in seconds (Postfix's minimum of 120 applied).
    public let timeout: Int
    /// The most destinations kept; the oldest entry goes when a new one would exceed it.
    public let capacity: Int
    private let entries: Mutex<[String: Entry]>
    private let now: @Sendable () -> Int

    /// `now` is the clock in seconds since the epoch (replaceable in tests).
    public init(timeout: Int, capacity: Int = 10_000, now: (@Sendable () -> Int)? = nil) {
        self.timeout = timeout
        self.capacity = max(1, capacity)
        self.entries = Mutex([:])
        self.now = now ?? { Int(time(nil)) }
    }

    deinit {
        entries.withLock { entries in
            for entry in entries.values { SSL_SESSION_free(Self.pointer(entry.session)) }
            entries.removeAll()
        }
    }

    /// The number of cached destinations.
    public var count: Int { entries.withLock { $0.count } }

    /// Stores a copy of a session, replacing the destination's earlier one.
    ///
    /// A copy, as Postfix stores a serialised copy: OpenSSL marks a connection's own session object not resumable
    /// when the connection is freed without a clean shutdown, which must not spoil the cached one.
    func store(_ original: OpaquePointer, for key: String) {
        guard SSL_SESSION_is_resumable(original) == 1, let session = SSL_SESSION_dup(original) else {
            OpenSSLErrorQueue.clear()
            return
        }
        let time = now()
        let evicted: [UInt] = entries.withLock { entries in
            var dropped: [UInt] = []
            if let old = entries[key] { dropped.append(old.session) }
            entries[key] = Entry(session: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(session))), stored: time)
            while entries.count > capacity, let oldest = entries.min(by: { $0.value.stored < $1.value.stored }) {
                dropped.append(oldest.value.session)
                entries[oldest.key] = nil
            }
            return dropped
        }
        for session in evicted { SSL_SESSION_free(Self.pointer(session)) }
    }

    /// A new reference to the destination's session if it is younger than the timeout (expired ones are dropped).
    func session(for key: String) -> OpaquePointer? {
        let time = now()
        let (found, expired): (UInt?, UInt?) = entries.withLock { entries in
            guard let entry = entries[key] else { return (nil, nil) }
            if time - entry.stored >= timeout {
                entries[key] = nil
                return (nil, entry.session)
            }
            return SSL_SESSION_up_ref(Self.pointer(entry.session)) == 1 ? (entry.session, nil) : (nil, nil)
        }
        if let expired { SSL_SESSION_free(Self.pointer(expired)) }
        return found.map(Self.pointer)
    }

    /// Whether an unexpired session is cached for the key.
    public func contains(_ key: String) -> Bool {
        guard let session = session(for: key) else { return false }
        SSL_SESSION_free(session)
        return true
    }

    /// Forgets the destination's session (after a failed handshake, as Postfix's `uncache_session()`).
    public func remove(_ key: String) {
        let removed = entries.withLock { $0.removeValue(forKey: key) }
        if let removed { SSL_SESSION_free(Self.pointer(removed.session)) }
    }

    private static func pointer(_ bits: UInt) -> OpaquePointer {
        OpaquePointer(bitPattern: bits)!
    }

    /// The new-session callback of client contexts: files the session under the connection's cache key.
    /// Returns 0: the cache took its own reference, OpenSSL keeps (and frees) the one it passed.
    static let newSessionCallback: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
        guard let ssl, let session,
              let key = TLSConnectionState.of(ssl)?.sessionCacheKey,
              let cache = TLSContextState.of(SSL_get_SSL_CTX(ssl))?.clientSessionCache
        else { return 0 }
        cache.store(session, for: key)
        TLSContextState.of(SSL_get_SSL_CTX(ssl))?.log(ssl: ssl, mask: .cache) { "save session \(key) to client cache (\($0))" }
        return 0
    }
}
