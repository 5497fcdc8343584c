internal import COpenSSL

/// Postfix's packet dump (TLS log levels 3 and 4) hooked onto a connection's two memory BIOs.
///
/// Postfix hangs `tls_bio_dump_cb` on the socket BIO, where every read and write is OpenSSL's own
/// network traffic. A memory-BIO connection has two BIOs, each with one OpenSSL side and one
/// Sealpost side, so the hook here keeps only OpenSSL's reads of the input BIO and OpenSSL's
/// writes to the output BIO: the same `read from`/`write to` lines as Postfix, without Sealpost's
/// own moving of bytes in between. The lines are formatted by ``TLSHandshakeLog``.
final class NetworkTrafficDump {
    let sink: TLSLogSink
    /// The BIO OpenSSL reads the peer's bytes from.
    let input: OpaquePointer
    /// The BIO OpenSSL writes its records to.
    let output: OpaquePointer

    /// Starts dumping; the dump must stay alive until ``stop()``.
    init(sink: TLSLogSink, input: OpaquePointer, output: OpaquePointer) {
        self.sink = sink
        self.input = input
        self.output = output
        let argument = Unmanaged.passUnretained(self).toOpaque().assumingMemoryBound(to: CChar.self)
        for bio in [input, output] {
            BIO_set_callback_arg(bio, argument)
            BIO_set_callback_ex(bio, networkTrafficDumpCallback)
        }
    }

    /// Stops dumping.
    func stop() {
        for bio in [input, output] {
            BIO_set_callback_ex(bio, nil)
            BIO_set_callback_arg(bio, nil)
        }
    }
}

/// Postfix's `tls_bio_dump_cb` for OpenSSL 3, limited to OpenSSL's side of each BIO.
private let networkTrafficDumpCallback: BIO_callback_fn_ex = { bio, operation, argp, length, _, _, result, processed in
    let isRead = operation == Int32(BIO_CB_READ | BIO_CB_RETURN)
    let isWrite = operation == Int32(BIO_CB_WRITE | BIO_CB_RETURN)
    guard isRead || isWrite, let bio, let argument = BIO_get_callback_arg(bio) else { return Int(result) }
    let dump = Unmanaged<NetworkTrafficDump>.fromOpaque(UnsafeRawPointer(argument)).takeUnretainedValue()
    guard isRead ? bio == dump.input : bio == dump.output else { return Int(result) }
    let count = result > 0 ? (processed?.pointee ?? length) : Int(result)
    dump.sink.emit(TLSHandshakeLog.dumpHeader(
        read: isRead, bio: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bio))),
        buffer: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(argp))), requested: length, result: count))
    if result > 0, let argp {
        let bytes = Array(UnsafeRawBufferPointer(start: argp, count: count))
        for line in TLSHandshakeLog.dumpLines(bytes) { dump.sink.emit(line) }
    }
    return Int(result)
}
