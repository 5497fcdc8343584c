internal import COpenSSL

/// The calling thread's OpenSSL error queue: cleared before each call, drained into readable strings after a failure.
enum OpenSSLErrorQueue {
    /// Forgets whatever an earlier call left behind, so that a later drain reports only fresh errors.
    static func clear() {
        ERR_clear_error()
    }

    /// Takes every queued error, oldest first, as OpenSSL's `error:…:reason` strings.
    static func drain() -> [String] {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages
    }

    /// The reason code of the most recent queued error, without removing it (0 when the queue is empty).
    static func peekLastReason() -> Int32 {
        ERR_GET_REASON(ERR_peek_last_error())
    }
}
