#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// ``PolicyDNSResolver`` over the system's resolver: DNS questions through libresolv's
/// `res_nsend()` with `/etc/resolv.conf`'s servers, a per-try timeout and a number of tries;
/// client names through getnameinfo(3) and getaddrinfo(3), as Postfix looks them up.
///
/// The blocking calls run on Dispatch's global queue, never on the caller's thread.
public struct SystemDNSResolver: PolicyDNSResolver {
    /// Seconds to wait for each server's answer (the resolver's `retrans`).
    public var timeoutSeconds: Int32
    /// How many times to ask each server (the resolver's `retry`).
    public var attempts: Int32
    /// IPv4 name servers used instead of resolv.conf's (tests), with their ports.
    var nameservers: [(address: String, port: UInt16)]

    /// A resolver with the given per-try timeout and tries per server.
    public init(timeoutSeconds: Int32 = 5, attempts: Int32 = 2) {
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
        self.nameservers = []
    }

    init(timeoutSeconds: Int32, attempts: Int32, nameservers: [(address: String, port: UInt16)]) {
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
        self.nameservers = nameservers
    }

    public func lookup(_ name: String, type: DNSRecordType) async -> DNSLookupResult {
        let ascii = name.utf8.allSatisfy { $0 < 0x80 } ? name : Punycode.asciiDomain(name)
        guard let ascii, let query = DNSMessage.query(id: UInt16.random(in: 0...UInt16.max), name: ascii, type: type) else {
            return .malformed
        }
        let settings = (timeoutSeconds, attempts, nameservers)
        return await Self.onBackgroundThread {
            guard let answer = Resolver.send(query, timeout: settings.0, attempts: settings.1, nameservers: settings.2) else {
                return .temporaryFailure
            }
            return DNSMessage.parseResponse(answer, type: type)
        }
    }

    // smtpd_peer.c and myaddrinfo.c, sockaddr_to_hostname(): getnameinfo() with NI_NAMEREQD;
    // EAI_AGAIN, EAI_MEMORY and EAI_SYSTEM are temporary; a numeric or malformed name counts as
    // no name.
    public func hostname(forAddress address: String) async -> NameServiceResult {
        await Self.onBackgroundThread {
            guard let bytes = IPNetwork.addressBytes(address) else { return .notFound }
            var host = [CChar](repeating: 0, count: 1025)
            let status: Int32
            if bytes.count == 4 {
                var socketAddress = sockaddr_in()
                socketAddress.sin_family = sa_family_t(AF_INET)
                withUnsafeMutableBytes(of: &socketAddress.sin_addr) { $0.copyBytes(from: bytes) }
                status = withUnsafePointer(to: &socketAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        getnameinfo($0, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
                    }
                }
            } else {
                var socketAddress = sockaddr_in6()
                socketAddress.sin6_family = sa_family_t(AF_INET6)
                withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: bytes) }
                status = withUnsafePointer(to: &socketAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        getnameinfo($0, socklen_t(MemoryLayout<sockaddr_in6>.size), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
                    }
                }
            }
            if status == EAI_AGAIN || status == EAI_MEMORY || status == EAI_SYSTEM { return .temporaryFailure }
            guard status == 0 else { return .notFound }
            let name = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .found([name])
        }
    }

    // myaddrinfo.c, hostname_to_sockaddr(): getaddrinfo() for stream sockets.
    public func addresses(forHostname name: String) async -> NameServiceResult {
        await Self.onBackgroundThread {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            #else
            hints.ai_socktype = SOCK_STREAM
            #endif
            var head: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(name, nil, &hints, &head)
            if status == EAI_AGAIN || status == EAI_MEMORY || status == EAI_SYSTEM { return .temporaryFailure }
            guard status == 0, let first = head else { return .notFound }
            defer { freeaddrinfo(head) }
            var result: [String] = []
            for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
                var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                    var address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if let percent = address.firstIndex(of: "%") { address = String(address[..<percent]) }
                    if !result.contains(address) { result.append(address) }
                }
            }
            return result.isEmpty ? .notFound : .found(result)
        }
    }

    private static func onBackgroundThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}

/// libresolv's res_ninit(), res_nsend() and res_nclose(), found at run time: Swift does not
/// import `<resolv.h>`, whose functions are macros over versioned symbols.
private enum Resolver {
    typealias InitFunction = @convention(c) (UnsafeMutableRawPointer) -> Int32
    typealias SendFunction = @convention(c) (UnsafeMutableRawPointer, UnsafePointer<UInt8>, Int32, UnsafeMutablePointer<UInt8>, Int32) -> Int32
    typealias CloseFunction = @convention(c) (UnsafeMutableRawPointer) -> Void

    struct Functions: @unchecked Sendable {
        let initialize: InitFunction
        let send: SendFunction
        let close: CloseFunction
    }

    static let functions: Functions? = {
        var handles: [UnsafeMutableRawPointer?] = []
        if let handle = dlopen("libresolv.so.2", RTLD_NOW) { handles.append(handle) }
        handles.append(UnsafeMutableRawPointer(bitPattern: 0))  // RTLD_DEFAULT
        func symbol(_ names: [String]) -> UnsafeMutableRawPointer? {
            for handle in handles {
                for name in names {
                    if let pointer = dlsym(handle, name) { return pointer }
                }
            }
            return nil
        }
        guard let initialize = symbol(["res_ninit", "__res_ninit"]), let send = symbol(["res_nsend", "__res_nsend"]),
            let close = symbol(["res_nclose", "__res_nclose"])
        else { return nil }
        return Functions(
            initialize: unsafeBitCast(initialize, to: InitFunction.self), send: unsafeBitCast(send, to: SendFunction.self),
            close: unsafeBitCast(close, to: CloseFunction.self))
    }()

    // glibc's struct __res_state begins with `int retrans; int retry; unsigned long options;
    // int nscount; struct sockaddr_in nsaddr_list[3];` — a layout fixed by its ABI. The rest of
    // the structure is left to res_ninit() in an oversized zeroed buffer.
    static func send(_ query: [UInt8], timeout: Int32, attempts: Int32, nameservers: [(address: String, port: UInt16)]) -> [UInt8]? {
        guard let functions else { return nil }
        let state = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
        state.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        defer { state.deallocate() }
        guard functions.initialize(state) == 0 else { return nil }
        defer { functions.close(state) }
        state.storeBytes(of: max(timeout, 1), toByteOffset: 0, as: Int32.self)
        state.storeBytes(of: max(attempts, 1), toByteOffset: 4, as: Int32.self)
        if !nameservers.isEmpty {
            let servers = nameservers.prefix(3)
            state.storeBytes(of: Int32(servers.count), toByteOffset: 16, as: Int32.self)
            for (index, server) in servers.enumerated() {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = server.port.bigEndian
                guard inet_pton(AF_INET, server.address, &address.sin_addr) == 1 else { return nil }
                withUnsafeBytes(of: address) { raw in
                    (state + 20 + index * MemoryLayout<sockaddr_in>.size).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
                }
            }
        }
        var answer = [UInt8](repeating: 0, count: 65535)
        let length = query.withUnsafeBufferPointer { queryBytes in
            answer.withUnsafeMutableBufferPointer { answerBytes in
                functions.send(state, queryBytes.baseAddress!, Int32(queryBytes.count), answerBytes.baseAddress!, Int32(answerBytes.count))
            }
        }
        guard length > 0 else { return nil }
        return Array(answer.prefix(Int(length)))
    }
}
