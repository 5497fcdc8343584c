internal import COpenSSL
internal import CSealpostShims
import NIOCore

/// One TLS connection run over OpenSSL with in-memory I/O: the network's bytes go in through
/// ``consumeDataFromNetwork(_:)``, OpenSSL's records come out through ``getDataForNetwork(into:)``,
/// and nothing here touches a socket.
///
/// Owns an `SSL` made from a ``TLSContext`` (server or client by the context's role) and the two
/// memory BIOs under it. Every OpenSSL call clears the thread's error queue first and maps its
/// result to ``TLSConnectionResult``: `.complete`, `.incomplete` (wants more bytes from the peer)
/// or `.failed` with OpenSSL's reasons. Not thread-safe: use it from one thread (an event loop) at a time.
public final class TLSConnection {
    /// The largest plaintext a TLS record carries; reads make room for at least this much.
    public static let maximumRecordSize = 16 * 1024
    /// The least room a read makes (bytes OpenSSL already holds from a partly received record are
    /// not counted in what is pending, so some room is made even when nothing seems to be).
    static let minimumReadRoom = 512

    /// The context the connection was made from (kept for Context/ and Session/ code).
    public let context: TLSContext
    /// Server or client, from the context.
    public var role: TLSContext.Role { context.role }

    /// The `SSL *`, owned; Context/ and Session/ code in this module configure it further.
    let sslPointer: OpaquePointer
    /// Memory BIO that OpenSSL reads the peer's bytes from (owned by the `SSL`).
    private let networkInput: OpaquePointer
    /// Memory BIO that OpenSSL writes its records to (owned by the `SSL`).
    private let networkOutput: OpaquePointer
    /// Set when a memory BIO could not take the peer's bytes (out of memory); the next call fails.
    private var inputLost = false
    /// Postfix's packet dump (log level 3: the handshake; 4: everything), when the log mask asks for it.
    private var trafficDump: NetworkTrafficDump?
    /// Whether the dump goes on after the handshake (log level 4).
    private var dumpsAllTraffic = false

