import Logging
internal import COpenSSL
internal import CSealpostShims

/// Where TLS log lines go: a closure taking one finished line, in Postfix's words.
public final class TLSLogSink: Sendable {
    let emit: @Sendable (String) -> Void
    /// Where Postfix's `msg_warn` lines go (an invalid SNI name); `emit` unless told otherwise.
    let warn: @Sendable (String) -> Void

    public init(_ emit: @escaping @Sendable (String) -> Void, warn: (@Sendable (String) -> Void)? = nil) {
        self.emit = emit
        self.warn = warn ?? emit
    }

    /// Lines become `info` records of `logger` (Postfix logs them with `msg_info`), warnings `warning` records.
    public convenience init(logger: Logger) {
        self.init({ line in logger.info("\(line)") }, warn: { line in logger.warning("\(line)") })
    }
}

/// Postfix's level-2 and level-3 log lines: OpenSSL's handshake states through the info callback
/// (`tls_info_callback()`), and hex dumps of what crosses the socket (`tls_bio_dump_cb()`, `tls_dump_buffer()`).
public enum TLSHandshakeLog {
    /// The info callback line for one event, or nil when Postfix logs nothing for it:
    /// `SSL_accept:before SSL initialization`, `SSL3 alert write:fatal:handshake failure`,
    /// `SSL_accept:error in error`, `SSL_connect:failed in …`.
    static func infoLine(ssl: OpaquePointer, where event: Int32, ret: Int32) -> String? {
        let without = event & ~Int32(SSL_ST_MASK)
        let side: String
        if without & Int32(SSL_ST_CONNECT) != 0 {
            side = "SSL_connect"
        } else if without & Int32(SSL_ST_ACCEPT) != 0 {
            side = "SSL_accept"
        } else {
            side = "unknown"
        }
        let state = { String(cString: SSL_state_string_long(ssl)) }
        if event & Int32(SSL_CB_LOOP) != 0 {
            return "\(side):\(state())"
        }
        if event & Int32(SSL_CB_ALERT) != 0 {
            guard ret & 0xff != Int32(SSL3_AD_CLOSE_NOTIFY) else { return nil }
            let direction = event & Int32(SSL_CB_READ) != 0 ? "read" : "write"
            return "SSL3 alert \(direction):\(String(cString: SSL_alert_type_string_long(ret))):"
                + String(cString: SSL_alert_desc_string_long(ret))
        }
        if event & Int32(SSL_CB_EXIT) != 0 {
            if ret == 0 { return "\(side):failed in \(state())" }
            if ret < 0 {
                let error = SSL_get_error(ssl, ret)
                if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return nil }
                return "\(side):error in \(state())"
            }
        }
        return nil
    }

    /// Installed on a context at log level 2 and higher (Postfix's `SSL_CTX_set_info_callback(ctx, tls_info_callback)`).
    static let infoCallback: @convention(c) (OpaquePointer?, Int32, Int32) -> Void = { ssl, event, ret in
        guard let ssl, let state = TLSContextState.of(SSL_get_SSL_CTX(ssl)) else { return }
        let connection = TLSConnectionState.of(ssl)
        guard (connection?.logMask ?? state.logMask).contains(.debug), let sink = state.sink(for: ssl),
              let line = infoLine(ssl: ssl, where: event, ret: ret)
        else { return }
        sink.emit(line)
    }

    /// Postfix's `tls_dump_buffer()`: 16 bytes per line, `%04lx ` offset, hex with a `|` after the eighth byte,
    /// the printable ASCII, trailing spaces and NULs folded into a `<SPACES/NULLS>` line.
    public static func dumpLines(_ bytes: [UInt8]) -> [String] {
        var last = bytes.count - 1
        while last >= 0 && (bytes[last] == 0x20 || bytes[last] == 0) { last -= 1 }
        var lines: [String] = []
        var row = 0
        while row <= last {
            var line = hex4(row) + " "
            for column in row..<(row + 16) {
                if column > last {
                    line += "   "
                } else {
                    line += hex2(bytes[column]) + (column - row == 7 ? "|" : " ")
                }
            }
            line += " "
            for column in row..<min(row + 16, last + 1) {
                let byte = bytes[column]
                line.append(byte >= 0x20 && byte < 0x7f ? Character(UnicodeScalar(byte)) : ".")
                if column - row == 7 { line += " " }
            }
            lines.append(line)
            row += 16
        }
        if last + 1 < bytes.count {
            lines.append(hex4(last + 1) + " - <SPACES/NULLS>")
        }
        return lines
    }

    /// Postfix's header line before a dump: `read from 0000559A1B2C3D40 [0000559A1B2C5E00] (16384 bytes => 517 (0x205))`.
    public static func dumpHeader(
        read: Bool, bio: UInt, buffer: UInt, requested: Int, result: Int
    ) -> String {
        let verb = read ? "read from" : "write to"
        if result > 0 {
            return "\(verb) \(hex8(bio)) [\(hex8(buffer))] (\(requested) bytes => \(result) (0x\(String(result, radix: 16, uppercase: true))))"
        }
        return "\(verb) \(hex8(bio)) [\(hex8(buffer))] (\(requested) bytes => \(result))"
    }

    private static func hex2(_ byte: UInt8) -> String {
        let text = String(byte, radix: 16)
        return byte < 16 ? "0" + text : text
    }

    private static func hex4(_ value: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }

    private static func hex8(_ value: UInt) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - text.count)) + text
    }
}

