/// The life of a ``TLSHandler``'s connection as a plain value: each event moves it and returns
/// what the handler must do. No I/O, no NIO types; tested without a channel.
///
/// | from | event | to |
/// |---|---|---|
/// | idle | channel active (or first bytes) | handshaking |
/// | idle, handshaking | close requested | closed (no TLS to end) |
/// | handshaking | handshake completed | active |
/// | handshaking | EOF | failed (lost connection) |
/// | active | close requested | closing (our close_notify sent) |
/// | active | peer's close_notify | closed (ours sent in reply) |
/// | active | EOF without close_notify | closed (unclean shutdown reported) |
/// | closing | peer's close_notify, EOF, timeout | closed |
/// | any but closed, failed | OpenSSL failure, handshake timeout | failed |
///
/// `closed` and `failed` are final.
struct TLSHandlerStateMachine {
    enum State: Equatable {
        /// Added to a channel that is not active yet; writes wait.
        case idle
        /// The handshake is running; writes wait until it completes.
        case handshaking
        /// Application data flows both ways.
        case active
        /// Our close_notify is sent; waiting (with a timeout) for the peer's.
        case closing
        /// Done, cleanly or after a close request; nothing more goes through.
        case closed
        /// Done after an error; nothing more goes through.
        case failed(TLSHandlerError.Code)
    }

    private(set) var state: State = .idle

    var isFinal: Bool {
        switch state {
        case .closed, .failed: true
        case .idle, .handshaking, .active, .closing: false
        }
    }

    // MARK: Starting

    enum StartAction: Equatable {
        /// Start the handshake now (schedule its timeout, run the first step).
        case startHandshake
        /// Nothing to do yet, or already started.
        case none
    }

    /// The handler joined a pipeline; on an active channel (STARTTLS, or added after connect) the
    /// handshake starts at once.
    mutating func handlerAdded(channelIsActive: Bool) -> StartAction {
        channelIsActive ? channelActive() : .none
    }

    /// The channel became active (connected, or accepted with the handler already in place).
    mutating func channelActive() -> StartAction {
        guard state == .idle else { return .none }
        state = .handshaking
        return .startHandshake
    }

    // MARK: Handshake

    enum HandshakeCompletedAction: Equatable {
        /// Tell the pipeline, decrypt what came with the peer's last flight, flush the writes that waited.
        case activate
        /// The handshake's end came too late to matter (closed or failed meanwhile).
        case none
    }

    mutating func handshakeCompleted() -> HandshakeCompletedAction {
        guard state == .handshaking else { return .none }
        state = .active
        return .activate
    }

    // MARK: Inbound bytes

    enum InboundAction: Equatable {
        /// Bytes arrived before channelActive was seen: start the handshake, then feed them to it.
        case startHandshake
        /// Feed the bytes and run the next handshake step.
        case continueHandshake
        /// Feed the bytes and decrypt application data (or the peer's close_notify).
        case decrypt
        /// The connection is over: drop the bytes.
        case discard
    }

    mutating func dataReceived() -> InboundAction {
        switch state {
        case .idle:
            state = .handshaking
            return .startHandshake
        case .handshaking: return .continueHandshake
        case .active, .closing: return .decrypt
        case .closed, .failed: return .discard
        }
    }

    enum ReadCompleteAction: Equatable {
        /// Ask the channel for more bytes: the handshake needs them whether or not anyone asked to read.
        case readForHandshake
        /// Only pass on what was decrypted (asking for more only when a caller's read got nothing).
        case deliver
        /// Nothing to do.
        case none
    }

    func readComplete() -> ReadCompleteAction {
        switch state {
        case .handshaking: .readForHandshake
        case .active, .closing: .deliver
        case .idle, .closed, .failed: .none
        }
    }

    // MARK: Outbound writes

    enum WriteAction: Equatable {
        /// Queue the write; it is encrypted at the next flush once the handshake has completed.
        case buffer
        /// Fail the write's promise: our close_notify is out, or the connection is over.
        case fail
    }

    func writeRequested() -> WriteAction {
        switch state {
        case .idle, .handshaking, .active: .buffer
        case .closing, .closed, .failed: .fail
        }
    }