    /// A new connection, ready for ``doHandshake()``: accept state for a server context, connect state for a client.
    ///
    /// - Parameters:
    ///   - peerName: the peer in Postfix's log form (`host[addr]`, or `host[addr]:port` for a client),
    ///     for this connection's TLS log lines.
    ///   - logSink: where this connection's TLS log lines go, instead of the context's sink.
    ///   - logMask: this connection's TLS log features, instead of the context's (`*_tls_loglevel`).
    ///     With ``TLSLogMask/handshakePackets`` the handshake's records are dumped, with
    ///     ``TLSLogMask/allPackets`` everything after it too.
    public init(
        context: TLSContext, peerName: String? = nil, logSink: TLSLogSink? = nil, logMask: TLSLogMask? = nil
    ) throws(TLSConnectionError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.pointer) else {
            throw TLSConnectionError(
                .resourceFailure, operation: "SSL_new", reason: "cannot create a TLS connection",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        guard let input = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSConnectionError(.resourceFailure, operation: "BIO_new", reason: "cannot create a memory BIO")
        }
        guard let output = BIO_new(BIO_s_mem()) else {
            BIO_free(input)
            SSL_free(ssl)
            throw TLSConnectionError(.resourceFailure, operation: "BIO_new", reason: "cannot create a memory BIO")
        }
        // An empty BIO means "the peer's next bytes have not arrived yet", never end of file.
        sealpost_bio_set_mem_eof_return(input, -1)
        sealpost_bio_set_mem_eof_return(output, -1)
        SSL_set_bio(ssl, input, output)
        // Writes return after each record rather than all or nothing, and a retried write may come
        // from a different (moved) buffer: ByteBuffer storage is not pinned between calls. The
        // record buffers (about 17 KiB each way) are freed whenever they are empty: an SMTP session
        // idles between commands far more than it transfers, and idle sessions are what add up.
        sealpost_ssl_set_mode(
            ssl, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS))
        switch context.role {
        case .server: SSL_set_accept_state(ssl)
        case .client: SSL_set_connect_state(ssl)
        }
        self.context = context
        self.sslPointer = ssl
        self.networkInput = input
        self.networkOutput = output
        if peerName != nil || logSink != nil || logMask != nil {
            context.attachLogging(to: ssl, peerName: peerName ?? "unknown", sink: logSink, mask: logMask)
        }
        let logging = context.logging(for: ssl)
        if logging.mask.contains(.handshakePackets), let sink = logging.sink {
            trafficDump = NetworkTrafficDump(sink: sink, input: input, output: output)
            dumpsAllTraffic = logging.mask.contains(.allPackets)
        }
    }

    /// An outbound SMTP client's connection to `destination`, set up by the context as Postfix's
    /// `tls_client_start()` does: its security level's protocols and ciphers, SNI, the names,
    /// fingerprints or TLSA records to match, and a cached session to resume.
    ///
    /// Throws ``TLSConnectionError`` when OpenSSL cannot make the connection, `TLSConfigurationError`
    /// when the destination's policy cannot be applied.
    public convenience init(context: TLSContext, destination: TLSClientDestination, logSink: TLSLogSink? = nil) throws {
        try self.init(context: context, peerName: destination.peerName, logSink: logSink)
        try context.prepareClientConnection(sslPointer, for: destination)
    }

    deinit {
        trafficDump?.stop()
        SSL_free(sslPointer)
    }

    // MARK: Client settings

    /// The server name (SNI) a client sends, normally the MX host name; never an IP address.
    public func setServerName(_ name: String) throws(TLSConnectionError) {
        OpenSSLErrorQueue.clear()
        guard sealpost_ssl_set_tlsext_host_name(sslPointer, name) == 1 else {
            throw TLSConnectionError(
                .invalidSetting, operation: "SSL_set_tlsext_host_name", reason: "unusable TLS server name \"\(name)\"",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
    }

    /// Offers a session from an earlier connection to the same destination (client only, before the handshake).
    public func setSessionToResume(_ session: TLSSession) throws(TLSConnectionError) {
        OpenSSLErrorQueue.clear()
        guard SSL_set_session(sslPointer, session.pointer) == 1 else {
            throw TLSConnectionError(
                .invalidSetting, operation: "SSL_set_session", reason: "the TLS session cannot be offered",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
    }

    // MARK: Network side

    /// Hands bytes received from the peer to OpenSSL; follow with ``doHandshake()``,
    /// ``readDataFromNetwork(into:)`` or ``doShutdown()``, which decide what they mean.
    public func consumeDataFromNetwork(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        let stored = buffer.withUnsafeReadableBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let chunk = Int32(min(bytes.count - offset, Int(Int32.max)))
                let written = BIO_write(networkInput, bytes.baseAddress! + offset, chunk)
                guard written > 0 else { return false }
                offset += Int(written)
            }
            return true
        }
        if !stored { inputLost = true }
    }

    /// Tells OpenSSL the network input has ended: once it has read what is buffered, it sees end of
    /// file — an ``TLSConnectionError/Code/uncleanEOF`` failure, or `closedByPeer` when the context
    /// sets `SSL_OP_IGNORE_UNEXPECTED_EOF` (as Postfix's contexts do). ``TLSHandler`` does not use
    /// it: it knows from the channel that input ended, and from the connection whether close_notify came.
    public func consumeEndOfInput() {
        sealpost_bio_set_mem_eof_return(networkInput, 0)
    }

    /// Frees the memory BIOs' buffers when both are empty; call it when the connection goes idle.
    ///
    /// A memory BIO keeps the largest buffer it ever needed: without this, every idle connection
    /// would hold on to the size of its handshake flight (a few KiB with a certificate chain).
    public func releaseIdleNetworkBuffers() {
        guard BIO_ctrl_pending(networkInput) == 0, BIO_ctrl_pending(networkOutput) == 0 else { return }
        _ = sealpost_bio_mem_release_empty(networkInput)
        _ = sealpost_bio_mem_release_empty(networkOutput)
    }

    /// Bytes from the peer that OpenSSL has not read yet.
    public var bufferedNetworkInputBytes: Int {
        Int(BIO_ctrl_pending(networkInput))
    }

    /// Bytes OpenSSL has written for the peer that ``getDataForNetwork(into:)`` has not taken yet.
    public var pendingNetworkOutputBytes: Int {
        Int(BIO_ctrl_pending(networkOutput))
    }

    /// Appends everything OpenSSL has produced for the peer to `buffer`; returns how many bytes that was.
    ///
    /// Call it after every other operation: handshakes, reads (post-handshake messages, alerts),
    /// writes and shutdowns all produce records.
    @discardableResult
    public func getDataForNetwork(into buffer: inout ByteBuffer) -> Int {
        let pending = Int(BIO_ctrl_pending(networkOutput))
        guard pending > 0 else { return 0 }
        return buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { space in
            let read = BIO_read(networkOutput, space.baseAddress, Int32(min(pending, Int(Int32.max))))
            return max(Int(read), 0)
        }
    }

    // MARK: TLS operations

    /// Runs the handshake as far as the bytes received so far allow.
    ///
    /// `.incomplete`: send ``getDataForNetwork(into:)``'s output and wait for the peer's answer.
    /// `.complete`: the handshake is done (records for the peer may still be pending).
    public func doHandshake() -> TLSConnectionResult<Void> {
        if let lost = lostInputFailure(operation: "SSL_do_handshake") { return .failed(lost) }
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(sslPointer)
        guard result == 1 else {
            let failure: TLSConnectionResult<Void> = outcome(of: result, operation: "SSL_do_handshake")
            if case .failed = failure, role == .client {
                // A session that led to a failed handshake is not offered again (Postfix's uncache_session()).
                context.clientHandshakeFailed(sslPointer)
            }
            return failure
        }
        if !dumpsAllTraffic {
            trafficDump?.stop()
            trafficDump = nil
        }
        return .complete(())
    }

    /// Decrypts application data the peer sent into `buffer`'s writable space, and returns how
    /// many bytes were appended.
    ///
    /// Room is made for what the bytes received so far can hold (plaintext is never longer than
    /// its records), at most one record: a 20-byte SMTP command does not cost a 16 KiB buffer. A
    /// record larger than the room is read over several calls.
    ///
    /// `.incomplete` once every complete record received has been read. `.failed` with
    /// ``TLSConnectionError/Code/closedByPeer`` when the peer's close_notify arrives.
    public func readDataFromNetwork(into buffer: inout ByteBuffer) -> TLSConnectionResult<Int> {
        if let lost = lostInputFailure(operation: "SSL_read_ex") { return .failed(lost) }
        OpenSSLErrorQueue.clear()
        var result: Int32 = 0
        let available = Int(BIO_ctrl_pending(networkInput)) + Int(SSL_pending(sslPointer))
        let room = min(Self.maximumRecordSize, max(Self.minimumReadRoom, available))
        let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { space in
            var read = 0
            result = SSL_read_ex(sslPointer, space.baseAddress, space.count, &read)
            return result == 1 ? read : 0
        }
        guard result == 1 else { return outcome(of: result, operation: "SSL_read_ex") }
        return .complete(count)
    }

    /// Encrypts up to `maximumBytes` of `buffer`'s readable bytes, moving its reader index past what
    /// was taken, and returns that count; the records wait in ``getDataForNetwork(into:)``.
    ///
    /// Partial writes are on, so a call may take less than offered (whole records); call again
    /// with the rest. An empty buffer completes with 0.
    public func writeDataToNetwork(_ buffer: inout ByteBuffer, maximumBytes: Int = .max) -> TLSConnectionResult<Int> {
        let count = min(buffer.readableBytes, maximumBytes)
        guard count > 0 else { return .complete(0) }
        OpenSSLErrorQueue.clear()
        var written = 0
        let result = buffer.withUnsafeReadableBytes { bytes in
            SSL_write_ex(sslPointer, bytes.baseAddress, count, &written)
        }
        guard result == 1 else { return outcome(of: result, operation: "SSL_write_ex") }
        buffer.moveReaderIndex(forwardBy: written)
        return .complete(written)
    }

    /// One step of the closing exchange: the first call queues our close_notify for the peer.
    ///
    /// `.complete` once close_notify went both ways; `.incomplete` while the peer's has not
    /// arrived (ours is sent, or pending in ``getDataForNetwork(into:)``).
    public func doShutdown() -> TLSConnectionResult<Void> {
        OpenSSLErrorQueue.clear()
        let result = SSL_shutdown(sslPointer)
        switch result {
        case 1: return .complete(())
        case 0: return .incomplete
        default: return outcome(of: result, operation: "SSL_shutdown")
        }
    }

    // MARK: State

    /// Whether the handshake has completed.
    public var isHandshakeComplete: Bool {
        SSL_is_init_finished(sslPointer) == 1
    }

    /// Whether our close_notify has been queued for the peer.
    public var closeNotifySent: Bool {
        SSL_get_shutdown(sslPointer) & Int32(SSL_SENT_SHUTDOWN) != 0
    }

    /// Whether the peer's close_notify has arrived.
    public var closeNotifyReceived: Bool {
        SSL_get_shutdown(sslPointer) & Int32(SSL_RECEIVED_SHUTDOWN) != 0
    }

    // MARK: What was negotiated

    /// The protocol in OpenSSL's wording (`TLSv1.3`, `TLSv1.2`), nil before the handshake completes.
    public var protocolVersion: String? {
        guard isHandshakeComplete else { return nil }
        return Self.protocolName(SSL_version(sslPointer))
    }

    /// The cipher suite in use, nil before the handshake completes.
    public var cipher: TLSNegotiatedCipher? {
        guard isHandshakeComplete, let cipher = SSL_get_current_cipher(sslPointer) else { return nil }
        var algorithmBits: Int32 = 0
        let secretBits = SSL_CIPHER_get_bits(cipher, &algorithmBits)
        return TLSNegotiatedCipher(
            name: SSL_CIPHER_get_name(cipher).map { String(cString: $0) } ?? "",
            standardName: SSL_CIPHER_standard_name(cipher).map { String(cString: $0) },
            secretBits: Int(secretBits), algorithmBits: Int(algorithmBits))
    }

    /// Whether the handshake resumed an earlier session instead of running in full.
    public var isSessionResumed: Bool {
        SSL_session_reused(sslPointer) == 1
    }

    /// The session, for a client to offer on its next connection to the same destination.
    ///
    /// With TLS 1.3 the server sends its tickets after the handshake, so take the session once some
    /// application data has been read (``TLSSession/isResumable`` says whether it can be offered).
    public var session: TLSSession? {
        SSL_get1_session(sslPointer).map(TLSSession.init(taking:))
    }

    /// The SNI server name: the one a client sends, or the one a server received; nil without SNI.
    public var serverName: String? {
        SSL_get_servername(sslPointer, Int32(TLSEXT_NAMETYPE_host_name)).map { String(cString: $0) }
    }

    /// The peer's certificate (the leaf), nil when it sent none.
    public var peerCertificate: Certificate? {
        SSL_get1_peer_certificate(sslPointer).map(Certificate.init(taking:))
    }

    /// The certificates the peer sent, leaf first, as sent (not the verified path); empty when none.
    public var peerCertificateChain: [Certificate] {
        var chain: [Certificate] = []
        let count = sealpost_ssl_peer_chain_count(sslPointer)
        for index in 0..<count {
            if let certificate = sealpost_ssl_peer_chain_get1(sslPointer, index) {
                chain.append(Certificate(taking: certificate))
            }
        }
        // A server's view of the client's chain leaves the leaf out; a client's includes it.
        if role == .server, let leaf = peerCertificate {
            chain.insert(leaf, at: 0)
        }
        return chain
    }

    /// The result of verifying the peer's certificate (`X509_V_OK`, 0, when it verified or there was nothing to verify).
    public var verificationResult: Int {
        Int(SSL_get_verify_result(sslPointer))
    }

    /// OpenSSL's text for ``verificationResult`` (`ok`, `certificate has expired`, …).
    public var verificationReason: String {
        X509_verify_cert_error_string(Int(SSL_get_verify_result(sslPointer))).map { String(cString: $0) } ?? ""
    }

    // MARK: Result mapping

    private func lostInputFailure(operation: String) -> TLSConnectionError? {
        guard inputLost else { return nil }
        return TLSConnectionError(
            .resourceFailure, operation: operation, reason: "out of memory buffering the peer's bytes")
    }

    /// Maps a failed call's return value through `SSL_get_error` and drains the error queue.
    private func outcome<Value>(of result: Int32, operation: String) -> TLSConnectionResult<Value> {
        let code = SSL_get_error(sslPointer, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            OpenSSLErrorQueue.clear()
            return .incomplete
        case SSL_ERROR_ZERO_RETURN:
            OpenSSLErrorQueue.clear()
            return .failed(TLSConnectionError(.closedByPeer, operation: operation, reason: "the peer sent close_notify"))
        case SSL_ERROR_SYSCALL:
            let errors = QueuedErrors.drain()
            if errors.isEmpty {
                return .failed(TLSConnectionError(
                    .uncleanEOF, operation: operation, reason: "the connection ended without close_notify"))
            }
            return .failed(TLSConnectionError(
                .systemCallFailure, operation: operation, reason: errors.reasons.last ?? "system call failed",
                openSSLErrors: errors.messages))
        case SSL_ERROR_SSL:
            let errors = QueuedErrors.drain()
            if errors.lastReasonCode == SSL_R_UNEXPECTED_EOF_WHILE_READING {
                return .failed(TLSConnectionError(
                    .uncleanEOF, operation: operation, reason: "the connection ended without close_notify",
                    openSSLErrors: errors.messages))
            }
            let verification = Int(SSL_get_verify_result(sslPointer))
            let failedVerification = verification != Int(X509_V_OK) && !isHandshakeComplete
            return .failed(TLSConnectionError(
                .protocolFailure, operation: operation, reason: errors.reasons.first ?? "TLS protocol error",
                openSSLErrors: errors.messages,
                verificationResult: failedVerification ? verification : nil,
                verificationReason: failedVerification ? verificationReason : nil))
        default:
            let errors = QueuedErrors.drain()
            return .failed(TLSConnectionError(
                .unexpectedResult, operation: operation, reason: "OpenSSL returned SSL_get_error code \(code)",
                openSSLErrors: errors.messages))
        }
    }

    /// `SSL_version` values in OpenSSL's wording.
    static func protocolName(_ version: Int32) -> String {
        switch version {
        case TLS1_3_VERSION: "TLSv1.3"
        case TLS1_2_VERSION: "TLSv1.2"
        case TLS1_1_VERSION: "TLSv1.1"
        case TLS1_VERSION: "TLSv1"
        case SSL3_VERSION: "SSLv3"
        default: "unknown"
        }
    }
}

@available(*, unavailable)
extension TLSConnection: Sendable {}

/// A cipher suite as OpenSSL names and measures it.
public struct TLSNegotiatedCipher: Sendable, Hashable {
    /// OpenSSL's name (`TLS_AES_256_GCM_SHA384`, `ECDHE-RSA-AES256-GCM-SHA384`), as Postfix logs it.
    public var name: String
    /// The IANA/RFC name (`TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`), when OpenSSL knows it.
    public var standardName: String?
    /// The cipher's effective secret bits, the first number in Postfix's `(256/256 bits)`.
    public var secretBits: Int
    /// The cipher algorithm's bits, the second number.
    public var algorithmBits: Int
}

/// The error queue's entries after a failure, with OpenSSL's bare reason texts beside the full strings.
private struct QueuedErrors {
    var messages: [String] = []
    var reasons: [String] = []
    var lastReasonCode: Int32 = 0

    var isEmpty: Bool { messages.isEmpty }

    static func drain() -> QueuedErrors {
        var errors = QueuedErrors()
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
                ERR_error_string_n(code, buffer.baseAddress, buffer.count)
                errors.messages.append(String(cString: buffer.baseAddress!))
            }
            errors.reasons.append(ERR_reason_error_string(code).map { String(cString: $0) } ?? "error code \(code)")
            errors.lastReasonCode = ERR_GET_REASON(code)
        }
        return errors
    }
}
