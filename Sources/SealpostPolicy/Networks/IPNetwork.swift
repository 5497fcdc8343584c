#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network, as Postfix's `cidr_match_parse()` reads it from `mynetworks` and
/// other address lists: `192.0.2.0/24`, `[2001:db8::]/32`, `2001:db8::/32`, or one address.
struct IPNetwork: Sendable, Hashable {
    /// 4 bytes for IPv4, 16 for IPv6.
    let network: [UInt8]
    let prefixLength: Int

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var bits = prefixLength
        for index in 0..<network.count {
            guard bits > 0 else { return true }
            let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != network[index] { return false }
            bits -= 8
        }
        return true
    }

    // cidr_match.c, cidr_match_parse(): an optional [ ] around the address (IPv6), "/len" inside
    // or after the brackets; the family is IPv6 when the address has a ':'; the mask length must be
    // decimal and at most the address size; host bits must be zero.
    /// Parses a pattern; the failure is Postfix's explanation.
    static func parse(_ text: String) -> Result<IPNetwork, IPNetworkError> {
        var pattern = Substring(text)
        var maskText: Substring?
        if pattern.hasPrefix("[") {
            guard let close = pattern.firstIndex(of: "]") else {
                return .failure(.init("missing ']' character after \"\(text)\""))
            }
            let after = pattern[pattern.index(after: close)...]
            var inside = pattern[pattern.index(after: pattern.startIndex)..<close]
            if after.hasPrefix("/") {
                maskText = after.dropFirst()
            } else if !after.isEmpty {
                return .failure(.init("garbage after \"\(text[..<text.index(after: close)])\""))
            } else if let slash = inside.firstIndex(of: "/") {
                maskText = inside[inside.index(after: slash)...]
                inside = inside[..<slash]
            }
            pattern = inside
        } else if let slash = pattern.firstIndex(of: "/") {
            maskText = pattern[pattern.index(after: slash)...]
            pattern = pattern[..<slash]
        }
        let isIPv6 = pattern.contains(":")
        let bitCount = isIPv6 ? 128 : 32
        guard let bytes = addressBytes(String(pattern)), bytes.count == (isIPv6 ? 16 : 4) else {
            if maskText != nil { return .failure(.init("bad net/mask pattern: \"\(text)\"")) }
            return .failure(.init("bad address pattern: \"\(text)\""))
        }
        guard let maskText else { return .success(IPNetwork(network: bytes, prefixLength: bitCount)) }
        guard !maskText.isEmpty, maskText.utf8.allSatisfy(isASCIIDigit), let length = Int(maskText), length <= bitCount else {
            return .failure(.init("bad net/mask pattern: \"\(text)\""))
        }
        let network = IPNetwork(network: bytes, prefixLength: length)
        let masked = network.masked
        if masked != bytes {
            return .failure(
                .init("non-null host address bits in \"\(text)\", perhaps you should use \"\(presentation(masked))/\(length)\" instead"))
        }
        return .success(network)
    }

    private var masked: [UInt8] {
        var bits = prefixLength
        return network.map { byte in
            defer { bits -= 8 }
            if bits >= 8 { return byte }
            if bits <= 0 { return 0 }
            return byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }

    /// The bytes of a textual address (a ':' means IPv6), or nil.
    static func addressBytes(_ text: String) -> [UInt8]? {
        let isIPv6 = text.contains(":")
        var buffer = [UInt8](repeating: 0, count: 16)
        guard !text.utf8.contains(0) else { return nil }
        let status = text.withCString { string in
            buffer.withUnsafeMutableBytes { inet_pton(isIPv6 ? AF_INET6 : AF_INET, string, $0.baseAddress) }
        }
        guard status == 1 else { return nil }
        return Array(buffer.prefix(isIPv6 ? 16 : 4))
    }

    /// The canonical text of an address given as bytes.
    static func presentation(_ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) != nil }
        guard ok else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Why an address pattern is malformed.
struct IPNetworkError: Error, Sendable, Hashable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
