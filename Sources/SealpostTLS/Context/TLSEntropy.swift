#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
internal import COpenSSL
import SealpostConfig

/// `tls_random_source`: where extra entropy for OpenSSL's generator comes from.
public enum TLSRandomSource: Sendable, Hashable, CustomStringConvertible {
    /// `dev:/dev/urandom`: a device read with `read(2)`.
    case device(String)
    /// `egd:/path`: an EGD-compatible Unix-domain socket.
    case egd(String)
    /// A regular file (read once: its content does not change).
    case file(String)
    /// An empty value: no external source (Postfix warns that keys may be predictable; OpenSSL 3 still seeds
    /// itself from the kernel).
    case none

    public init(_ value: String) {
        if value.isEmpty {
            self = .none
        } else if value.hasPrefix("dev:") {
            self = .device(String(value.dropFirst(4)))
        } else if value.hasPrefix("egd:") {
            self = .egd(String(value.dropFirst(4)))
        } else {
            self = .file(value)
        }
    }

    public var description: String {
        switch self {
        case .device(let path): "dev:\(path)"
        case .egd(let path): "egd:\(path)"
        case .file(let path): path
        case .none: ""
        }
    }
}

/// Seeds OpenSSL's generator from `tls_random_source` the way Postfix does it.
///
/// Postfix's tlsmgr opens the source at start-up, feeds `tls_random_bytes` bytes to `RAND_seed()`, and reads it
/// again at a random time within `tls_random_reseed_period` (a regular file only once); smtpd and smtp add the time
/// and process ID (`tls_int_seed()`) and more bytes from tlsmgr when they set up TLS. Sealpost has no tlsmgr:
/// the context builders read the source when a context is made — an unreadable source is an error naming it, as
/// Postfix's "no entropy for TLS key generation: disabling TLS support" — and ``reseedIfDue()`` reads it again
/// once the reseed period has passed, when a context is used for a handshake.
///
/// OpenSSL 3's own DRBG seeds itself from the kernel (getrandom) and reseeds on its own schedule, so this input
/// is added on top of that; it never replaces it.
public final class TLSEntropySeeder: Sendable {
    public let source: TLSRandomSource
    public let bytes: Int
    public let reseedPeriod: Int
    private let lastSeed: Mutex<Int>

    /// Reads the source once now; throws when it cannot be opened or read.
    public init(source: TLSRandomSource, bytes: Int, reseedPeriod: Int) throws(TLSConfigurationError) {
        self.source = source
        self.bytes = max(1, bytes)
        self.reseedPeriod = max(1, reseedPeriod)
        self.lastSeed = Mutex(Int(time(nil)))
        Self.seedWithTimeAndProcess()
        try seedNow()
    }

    /// The seeder `tls_random_source`, `tls_random_bytes` and `tls_random_reseed_period` describe.
    public convenience init(_ configuration: ServiceConfiguration) throws(TLSConfigurationError) {
        try self.init(
            source: TLSRandomSource(configuration.string("tls_random_source")),
            bytes: configuration.integer("tls_random_bytes"),
            reseedPeriod: configuration.seconds("tls_random_reseed_period"))
    }

    /// Reads the source again when `tls_random_reseed_period` has passed since the last read; returns the number
    /// of bytes fed to OpenSSL (0 when not due). A failure here is not fatal — OpenSSL keeps its own seeding —
    /// and is returned for the log.
    @discardableResult
    public func reseedIfDue(now: Int? = nil) -> Result<Int, TLSConfigurationError> {
        let now = now ?? Int(time(nil))
        let due = lastSeed.withLock { last in
            guard now - last >= reseedPeriod else { return false }
            last = now
            return true
        }
        guard due else { return .success(0) }
        Self.seedWithTimeAndProcess()
        if case .file = source { return .success(0) }
        do {
            return .success(try seedNow())
        } catch {
            return .failure(error)
        }
    }

