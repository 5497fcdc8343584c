import NIOCore

/// TLS for one channel: decrypts what the peer sends, encrypts what the handlers behind it write.
///
/// A thin shell around ``TLSConnection`` (OpenSSL over memory BIOs) and ``TLSHandlerStateMachine``
/// (what each event means in each state). Use it
/// - from the first byte (implicit TLS on 465, or an outbound client): add it when the channel is
///   created; the handshake starts on `channelActive`;
/// - after STARTTLS: send the 220 reply, discard any plaintext already received (it came before
///   TLS and must not be trusted), then insert the handler at the front of the live pipeline
///   (`pipeline.syncOperations.addHandler(handler, position: .first)`); the handshake starts at
///   once, and only bytes that reach the pipeline after that are taken as TLS.
///
/// Writes made before the handshake completes wait with their promises and go out in order
/// afterwards. ``TLSUserEvent/handshakeCompleted(_:)`` is fired before the first decrypted byte.
/// Closing sends close_notify and waits (``TLSHandlerConfiguration/closeNotifyTimeout``) for the
/// peer's; a peer that ends the connection without one causes ``TLSUserEvent/uncleanShutdown``.
/// Failures fire a ``TLSHandlerError`` and close this channel only. Reads follow the caller's
/// `read()` calls (auto-read off works); the handshake asks for the bytes it needs itself.
///
/// `close(mode: .output)` and `.input` are not supported (SMTP has no use for TLS half-closure).
/// Must be used on its channel's event loop only.
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// The TLS connection this handler runs (its negotiated details, its session for resumption).
    public let connection: TLSConnection
    public let configuration: TLSHandlerConfiguration
    /// What the handshake negotiated, once it has completed.
    public private(set) var handshakeResult: TLSHandshakeResult?

    private(set) var stateMachine = TLSHandlerStateMachine()
    /// Writes waiting for the handshake or the next flush, with their promises.
    private var writes = WriteQueue()
    /// Decrypted bytes not yet passed on. Its storage is reused within a burst of reads and let go
    /// at the burst's end, so that an idle connection keeps no read buffer.
    private var plaintext = ByteBuffer()
    /// Whether decrypted bytes went up the pipeline since the last channelReadComplete.
    private var deliveredSinceReadComplete = false
    /// Whether a caller asked to read and has not been given bytes since.
    private var readRequested = false
    /// Whether network writes were made without a flush yet.
    private var networkWritesUnflushed = false
    /// The promise of the close that is waiting for the peer's close_notify.
    private var closePromise: EventLoopPromise<Void>?
    private var handshakeTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    /// The peer, for error messages; read when the handler joins and when the channel becomes active.
    private var peerAddress: SocketAddress?

    /// Plaintext handed to OpenSSL per `SSL_write_ex` call, so that its output buffer stays small.
    static let writeChunkSize = 4 * TLSConnection.maximumRecordSize
    /// Encrypted bytes gathered before they are written to the channel in the middle of a large write.
    static let networkChunkSize = 4 * TLSConnection.maximumRecordSize
    /// Writes up to this size are gathered into shared records instead of one record each.
    static let smallWriteSize = 2048

    /// A handler running `connection`.
    public init(connection: TLSConnection, configuration: TLSHandlerConfiguration = TLSHandlerConfiguration()) {
        self.connection = connection
        self.configuration = configuration
    }

    /// A handler with a new connection from `context`; a client may name the server (SNI) and offer
    /// a session. `peerName` and `logSink` are the connection's, for its TLS log lines.
    public convenience init(
        context: TLSContext, serverName: String? = nil, resuming session: TLSSession? = nil,
        peerName: String? = nil, logSink: TLSLogSink? = nil,
        configuration: TLSHandlerConfiguration = TLSHandlerConfiguration()
    ) throws(TLSConnectionError) {
        let connection = try TLSConnection(context: context, peerName: peerName, logSink: logSink)
        if let serverName { try connection.setServerName(serverName) }
        if let session { try connection.setSessionToResume(session) }
        self.init(connection: connection, configuration: configuration)
    }

    /// An outbound SMTP client's handler for `destination`, its connection set up by the context as
    /// Postfix's `tls_client_start()` does (see ``TLSConnection/init(context:destination:logSink:)``).
    public convenience init(
        context: TLSContext, destination: TLSClientDestination, logSink: TLSLogSink? = nil,
        configuration: TLSHandlerConfiguration = TLSHandlerConfiguration()
    ) throws {
        self.init(
            connection: try TLSConnection(context: context, destination: destination, logSink: logSink),
            configuration: configuration)
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        peerAddress = context.channel.remoteAddress
        if stateMachine.handlerAdded(channelIsActive: context.channel.isActive) == .startHandshake {
            startHandshake(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        writes.failAll(ChannelError.ioOnClosedChannel)
        let promise = closePromise
        closePromise = nil
        promise?.fail(ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        // Passed on first, so that the handlers behind see the channel active before a failed
        // handshake closes it.
        context.fireChannelActive()
        if stateMachine.channelActive() == .startHandshake {
            startHandshake(context: context)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        endOfInput(stateMachine.channelInactive(), context: context, channelIsOpen: false)
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            endOfInput(stateMachine.inputClosed(), context: context, channelIsOpen: true)
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action = stateMachine.dataReceived()
        guard action != .discard else { return }
        connection.consumeDataFromNetwork(unwrapInboundIn(data))
        switch action {
        case .startHandshake:
            startHandshake(context: context)
        case .continueHandshake:
            handshakeStep(context: context)
        case .decrypt:
            decrypt(context: context)
            if stateMachine.state == .active, writes.hasFlushedWrites {
                // A write that OpenSSL could not take before (it needed the peer's bytes) may go now.
                encryptFlushedWrites(context: context)
            }
        case .discard:
            break
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        switch stateMachine.readComplete() {
        case .readForHandshake:
            context.read()
        case .deliver:
            deliverPlaintext(context: context)
            if plaintext.readableBytes == 0 {
                plaintext = ByteBuffer()
                connection.releaseIdleNetworkBuffers()
            }
            if deliveredSinceReadComplete {
                deliveredSinceReadComplete = false
                context.fireChannelReadComplete()
            } else if readRequested {
                // The caller's read brought only TLS housekeeping (a session ticket, part of a
                // record): read again on its behalf, or with auto-read off it would wait for ever.
                context.read()
            }
        case .none:
            break
        }
    }

    // MARK: Outbound

    public func read(context: ChannelHandlerContext) {
        readRequested = true
        context.read()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch stateMachine.writeRequested() {
        case .buffer:
            writes.append(unwrapOutboundIn(data), promise: promise)
        case .fail:
            promise?.fail(stateMachine.state == .closing ? ChannelError.outputClosed : ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch stateMachine.flushRequested() {
        case .holdUntilHandshakeCompletes:
            writes.markFlushed()
        case .encryptAndSend:
            writes.markFlushed()
            encryptFlushedWrites(context: context)
        case .none:
            break
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all else {
            promise?.fail(ChannelError.operationUnsupported)
            return
        }
        switch stateMachine.closeRequested() {
        case .closeChannel:
            cancelTimers()
            writes.failAll(ChannelError.ioOnClosedChannel)
            context.close(promise: promise)
        case .sendCloseNotify:
            writes.failAll(ChannelError.ioOnClosedChannel)
            closePromise = promise
            sendCloseNotify(context: context)
        case .joinPendingClose:
            guard let promise else { return }
            if let closePromise {
                closePromise.futureResult.cascade(to: promise)
            } else {
                closePromise = promise
            }
        case .passThrough:
            context.close(promise: promise)
        }
    }

    // MARK: Handshake

    private func startHandshake(context: ChannelHandlerContext) {
        peerAddress = context.channel.remoteAddress ?? peerAddress
        if let timeout = configuration.handshakeTimeout {
            handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.handshakeTimedOut(context: context)
            }
        }
        handshakeStep(context: context)
        if stateMachine.state == .handshaking {
            // With auto-read off nobody else asks for the bytes the handshake is waiting for.
            context.read()
        }
    }

    private func handshakeStep(context: ChannelHandlerContext) {
        switch connection.doHandshake() {
        case .incomplete:
            emitNetworkData(context: context, promise: nil, flush: true)
        case .complete:
            handshakeCompleted(context: context)
        case .failed(let error):
            fail(TLSHandlerError(.handshakeFailed, peerAddress: peerAddress, connectionError: error), context: context)
        }
    }

    private func handshakeCompleted(context: ChannelHandlerContext) {
        guard stateMachine.handshakeCompleted() == .activate else { return }
        handshakeTimer?.cancel()
        handshakeTimer = nil
        emitNetworkData(context: context, promise: nil, flush: true)
        let result = TLSHandshakeResult(connection: connection)
        handshakeResult = result
        context.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(result))
        // Application data may have come in the same read as the peer's Finished.
        decrypt(context: context)
        if stateMachine.state == .active {
            encryptFlushedWrites(context: context)
        }
    }

    private func handshakeTimedOut(context: ChannelHandlerContext) {
        handshakeTimer = nil
        guard stateMachine.handshakeTimedOut() == .fireErrorAndClose else { return }
        performFailure(TLSHandlerError(.handshakeTimedOut, peerAddress: peerAddress), context: context)
    }

    // MARK: Application data

    /// Decrypts every complete record received so far, passing plaintext on in batches.
    private func decrypt(context: ChannelHandlerContext) {
        readLoop: while true {
            switch connection.readDataFromNetwork(into: &plaintext) {
            case .complete:
                if plaintext.readableBytes >= configuration.maximumPlaintextBatch {
                    deliverPlaintext(context: context)
                    // The handlers behind may have closed the channel meanwhile.
                    guard stateMachine.state == .active || stateMachine.state == .closing else { return }
                }
            case .incomplete:
                break readLoop
            case .failed(let error) where error.code == .closedByPeer:
                deliverPlaintext(context: context)
                if deliveredSinceReadComplete {
                    deliveredSinceReadComplete = false
                    context.fireChannelReadComplete()
                }
                peerSentCloseNotify(context: context)
                return
            case .failed(let error):
                fail(TLSHandlerError(.readFailed, peerAddress: peerAddress, connectionError: error), context: context)
                return
            }
        }
        // Reads can produce records too (a TLS 1.3 KeyUpdate answer).
        emitNetworkData(context: context, promise: nil, flush: true)
    }

    private func deliverPlaintext(context: ChannelHandlerContext) {
        guard plaintext.readableBytes > 0 else { return }
        let chunk = plaintext
        // Keep the storage: if the receiver lets go of `chunk` before the next read, no allocation follows.
        plaintext.moveWriterIndex(to: plaintext.readerIndex)
        readRequested = false
        deliveredSinceReadComplete = true
        context.fireChannelRead(wrapInboundOut(chunk))
    }

    /// Encrypts the flushed writes in order and sends the records, completing the writes' promises
    /// when the records carrying their last bytes are written.
    private func encryptFlushedWrites(context: ChannelHandlerContext) {
        guard writes.hasFlushedWrites else { return }
        var completed = PromiseBatch()
        var staging: ByteBuffer?
        var stagingPromises = PromiseBatch()

        while writes.hasFlushedWrites {
            var write = writes.removeFirst()
            if write.data.readableBytes <= Self.smallWriteSize, staging != nil || writes.hasFlushedWrites {
                // Small writes (SMTP replies, pipelined commands) share records, as Postfix's
                // buffered stream does, instead of costing a record and a network write each.
                if staging == nil {
                    staging = context.channel.allocator.buffer(capacity: TLSConnection.maximumRecordSize)
                }
                staging!.writeBuffer(&write.data)
                stagingPromises.append(write.promise)
                guard staging!.readableBytes >= TLSConnection.maximumRecordSize else { continue }
            } else if staging != nil {
                // A large write follows gathered small ones: those go first.
                writes.prepend(write.data, promise: write.promise)
            }
            if var gathered = staging {
                staging = nil
                guard encrypt(&gathered, promises: &stagingPromises, into: &completed, context: context) else { return }
                continue
            }
            var single = PromiseBatch()
            single.append(write.promise)
            guard encrypt(&write.data, promises: &single, into: &completed, context: context) else { return }
        }
        if var gathered = staging {
            guard encrypt(&gathered, promises: &stagingPromises, into: &completed, context: context) else { return }
        }
        emitNetworkData(context: context, promise: completed.combined(on: context.eventLoop), flush: true)
    }

    /// Encrypts all of `data`; its promises join `completed` once it is all taken. Returns false when
    /// the connection failed (everything is failed then) or OpenSSL must read first (the rest waits
    /// at the front of the queue).
    private func encrypt(
        _ data: inout ByteBuffer, promises: inout PromiseBatch, into completed: inout PromiseBatch,
        context: ChannelHandlerContext
    ) -> Bool {
        while data.readableBytes > 0 {
            switch connection.writeDataToNetwork(&data, maximumBytes: Self.writeChunkSize) {
            case .complete:
                if connection.pendingNetworkOutputBytes >= Self.networkChunkSize {
                    emitNetworkData(context: context, promise: nil, flush: false)
                }
            case .incomplete:
                writes.prepend(data, promise: promises.combined(on: context.eventLoop))
                emitNetworkData(context: context, promise: completed.combined(on: context.eventLoop), flush: true)
                return false
            case .failed(let error):
                let failure = TLSHandlerError(.writeFailed, peerAddress: peerAddress, connectionError: error)
                promises.fail(failure)
                completed.fail(failure)
                fail(failure, context: context)
                return false
            }
        }
        completed.append(contentsOf: &promises)
        return true
    }

    /// Writes what OpenSSL produced for the peer to the channel; a promise with nothing to write
    /// still gets an (empty) write so that it completes in order.
    private func emitNetworkData(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, flush: Bool) {
        let pending = connection.pendingNetworkOutputBytes
        if pending > 0 {
            var buffer = context.channel.allocator.buffer(capacity: pending)
            connection.getDataForNetwork(into: &buffer)
            context.write(wrapOutboundOut(buffer), promise: promise)
            networkWritesUnflushed = true
        } else if let promise {
            context.write(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
            networkWritesUnflushed = true
        }
        if flush, networkWritesUnflushed {
            networkWritesUnflushed = false
            context.flush()
        }
    }

    // MARK: Closing

    private func sendCloseNotify(context: ChannelHandlerContext) {
        switch connection.doShutdown() {
        case .incomplete:
            emitNetworkData(context: context, promise: nil, flush: true)
            closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.closeNotifyTimeout) {
                self.closeTimedOut(context: context)
            }
        case .complete:
            // The peer's close_notify was already in: the exchange is complete.
            emitNetworkData(context: context, promise: nil, flush: true)
            peerSentCloseNotify(context: context)
        case .failed(let error):
            fail(TLSHandlerError(.writeFailed, peerAddress: peerAddress, connectionError: error), context: context)
        }
    }

    private func peerSentCloseNotify(context: ChannelHandlerContext) {
        switch stateMachine.closeNotifyReceived() {
        case .replyAndClose:
            cancelTimers()
            writes.failAll(ChannelError.ioOnClosedChannel)
            _ = connection.doShutdown()
            context.fireUserInboundEventTriggered(TLSUserEvent.shutdownCompleted)
            sendPendingOutputThenClose(context: context, promise: nil)
        case .closeChannel:
            cancelTimers()
            context.fireUserInboundEventTriggered(TLSUserEvent.shutdownCompleted)
            sendPendingOutputThenClose(context: context, promise: takeClosePromise())
        case .none:
            break
        }
    }

    private func closeTimedOut(context: ChannelHandlerContext) {
        closeTimer = nil
        guard stateMachine.closeTimedOut() == .closeChannel else { return }
        context.close(promise: takeClosePromise())
    }

    /// The connection ended (channel inactive) or the peer half-closed its side.
    private func endOfInput(
        _ action: TLSHandlerStateMachine.EndOfInputAction, context: ChannelHandlerContext, channelIsOpen: Bool
    ) {
        switch action {
        case .failHandshake(let code):
            cancelTimers()
            let error = TLSHandlerError(code, peerAddress: peerAddress)
            writes.failAll(error)
            context.fireErrorCaught(error)
            if channelIsOpen { context.close(promise: nil) }
        case .reportUncleanShutdown:
            cancelTimers()
            writes.failAll(ChannelError.ioOnClosedChannel)
            deliverPlaintext(context: context)
            if deliveredSinceReadComplete {
                deliveredSinceReadComplete = false
                context.fireChannelReadComplete()
            }
            context.fireUserInboundEventTriggered(TLSUserEvent.uncleanShutdown)
            if channelIsOpen { context.close(promise: nil) }
        case .completeClose:
            cancelTimers()
            if channelIsOpen {
                context.close(promise: takeClosePromise())
            } else {
                takeClosePromise()?.succeed(())
            }
        case .none:
            cancelTimers()
            writes.failAll(ChannelError.ioOnClosedChannel)
            if !channelIsOpen { takeClosePromise()?.succeed(()) }
        }
    }

    // MARK: Failure

    private func fail(_ error: TLSHandlerError, context: ChannelHandlerContext) {
        guard stateMachine.failed(error.code) == .fireErrorAndClose else { return }
        performFailure(error, context: context)
    }

    /// Sends the alert OpenSSL queued, fails the waiting writes, fires the error and closes the channel.
    ///
    /// The alert is written before the error goes up (a handler that closes on errors must not cut
    /// it off), and the channel closes after both.
    private func performFailure(_ error: TLSHandlerError, context: ChannelHandlerContext) {
        cancelTimers()
        writes.failAll(error)
        let written = sendPendingOutput(context: context)
        context.fireErrorCaught(error)
        close(context: context, after: written, promise: takeClosePromise())
    }

    /// Writes any pending records (a close_notify, an alert) and closes the channel once they are out.
    private func sendPendingOutputThenClose(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        close(context: context, after: sendPendingOutput(context: context), promise: promise)
    }

    /// Writes and flushes the records OpenSSL has queued; the future completes when they are out (nil when there were none).
    private func sendPendingOutput(context: ChannelHandlerContext) -> EventLoopFuture<Void>? {
        guard connection.pendingNetworkOutputBytes > 0 else {
            if networkWritesUnflushed {
                networkWritesUnflushed = false
                context.flush()
            }
            return nil
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        emitNetworkData(context: context, promise: written, flush: true)
        return written.futureResult
    }

    /// Closes the channel once `written` completes (at once without it); closing sooner would drop a queued alert.
    private func close(context: ChannelHandlerContext, after written: EventLoopFuture<Void>?, promise: EventLoopPromise<Void>?) {
        guard let written else {
            context.close(promise: promise)
            return
        }
        written.assumeIsolated().whenComplete { _ in
            context.close(promise: promise)
        }
    }

    private func takeClosePromise() -> EventLoopPromise<Void>? {
        defer { closePromise = nil }
        return closePromise
    }

    private func cancelTimers() {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        closeTimer?.cancel()
        closeTimer = nil
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}

/// Writes in the order they were made, and how many of them at the front have been flushed.
private struct WriteQueue {
    typealias Write = (data: ByteBuffer, promise: EventLoopPromise<Void>?)

    private var writes = CircularBuffer<Write>(initialCapacity: 4)
    private var flushedCount = 0

    var hasFlushedWrites: Bool { flushedCount > 0 }

    mutating func append(_ data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        writes.append((data, promise))
    }

    /// Puts a write (or what is left of one) back at the front, as flushed.
    mutating func prepend(_ data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        writes.prepend((data, promise))
        flushedCount += 1
    }

    mutating func markFlushed() {
        flushedCount = writes.count
    }

    mutating func removeFirst() -> Write {
        precondition(flushedCount > 0, "only flushed writes are taken")
        flushedCount -= 1
        return writes.removeFirst()
    }

    /// Fails every waiting write; promise callbacks may write again, so the queue is emptied first.
    mutating func failAll(_ error: Error) {
        guard !writes.isEmpty else { return }
        let failed = writes
        writes.removeAll(keepingCapacity: true)
        flushedCount = 0
        for write in failed { write.promise?.fail(error) }
    }
}

/// The promises of writes whose bytes went out together, completed by one network write.
private struct PromiseBatch {
    private var first: EventLoopPromise<Void>?
    private var others: [EventLoopPromise<Void>] = []

    mutating func append(_ promise: EventLoopPromise<Void>?) {
        guard let promise else { return }
        if first == nil { first = promise } else { others.append(promise) }
    }

    mutating func append(contentsOf batch: inout PromiseBatch) {
        append(batch.first)
        for promise in batch.others { append(promise) }
        batch = PromiseBatch()
    }

    mutating func fail(_ error: Error) {
        first?.fail(error)
        for promise in others { promise.fail(error) }
        self = PromiseBatch()
    }

    /// One promise standing for all of them (nil when there are none); takes them out of the batch.
    mutating func combined(on eventLoop: EventLoop) -> EventLoopPromise<Void>? {
        defer { self = PromiseBatch() }
        guard let first else { return nil }
        if others.isEmpty { return first }
        let all = [first] + others
        let combined = eventLoop.makePromise(of: Void.self)
        combined.futureResult.whenComplete { result in
            switch result {
            case .success: for promise in all { promise.succeed(()) }
            case .failure(let error): for promise in all { promise.fail(error) }
            }
        }
        return combined
    }
}
