internal import COpenSSL
internal import CSealpostShims

/// Owns an OpenSSL memory BIO: a read-only view of Swift bytes, or a growable sink for PEM output.
final class MemoryBIO {
    let pointer: OpaquePointer
    /// Keeps the bytes of a read-only BIO alive: `BIO_new_mem_buf` does not copy them.
    private let backing: UnsafeMutableRawBufferPointer?

    /// A read-only BIO over a private copy of `bytes`.
    init?(reading bytes: [UInt8]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        copy.copyBytes(from: bytes)
        guard let bio = BIO_new_mem_buf(copy.baseAddress, Int32(bytes.count)) else {
            copy.deallocate()
            return nil
        }
        self.pointer = bio
        self.backing = copy
    }

    /// An empty BIO that collects what OpenSSL writes into it.
    init?() {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        self.pointer = bio
        self.backing = nil
    }

    deinit {
        BIO_free(pointer)
        backing?.deallocate()
    }

    /// Everything written so far, as bytes.
    var contents: [UInt8] {
        var data: UnsafePointer<CChar>?
        let count = sealpost_bio_get_mem_data(pointer, &data)
        guard count > 0, let data else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: Int(count)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(count)))
        }
    }

    /// Everything written so far, as UTF-8 text.
    var text: String {
        String(decoding: contents, as: UTF8.self)
    }
}