    /// Feeds `bytes` bytes from the source to `RAND_seed`.
    @discardableResult
    func seedNow() throws(TLSConfigurationError) -> Int {
        let data: [UInt8]
        switch source {
        case .none:
            return 0
        case .device(let path):
            data = try Self.readDevice(path, count: bytes)
        case .file(let path):
            data = try Self.readFile(path, count: bytes)
        case .egd(let path):
            data = try EGDClient.read(socketPath: path, count: bytes)
        }
        RAND_seed(data, Int32(data.count))
        return data.count
    }

    /// Postfix's `tls_int_seed()`: the process ID and the time of day, a few bits that differ per process.
    static func seedWithTimeAndProcess() {
        var seed = (getpid(), timeval())
        gettimeofday(&seed.1, nil)
        withUnsafeBytes(of: &seed) { RAND_seed($0.baseAddress, Int32($0.count)) }
    }

    private static func unavailable(_ path: String, _ what: String) -> TLSConfigurationError {
        TLSConfigurationError(
            .randomSourceUnavailable, parameter: "tls_random_source", path: path,
            reason: "tls_random_source: \(what); no entropy for TLS key generation")
    }

    /// A device: up to 255 bytes per read, as Postfix's `tls_prng_dev_read()`.
    static func readDevice(_ path: String, count: Int) throws(TLSConfigurationError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw unavailable(path, "cannot open entropy device \(path): \(CredentialFile.describe(errno: errno))")
        }
        defer { close(descriptor) }
        switch SystemFile.readUpTo(descriptor, count: min(count, 255)) {
        case .success(let data) where !data.isEmpty:
            return data
        case .success:
            throw unavailable(path, "cannot read from entropy device \(path): end of file")
        case .failure(let problem):
            throw unavailable(path, problem.describe(what: "entropy device", path: path))
        }
    }

    /// A regular file: up to `count` bytes from its start, as Postfix's `tls_prng_file_read()`.
    static func readFile(_ path: String, count: Int) throws(TLSConfigurationError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                throw unavailable(path, "entropy file \(path) does not exist")
            }
            throw unavailable(path, "cannot open entropy file \(path): \(CredentialFile.describe(errno: code))")
        }
        defer { close(descriptor) }
        switch SystemFile.readUpTo(descriptor, count: count) {
        case .success(let data) where !data.isEmpty:
            return data
        case .success:
            throw unavailable(path, "cannot read from entropy file \(path): it is empty")
        case .failure(let problem):
            throw unavailable(path, problem.describe(what: "entropy file", path: path))
        }
    }
}

/// The client half of the Entropy Gathering Daemon protocol, as Postfix's `tls_prng_egd_read()` speaks it:
/// command 0x01 (read without blocking) with a byte count up to 255; the answer is a count byte and that many bytes.
enum EGDClient {
    static func read(socketPath path: String, count: Int) throws(TLSConfigurationError) -> [UInt8] {
        func failure(_ what: String) -> TLSConfigurationError {
            TLSConfigurationError(
                .randomSourceUnavailable, parameter: "tls_random_source", path: path,
                reason: "tls_random_source: \(what); no entropy for TLS key generation")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw failure("EGD socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        #if canImport(Glibc)
        let socketType = Int32(SOCK_STREAM.rawValue)
        #else
        let socketType = SOCK_STREAM
        #endif
        let descriptor = socket(AF_UNIX, socketType, 0)
        guard descriptor >= 0 else { throw failure("cannot create a socket: \(CredentialFile.describe(errno: errno))") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            throw failure("cannot connect to EGD server \(path): \(CredentialFile.describe(errno: errno))")
        }
        let request: [UInt8] = [1, UInt8(min(count, 255))]
        guard write(descriptor, request, 2) == 2 else {
            throw failure("cannot write to EGD server \(path): \(CredentialFile.describe(errno: errno))")
        }
        guard case .success(let header) = SystemFile.readUpTo(descriptor, count: 1), header.count == 1 else {
            throw failure("cannot read from EGD server \(path)")
        }
        guard header[0] > 0 else { throw failure("EGD server \(path) reports zero bytes available") }
        guard case .success(let data) = SystemFile.readUpTo(descriptor, count: Int(header[0])),
              data.count == Int(header[0])
        else {
            throw failure("cannot read \(header[0]) bytes from EGD server \(path)")
        }
        return data
    }
}