    enum FlushAction: Equatable {
        /// Mark the queued writes as flushed; they go out when the handshake completes.
        case holdUntilHandshakeCompletes
        /// Encrypt the queued writes and send the records.
        case encryptAndSend
        /// Nothing to send any more.
        case none
    }

    func flushRequested() -> FlushAction {
        switch state {
        case .idle, .handshaking: .holdUntilHandshakeCompletes
        case .active: .encryptAndSend
        case .closing, .closed, .failed: .none
        }
    }

    // MARK: Closing

    enum CloseAction: Equatable {
        /// No TLS to end (never started, or stopped mid-handshake): fail waiting writes and close the channel.
        case closeChannel
        /// Send close_notify, wait for the peer's with a timeout, then close.
        case sendCloseNotify
        /// A close is already under way; its outcome answers this request too.
        case joinPendingClose
        /// Already over: let the channel answer the request.
        case passThrough
    }

    mutating func closeRequested() -> CloseAction {
        switch state {
        case .idle, .handshaking:
            state = .closed
            return .closeChannel
        case .active:
            state = .closing
            return .sendCloseNotify
        case .closing:
            return .joinPendingClose
        case .closed, .failed:
            return .passThrough
        }
    }

    enum CloseNotifyAction: Equatable {
        /// The peer started the closing exchange: answer with our close_notify, then close the channel.
        case replyAndClose
        /// The peer answered our close_notify: the exchange is complete, close the channel now.
        case closeChannel
        /// Nothing to do.
        case none
    }

    mutating func closeNotifyReceived() -> CloseNotifyAction {
        switch state {
        case .active:
            state = .closed
            return .replyAndClose
        case .closing:
            state = .closed
            return .closeChannel
        case .idle, .handshaking, .closed, .failed:
            return .none
        }
    }

    enum TimeoutAction: Equatable {
        /// Close the channel without waiting any longer.
        case closeChannel
        /// The wait ended in time; ignore the timer.
        case none
    }

    /// The peer did not answer our close_notify in time.
    mutating func closeTimedOut() -> TimeoutAction {
        guard state == .closing else { return .none }
        state = .closed
        return .closeChannel
    }

    // MARK: End of input

    enum EndOfInputAction: Equatable {
        /// The handshake lost its peer: fail it.
        case failHandshake(TLSHandlerError.Code)
        /// Application data may have been cut off: report an unclean shutdown.
        case reportUncleanShutdown
        /// We were waiting for the peer's close_notify and the connection ended instead: close is done.
        case completeClose
        /// Nothing more to do.
        case none
    }

    /// The channel went inactive (the TCP connection is gone).
    mutating func channelInactive() -> EndOfInputAction {
        endOfInput()
    }

    /// The peer half-closed its side (`ChannelEvent.inputClosed`, with remote half-closure allowed).
    mutating func inputClosed() -> EndOfInputAction {
        endOfInput()
    }

    private mutating func endOfInput() -> EndOfInputAction {
        switch state {
        case .idle:
            state = .closed
            return .none
        case .handshaking:
            state = .failed(.connectionLostDuringHandshake)
            return .failHandshake(.connectionLostDuringHandshake)
        case .active:
            state = .closed
            return .reportUncleanShutdown
        case .closing:
            state = .closed
            return .completeClose
        case .closed, .failed:
            return .none
        }
    }

    // MARK: Failures

    enum FailureAction: Equatable {
        /// Send any alert OpenSSL queued, fire the error, fail waiting writes and close the channel.
        case fireErrorAndClose
        /// Already over; the error is stale (a timer that raced the end, a second failure).
        case none
    }

    /// An OpenSSL call failed, or the handshake timed out.
    mutating func failed(_ code: TLSHandlerError.Code) -> FailureAction {
        switch state {
        case .closed, .failed:
            return .none
        case .idle, .handshaking, .active, .closing:
            state = .failed(code)
            return .fireErrorAndClose
        }
    }

    /// The handshake timer fired; only a handshake still running is failed by it.
    mutating func handshakeTimedOut() -> FailureAction {
        guard state == .handshaking else { return .none }
        return failed(.handshakeTimedOut)
    }
}
