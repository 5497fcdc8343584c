import Testing

@testable import SealpostTLS

@Suite("TLS handler state machine")
struct TLSHandlerStateMachineTests {
    typealias Machine = TLSHandlerStateMachine

    /// A machine driven to `active` through the normal path.
    static func active() -> Machine {
        var machine = Machine()
        #expect(machine.handlerAdded(channelIsActive: true) == .startHandshake)
        #expect(machine.handshakeCompleted() == .activate)
        #expect(machine.state == .active)
        return machine
    }

    @Test("added to an inactive channel it waits; channelActive starts the handshake once")
    func startOnActive() {
        var machine = Machine()
        #expect(machine.handlerAdded(channelIsActive: false) == .none)
        #expect(machine.state == .idle)
        #expect(machine.writeRequested() == .buffer)
        #expect(machine.flushRequested() == .holdUntilHandshakeCompletes)
        #expect(machine.channelActive() == .startHandshake)
        #expect(machine.state == .handshaking)
        #expect(machine.channelActive() == .none)
    }

    @Test("added to an active channel (STARTTLS) the handshake starts at once")
    func startWhenAdded() {
        var machine = Machine()
        #expect(machine.handlerAdded(channelIsActive: true) == .startHandshake)
        #expect(machine.state == .handshaking)
        #expect(machine.channelActive() == .none)
    }

    @Test("bytes before channelActive start the handshake")
    func bytesWhileIdle() {
        var machine = Machine()
        #expect(machine.dataReceived() == .startHandshake)
        #expect(machine.state == .handshaking)
        #expect(machine.dataReceived() == .continueHandshake)
    }

    @Test("while handshaking: writes wait, reads feed the handshake, read-complete asks for more bytes")
    func handshaking() {
        var machine = Machine()
        _ = machine.channelActive()
        #expect(machine.writeRequested() == .buffer)
        #expect(machine.flushRequested() == .holdUntilHandshakeCompletes)
        #expect(machine.dataReceived() == .continueHandshake)
        #expect(machine.readComplete() == .readForHandshake)
        #expect(machine.handshakeCompleted() == .activate)
        #expect(machine.handshakeCompleted() == .none)
    }

    @Test("active: writes are encrypted at flush, reads decrypted")
    func activeState() {
        var machine = Self.active()
        #expect(machine.writeRequested() == .buffer)
        #expect(machine.flushRequested() == .encryptAndSend)
        #expect(machine.dataReceived() == .decrypt)
        #expect(machine.readComplete() == .deliver)
        #expect(machine.handshakeTimedOut() == .none)
        #expect(machine.state == .active)
    }

    @Test("we close: close_notify, then the peer's answer closes the channel")
    func weClose() {
        var machine = Self.active()
        #expect(machine.closeRequested() == .sendCloseNotify)
        #expect(machine.state == .closing)
        #expect(machine.closeRequested() == .joinPendingClose)
        #expect(machine.writeRequested() == .fail)
        #expect(machine.flushRequested() == .none)
        #expect(machine.dataReceived() == .decrypt)
        #expect(machine.closeNotifyReceived() == .closeChannel)
        #expect(machine.state == .closed)
        #expect(machine.closeTimedOut() == .none)
        #expect(machine.closeRequested() == .passThrough)
    }

    @Test("we close and the peer never answers: the timeout closes")
    func closeTimeout() {
        var machine = Self.active()
        _ = machine.closeRequested()
        #expect(machine.closeTimedOut() == .closeChannel)
        #expect(machine.state == .closed)
        #expect(machine.closeNotifyReceived() == .none)
    }

    @Test("we close and the peer hangs up instead of answering: the close is complete")
    func closeThenEOF() {
        var machine = Self.active()
        _ = machine.closeRequested()
        #expect(machine.channelInactive() == .completeClose)
        #expect(machine.state == .closed)
    }

    @Test("the peer closes: we answer and close")
    func peerCloses() {
        var machine = Self.active()
        #expect(machine.closeNotifyReceived() == .replyAndClose)
        #expect(machine.state == .closed)
        #expect(machine.dataReceived() == .discard)
        #expect(machine.writeRequested() == .fail)
        #expect(machine.channelInactive() == .none)
    }

    @Test("EOF without close_notify after the handshake is an unclean shutdown, not a failure")
    func uncleanShutdown() {
        var machine = Self.active()
        #expect(machine.channelInactive() == .reportUncleanShutdown)
        #expect(machine.state == .closed)
        var halfClosed = Self.active()
        #expect(halfClosed.inputClosed() == .reportUncleanShutdown)
        #expect(halfClosed.channelInactive() == .none)
    }

    @Test("EOF during the handshake fails it")
    func eofDuringHandshake() {
        var machine = Machine()
        _ = machine.channelActive()
        #expect(machine.channelInactive() == .failHandshake(.connectionLostDuringHandshake))
        #expect(machine.state == .failed(.connectionLostDuringHandshake))
        #expect(machine.failed(.handshakeFailed) == .none)
    }

    @Test("a handshake timeout fails only a running handshake")
    func handshakeTimeout() {
        var machine = Machine()
        #expect(machine.handshakeTimedOut() == .none)
        _ = machine.channelActive()
        #expect(machine.handshakeTimedOut() == .fireErrorAndClose)
        #expect(machine.state == .failed(.handshakeTimedOut))
        #expect(machine.handshakeCompleted() == .none)
        #expect(machine.dataReceived() == .discard)
        #expect(machine.readComplete() == .none)
        #expect(machine.closeRequested() == .passThrough)
    }

    @Test("closing before or during the handshake closes the channel without TLS")
    func closeEarly() {
        var idle = Machine()
        #expect(idle.closeRequested() == .closeChannel)
        #expect(idle.state == .closed)
        var handshaking = Machine()
        _ = handshaking.channelActive()
        #expect(handshaking.closeRequested() == .closeChannel)
        #expect(handshaking.state == .closed)
        #expect(handshaking.handshakeCompleted() == .none)
    }

    @Test("every failure is final", arguments: TLSHandlerError.Code.allCases)
    func failuresAreFinal(code: TLSHandlerError.Code) {
        for start in 0..<3 {
            var machine = Machine()
            if start >= 1 { _ = machine.channelActive() }
            if start >= 2 { _ = machine.handshakeCompleted() }
            #expect(machine.failed(code) == .fireErrorAndClose)
            #expect(machine.state == .failed(code))
            #expect(machine.isFinal)
            #expect(machine.failed(.readFailed) == .none)
            #expect(machine.writeRequested() == .fail)
            #expect(machine.channelInactive() == .none)
            #expect(machine.closeNotifyReceived() == .none)
        }
    }
}
