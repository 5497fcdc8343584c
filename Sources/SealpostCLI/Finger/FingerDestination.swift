/// A posttls-finger destination: `domain` (MX lookup), `host:port` or `host:service` (MX lookup on host),
/// `[host]`, `[host]:port` or `[addr]:port` (no MX lookup; `[ipv6:addr]` for IPv6).
struct FingerDestination: Equatable {
    /// The next-hop domain or host, without brackets or port.
    var host: String
    var port: Int
    /// False for the bracketed forms, which suppress the MX lookup.
    var lookUpMX: Bool

    /// Why a destination argument is unusable.
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// The well-known services posttls-finger resolves through /etc/services.
    private static let services: [String: Int] = ["smtp": 25, "submission": 587, "smtps": 465, "submissions": 465, "lmtp": 24]

    init(host: String, port: Int, lookUpMX: Bool) {
        self.host = host
        self.port = port
        self.lookUpMX = lookUpMX
    }

    init(parsing text: String, defaultPort: Int = 25) throws(Invalid) {
        var rest = Substring(text)
        if rest.hasPrefix("inet:") { rest = rest.dropFirst(5) }
        var host: Substring
        var service: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw Invalid(description: "malformed destination: \(text)") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Invalid(description: "malformed destination: \(text)") }
                service = after.dropFirst()
            }
            if host.lowercased().hasPrefix("ipv6:") { host = host.dropFirst(5) }
            lookUpMX = false
        } else {
            if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                service = rest[rest.index(after: colon)...]
            } else {
                host = rest
            }
            lookUpMX = true
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw Invalid(description: "malformed destination: \(text)")
        }
        self.host = String(host)
        if let service {
            if let number = Int(service), (1...65535).contains(number) {
                port = number
            } else if let number = Self.services[service.lowercased()] {
                port = number
            } else {
                throw Invalid(description: "unknown service: \(service)/tcp")
            }
        } else {
            port = defaultPort
        }
    }

    /// Whether `host` is an IPv4 or IPv6 address literal.
    var hostIsAddress: Bool { FingerDestination.isAddress(host) }

    static func isAddress(_ text: String) -> Bool {
        if text.contains(":") { return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in Int(part).map { (0...255).contains($0) } ?? false }
    }
}
