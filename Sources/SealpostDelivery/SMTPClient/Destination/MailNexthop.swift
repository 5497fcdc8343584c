/// A next hop as the SMTP and LMTP clients read it from the queue manager: Postfix's
/// `domain`, `[host]`, `[host]:port`, `host:port`, and for LMTP `unix:/path`, `inet:host:port`.
public enum MailNexthop: Sendable, Hashable {
    /// A domain or host name whose MX records are looked up (`example.com`, `example.com:2525`).
    case mailDomain(String, port: Int)
    /// A host or address used as is, without MX lookup (`[mx.example.com]:587`, `[192.0.2.1]`).
    case host(String, port: Int)
    /// A UNIX-domain socket (LMTP).
    case unixSocket(String)

    /// Parses `text`; `defaultPort` is `smtp_tcp_port` or `lmtp_tcp_port`. LMTP never looks up MX
    /// records: a bare `host:port` is a host there, as in Postfix's lmtp(8).
    public init(parsing text: String, protocolKind: MailClientProtocol, defaultPort: Int) throws(MailNexthopError) {
        var rest = Substring(text)
        var forceHost = protocolKind == .lmtp
        if rest.hasPrefix("unix:") {
            let path = rest.dropFirst(5)
            guard !path.isEmpty else { throw MailNexthopError(nexthop: text, reason: "empty socket path") }
            self = .unixSocket(String(path))
            return
        }
        if rest.hasPrefix("inet:") {
            rest = rest.dropFirst(5)
            forceHost = forceHost || protocolKind == .lmtp
        }
        var port = defaultPort
        var host: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw MailNexthopError(nexthop: text, reason: "missing \"]\"")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Self.port(after.dropFirst()) else {
                    throw MailNexthopError(nexthop: text, reason: "bad port in \"\(after)\"")
                }
                port = number
            }
            forceHost = true
        } else if let colon = rest.lastIndex(of: ":"), !rest[..<colon].contains(":") {
            host = rest[..<colon]
            guard let number = Self.port(rest[rest.index(after: colon)...]) else {
                throw MailNexthopError(nexthop: text, reason: "bad port in \"\(rest[colon...])\"")
            }
            port = number
        } else {
            host = rest
        }
        if host.hasPrefix("ipv6:") || host.hasPrefix("IPv6:") { host = host.dropFirst(5) }
        guard !host.isEmpty else { throw MailNexthopError(nexthop: text, reason: "empty host name") }
        self = forceHost ? .host(String(host), port: port) : .mailDomain(String(host), port: port)
    }

    /// The host or domain without brackets and port: the TLS "nexthop" name and the pool key's host.
    public var name: String {
        switch self {
        case .mailDomain(let name, _), .host(let name, _): name
        case .unixSocket(let path): path
        }
    }

    private static func port(_ text: Substring) -> Int? {
        if let number = Int(text), (1...65535).contains(number) { return number }
        return SMTPClientSettings.port(String(text))
    }
}

/// A next hop that cannot be parsed: a configuration mistake in transport_maps or relayhost.
public struct MailNexthopError: Error, Sendable, CustomStringConvertible {
    public var nexthop: String
    public var reason: String

    public var description: String { "malformed next-hop destination \"\(nexthop)\": \(reason)" }
}
