#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an `inet` service listens, from its master.cf service field.
///
/// As in Postfix: a bare service name or port listens on every address of `inet_interfaces`;
/// `host:port` and `[host]:port` listen on that host only. Ports are numbers or service names
/// (`smtp` 25, `submission` 587, `smtps`/`submissions` 465, others from the system's services
/// database).
public struct ServiceEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A specific host (address or name) to listen on, or nil for `inet_interfaces`.
    public var host: String?
    public var port: Int

    public init(host: String?, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        guard let host else { return String(port) }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Parses a master.cf service field of an inet service; the failure text says what is wrong.
    public static func parse(_ field: String) -> Result<ServiceEndpoint, EndpointProblem> {
        var host: String?
        var portText = field
        if field.hasPrefix("[") {
            guard let close = field.firstIndex(of: "]") else { return .failure(.init(reason: "missing ']' after the address")) }
            host = String(field[field.index(after: field.startIndex)..<close])
            let rest = field[field.index(after: close)...]
            guard rest.hasPrefix(":"), rest.count > 1 else {
                return .failure(.init(reason: "expected [address]:port"))
            }
            portText = String(rest.dropFirst())
        } else if let colon = field.lastIndex(of: ":") {
            let hostPart = String(field[..<colon])
            guard !hostPart.contains(":") else {
                return .failure(.init(reason: "an IPv6 address must be written as [address]:port"))
            }
            host = hostPart
            portText = String(field[field.index(after: colon)...])
        }
        if let given = host, given.isEmpty || given == "*" { host = nil }
        guard let port = resolvePort(portText) else {
            return .failure(.init(reason: "unknown service or port \"\(portText)\""))
        }
        return .success(ServiceEndpoint(host: host, port: port))
    }

    /// The well-known mail ports, so they resolve even without /etc/services.
    public static let wellKnownPorts: [String: Int] = [
        "smtp": 25, "submission": 587, "smtps": 465, "submissions": 465, "lmtp": 24,
    ]

    static func resolvePort(_ text: String) -> Int? {
        if !text.isEmpty && text.allSatisfy(\.isASCIIDigit) {
            guard let port = Int(text), (1...65535).contains(port) else { return nil }
            return port
        }
        if let port = wellKnownPorts[text] { return port }
        guard !text.isEmpty, let entry = getservbyname(text, "tcp") else { return nil }
        return Int(UInt16(bigEndian: UInt16(truncatingIfNeeded: entry.pointee.s_port)))
    }

    /// Why a service field is not a listen address.
    public struct EndpointProblem: Error, Sendable, Hashable {
        public var reason: String
    }
}
