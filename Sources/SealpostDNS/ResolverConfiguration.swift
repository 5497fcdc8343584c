import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where and how ``StubResolver`` asks: name servers, the time per try, tries per server, rotation.
///
/// Read from resolv.conf with glibc's rules (resolv.conf(5)): at most three `nameserver` lines
/// (IPv4 or IPv6 literals, port 53), `options timeout:N` (seconds, at most 30), `attempts:N` (at
/// most 5), `rotate`. Without a usable `nameserver` line the server is 127.0.0.1, as glibc does.
/// `search`, `domain` and `ndots` are read past: mail looks up absolute names only.
public struct ResolverConfiguration: Sendable, Hashable {
    /// The servers, asked in this order (or starting at the next one each time with `rotate`).
    public var servers: [SocketAddress]
    /// How long one try waits for an answer, over UDP or TCP.
    public var timeout: TimeAmount
    /// Rounds over all servers before giving up.
    public var attempts: Int
    /// Spread queries over the servers (`options rotate`).
    public var rotate: Bool
    /// The EDNS0 payload size advertised; nil sends queries without an OPT record.
    public var ednsPayloadSize: UInt16?

    /// glibc's defaults: RES_TIMEOUT 5 s, RES_DFLRETRY 2, MAXNS 3.
    public static let defaultTimeout = TimeAmount.seconds(5)
    public static let defaultAttempts = 2
    public static let maximumServers = 3

    public init(
        servers: [SocketAddress], timeout: TimeAmount = defaultTimeout, attempts: Int = defaultAttempts,
        rotate: Bool = false, ednsPayloadSize: UInt16? = DNSQueryEncoder.defaultPayloadSize
    ) {
        self.servers = servers
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.rotate = rotate
        self.ednsPayloadSize = ednsPayloadSize
    }

    /// The configuration in `path` (default /etc/resolv.conf); a missing or unreadable file gives
    /// glibc's defaults.
    public static func system(path: String = "/etc/resolv.conf") -> ResolverConfiguration {
        guard let text = readText(path) else { return ResolverConfiguration(text: "") }
        return ResolverConfiguration(text: text)
    }

    /// Parses resolv.conf text. Lines glibc would ignore (unknown keywords, bad addresses, options out
    /// of range) are ignored the same way.
    public init(text: String) {
        var servers: [SocketAddress] = []
        var timeout = Self.defaultTimeout
        var attempts = Self.defaultAttempts
        var rotate = false
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            let arguments = words.dropFirst().prefix { !$0.hasPrefix("#") && !$0.hasPrefix(";") }
            switch keyword {
            case "nameserver":
                guard servers.count < Self.maximumServers, let address = arguments.first,
                    let server = Self.serverAddress(String(address))
                else { continue }
                servers.append(server)
            case "options":
                for option in arguments {
                    if option == "rotate" {
                        rotate = true
                    } else if option.hasPrefix("timeout:"), let seconds = Int(option.dropFirst(8)), seconds >= 0 {
                        // glibc: RES_MAXRETRANS 30; a zero timeout would never wait, so at least one second.
                        timeout = .seconds(Int64(min(max(seconds, 1), 30)))
                    } else if option.hasPrefix("attempts:"), let count = Int(option.dropFirst(9)), count >= 0 {
                        attempts = min(max(count, 1), 5)
                    }
                }
            default:
                continue
            }
        }
        if servers.isEmpty, let loopback = try? SocketAddress(ipAddress: "127.0.0.1", port: 53) {
            servers = [loopback]
        }
        self.init(servers: servers, timeout: timeout, attempts: attempts, rotate: rotate)
    }

    /// A nameserver address: an IPv4 or IPv6 literal (an IPv6 zone, `%eth0`, is not supported).
    static func serverAddress(_ text: String) -> SocketAddress? {
        try? SocketAddress(ipAddress: text, port: 53)
    }

    private static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
            // resolv.conf is a few lines; a huge file is not one.
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