/// Level 3 and 4: hex dumps of what an `SSL`'s BIO reads and writes, as Postfix hooks `tls_bio_dump_cb` onto the
/// socket BIO (`SSL_get_rbio`). Attach after `SSL_set_fd` (or to the network-side memory BIO), detach after the
/// handshake unless the level asks for everything (``TLSLogMask/allPackets``), as `tls_server_post_accept()` does.
public enum TLSPacketDump {
    /// Starts dumping `bio`'s reads and writes into `sink`. The sink stays alive until ``detach(from:)`` or until
    /// OpenSSL frees the BIO.
    static func attach(to bio: OpaquePointer, sink: TLSLogSink) {
        detach(from: bio)
        let retained = Unmanaged.passRetained(sink).toOpaque()
        _ = sealpost_ctx_bio_set_dump_callback(bio, callback, retained)
    }

    /// Stops dumping (and releases the sink).
    static func detach(from bio: OpaquePointer) {
        guard let raw = sealpost_ctx_bio_get_callback_arg(bio) else { return }
        _ = sealpost_ctx_bio_set_dump_callback(bio, nil, nil)
        Unmanaged<TLSLogSink>.fromOpaque(raw).release()
    }

    /// Attaches the dump to `ssl`'s read BIO when its mask has level 3 (handshake packets).
    static func attachIfWanted(ssl: OpaquePointer, context: TLSContext) {
        let (sink, mask) = context.logging(for: ssl)
        guard mask.contains(.handshakePackets), let sink, let bio = SSL_get_rbio(ssl) else { return }
        attach(to: bio, sink: sink)
    }

    /// After the handshake: stops the dump unless everything is to be dumped (level 4).
    static func handshakeFinished(ssl: OpaquePointer, context: TLSContext) {
        guard !context.logging(for: ssl).mask.contains(.allPackets), let bio = SSL_get_rbio(ssl) else { return }
        detach(from: bio)
    }

    private static let callback: @convention(c) (
        OpaquePointer?, Int32, UnsafePointer<CChar>?, Int, Int32, Int, Int32, UnsafeMutablePointer<Int>?
    ) -> Int = { bio, operation, argp, length, _, _, ret, processed in
        guard let bio else { return Int(ret) }
        if operation == sealpost_ctx_bio_cb_free() {
            // OpenSSL is freeing the BIO: drop our reference to the sink.
            if let raw = sealpost_ctx_bio_get_callback_arg(bio) {
                Unmanaged<TLSLogSink>.fromOpaque(raw).release()
            }
            return Int(ret)
        }
        let isRead = operation == (sealpost_ctx_bio_cb_read() | sealpost_ctx_bio_cb_return())
        let isWrite = operation == (sealpost_ctx_bio_cb_write() | sealpost_ctx_bio_cb_return())
        guard isRead || isWrite, let raw = sealpost_ctx_bio_get_callback_arg(bio) else { return Int(ret) }
        let sink = Unmanaged<TLSLogSink>.fromOpaque(raw).takeUnretainedValue()
        let count = ret > 0 ? (processed?.pointee ?? length) : Int(ret)
        sink.emit(TLSHandshakeLog.dumpHeader(
            read: isRead, bio: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bio))),
            buffer: UInt(bitPattern: argp.map { Int(bitPattern: $0) } ?? 0), requested: length, result: count))
        if ret > 0, let argp {
            let bytes = argp.withMemoryRebound(to: UInt8.self, capacity: count) {
                Array(UnsafeBufferPointer(start: $0, count: count))
            }
            for line in TLSHandshakeLog.dumpLines(bytes) { sink.emit(line) }
        }
        return Int(ret)
    }
}
