#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What Postfix reads from the machine to compute host-dependent defaults (`myhostname`,
/// `mydomain`, `mynetworks`). Injected, so tests do not depend on the machine they run on.
public struct HostFacts: Sendable, Hashable {
    /// One address of a network interface, with its prefix length.
    public struct InterfaceAddress: Sendable, Hashable {
        public var address: String
        public var prefixLength: Int
        public var isIPv6: Bool

        public init(address: String, prefixLength: Int, isIPv6: Bool) {
            self.address = address
            self.prefixLength = prefixLength
            self.isIPv6 = isIPv6
        }
    }

    /// The name `gethostname()` returns.
    public var hostname: String
    /// The interface addresses, loopback included, in the order the system lists them.
    public var interfaceAddresses: [InterfaceAddress]
    /// The process id, for `process_id`.
    public var processID: Int

    public init(hostname: String, interfaceAddresses: [InterfaceAddress], processID: Int) {
        self.hostname = hostname
        self.interfaceAddresses = interfaceAddresses
        self.processID = processID
    }

    /// The facts of the machine this process runs on.
    public static func current() -> HostFacts {
        var name = [CChar](repeating: 0, count: 256)
        let hostname = gethostname(&name, name.count - 1) == 0 ? String(cString: name) : "localhost"
        return HostFacts(hostname: hostname, interfaceAddresses: currentInterfaceAddresses(), processID: Int(getpid()))
    }

    private static func currentInterfaceAddresses() -> [InterfaceAddress] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var result: [InterfaceAddress] = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, let netmask = entry.pointee.ifa_netmask else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            guard let text = numericHost(address, family: family) else { continue }
            let maskBytes: [UInt8] =
                family == AF_INET
                ? netmask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                }
                : netmask.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
            let prefix = maskBytes.reduce(0) { $0 + $1.nonzeroBitCount }
            result.append(InterfaceAddress(address: text, prefixLength: prefix, isIPv6: family == AF_INET6))
        }
        return result
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>, family: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        var text = String(cString: buffer)
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }  // drop the scope id
        return text
    }
}

extension HostFacts {
    /// `myhostname`'s default: the host name, with `.$mydomain` (or `.localdomain`) appended when
    /// it has no dot — never a DNS lookup, as in Postfix.
    func defaultHostname(configuredDomain: String?) -> String {
        if hostname.contains(".") { return hostname }
        return "\(hostname).\(configuredDomain ?? "localdomain")"
    }

    /// `mynetworks`' default for a `mynetworks_style` (`host`, `subnet` or `class`), IPv4 first, as
    /// Postfix lists it, limited to the address families `inet_protocols` enables.
    func defaultNetworks(style: String, ipv4: Bool, ipv6: Bool) -> String {
        let ordered = interfaceAddresses.filter { !$0.isIPv6 && ipv4 } + interfaceAddresses.filter { $0.isIPv6 && ipv6 }
        var networks: [String] = []
        for interface in ordered {
            let prefix: Int
            switch style.lowercased() {
            case "subnet":
                prefix = interface.prefixLength
            case "class":
                prefix = interface.isIPv6 ? interface.prefixLength : Self.classfulPrefix(of: interface.address)
            default:
                prefix = interface.isIPv6 ? 128 : 32
            }
            let network = IPNetwork.networkAddress(interface.address, prefixLength: prefix) ?? interface.address
            let text = interface.isIPv6 ? "[\(network)]/\(prefix)" : "\(network)/\(prefix)"
            if !networks.contains(text) { networks.append(text) }
        }
        return networks.joined(separator: " ")
    }

    private static func classfulPrefix(of address: String) -> Int {
        guard let first = address.split(separator: ".").first.flatMap({ Int($0) }) else { return 32 }
        switch first {
        case 0..<128: return 8
        case 128..<192: return 16
        case 192..<224: return 24
        default: return 32
        }
    }
}

/// Small helpers for textual IP networks.
enum IPNetwork {
    /// The network address of `address` with `prefixLength` bits kept, in canonical text form.
    static func networkAddress(_ address: String, prefixLength: Int) -> String? {
        if address.contains(":") {
            var bytes = in6_addr()
            guard inet_pton(AF_INET6, address, &bytes) == 1 else { return nil }
            withUnsafeMutableBytes(of: &bytes) { masked($0, prefixLength: prefixLength) }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &bytes, &text, socklen_t(text.count)) != nil else { return nil }
            return String(cString: text)
        }
        var bytes = in_addr()
        guard inet_pton(AF_INET, address, &bytes) == 1 else { return nil }
        withUnsafeMutableBytes(of: &bytes) { masked($0, prefixLength: prefixLength) }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &bytes, &text, socklen_t(text.count)) != nil else { return nil }
        return String(cString: text)
    }

    private static func masked(_ raw: UnsafeMutableRawBufferPointer, prefixLength: Int) {
        for index in 0..<raw.count {
            let keep = max(0, min(8, prefixLength - index * 8))
            raw[index] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
    }
}
