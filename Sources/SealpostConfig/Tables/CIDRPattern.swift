#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network (`address/prefix`, or one address) as a `cidr:` table names it.
struct CIDRPattern: Sendable, Hashable {
    /// 4 bytes for IPv4, 16 for IPv6.
    let network: [UInt8]
    /// The prefix as a byte mask of the same length.
    let mask: [UInt8]

    /// Whether `address` (4 or 16 bytes, from ``addressBytes(_:)``) is inside the network;
    /// addresses of the other family never are.
    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        for index in 0..<network.count where address[index] & mask[index] != network[index] {
            return false
        }
        return true
    }

    // cidr_table(5): "network_address/network_mask" or a bare "network_address" (all bits);
    // IPv6 addresses may be written as [addr]/len, [addr/len] or addr/len; an address with ':'
    // is IPv6. cidr_match(3): the mask must be decimal and at most the address length, and the
    // host bits of the network address must be zero.
    /// Parses a pattern; the failure text is Postfix's explanation.
    static func parse(_ text: String) -> Result<CIDRPattern, RuleProblem> {
        let bytes = Array(text.utf8)
        func string(_ slice: ArraySlice<UInt8>) -> String { String(decoding: slice, as: UTF8.self) }
        var pattern = bytes[...]
        var maskSearch: ArraySlice<UInt8>
        if pattern.first == UInt8(ascii: "[") {
            pattern = pattern.dropFirst()
            guard let close = pattern.firstIndex(of: UInt8(ascii: "]")) else {
                return .failure("missing ']' character after \"[\(string(pattern))\"")
            }
            let after = pattern[(close + 1)...]
            pattern = pattern[..<close]
            if after.first == UInt8(ascii: "/") {
                maskSearch = after
            } else if after.isEmpty {
                maskSearch = pattern
            } else {
                return .failure("garbage after \"[\(string(pattern))]\"")
            }
        } else {
            maskSearch = pattern
        }
        var maskText: ArraySlice<UInt8>?
        if let slash = maskSearch.firstIndex(of: UInt8(ascii: "/")) {
            maskText = maskSearch[(slash + 1)...]
            if maskSearch.startIndex == pattern.startIndex { pattern = pattern[..<slash] }
        }
        let isIPv6 = pattern.contains(UInt8(ascii: ":"))
        let bitCount = isIPv6 ? 128 : 32
        let network = addressBytes(string(pattern), isIPv6: isIPv6)

        guard let maskText else {
            guard let network else { return .failure("bad address pattern: \"\(string(pattern))\"") }
            return .success(CIDRPattern(network: network, mask: [UInt8](repeating: 0xFF, count: network.count)))
        }
        let written = "\(string(pattern))/\(string(maskText))"
        guard !maskText.isEmpty, maskText.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure("bad mask value in \"\(written)\"")
        }
        guard let prefix = Int(string(maskText)), prefix <= bitCount else {
            return .failure("bad mask length in \"\(written)\"")
        }
        guard let network else { return .failure("bad network value in \"\(written)\"") }
        let mask = maskBytes(prefix: prefix, count: network.count)
        let masked = zip(network, mask).map { $0 & $1 }
        if masked != network {
            return .failure(
                "non-null host address bits in \"\(written)\", perhaps you should use \"\(presentation(masked))/\(prefix)\" instead"
            )
        }
        return .success(CIDRPattern(network: network, mask: mask))
    }

    /// The bytes of an address in text form, the family chosen as Postfix does (a ':' means
    /// IPv6); nil when it is not an address (as for `[1.2.3.4]`, or a host name).
    static func addressBytes(_ text: String) -> [UInt8]? {
        addressBytes(text, isIPv6: text.utf8.contains(UInt8(ascii: ":")))
    }

    private static func addressBytes(_ text: String, isIPv6: Bool) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        guard !text.utf8.contains(0) else { return nil }
        let result = text.withCString { string in
            buffer.withUnsafeMutableBytes { inet_pton(isIPv6 ? AF_INET6 : AF_INET, string, $0.baseAddress) }
        }
        guard result == 1 else { return nil }
        return Array(buffer.prefix(isIPv6 ? 16 : 4))
    }

    private static func maskBytes(prefix: Int, count: Int) -> [UInt8] {
        (0..<count).map { index in
            let bits = min(max(prefix - index * 8, 0), 8)
            return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }

    private static func presentation(_ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) != nil
        }
        return ok ? stringUpToNUL(text) : "?"
    }
}
