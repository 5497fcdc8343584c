import SealpostConfig

/// Postfix's host name/address match list (namadr_list(3), match_list.c, match_ops.c), as
/// `mynetworks` uses it: each pattern is tried against the client name, then against the client
/// address; the first pattern that matches decides, and a `!` in front makes that decision "no".
///
/// Patterns: `type:table` (looked up with the name and its parent domains, then the address),
/// `/file/name` (more patterns, one or more per line), a host or domain name, an address, an
/// address in brackets, or a network `192.0.2.0/24` / `[2001:db8::]/32`.
public struct ClientMatchList: Sendable {
    private enum Pattern: Sendable {
        case table(any LookupTable)
        /// A pattern compared as text (already lowercased); `network` when it also reads as one.
        case text(String, network: IPNetwork?)
    }

    private let patterns: [(negated: Bool, pattern: Pattern)]
    /// Whether the list's parameter is named in `parent_domain_matches_subdomains`.
    private let parentMatchesSubdomains: Bool
    /// The parameter the list came from.
    public let parameter: String

    /// Parses the words of a list parameter; tables are opened and files read now, and malformed
    /// networks are errors here (Postfix would fail each lookup with a temporary error).
    public init(
        parameter: String, words: [String], parentMatchesSubdomains: Bool, options: TableOptions = TableOptions()
    ) throws(PolicyConfigurationError) {
        self.parameter = parameter
        self.parentMatchesSubdomains = parentMatchesSubdomains
        var patterns: [(Bool, Pattern)] = []
        try Self.collect(words, negated: false, into: &patterns, parameter: parameter, options: options, depth: 0)
        self.patterns = patterns
    }

    /// Whether the client `name` (or "unknown") and `address` match. Throws when a table cannot be
    /// searched.
    public func matches(name: String, address: String) throws -> Bool {
        let foldedName = name.lowercased()
        let foldedAddress = address.lowercased()
        for (negated, pattern) in patterns {
            if try matchesHostname(foldedName, pattern) || (try matchesAddress(foldedAddress, pattern)) {
                return !negated
            }
        }
        return false
    }

    /// Whether the list has no patterns.
    public var isEmpty: Bool { patterns.isEmpty }

    // match_ops.c, match_hostname(): a table is searched with the name and, when it holds fixed
    // strings, with each parent domain (".parent", or "parent" with parent matching); a text
    // pattern matches the name exactly, or as a parent domain: "example.com" matches
    // "x.example.com" with parent matching, ".example.com" does otherwise.
    private func matchesHostname(_ name: String, _ pattern: Pattern) throws -> Bool {
        switch pattern {
        case .table(let table):
            let bytes = Array(name.utf8)
            var start = 0
            while start < bytes.count {
                if start == 0 || !table.isPattern {
                    if try table.lookup(String(decoding: bytes[start...], as: UTF8.self)) != nil { return true }
                }
                guard start + 1 < bytes.count, let dot = bytes[(start + 1)...].firstIndex(of: UInt8(ascii: ".")) else { break }
                start = parentMatchesSubdomains ? dot + 1 : dot
            }
            return false
        case .text(let text, _):
            if name == text { return true }
            if parentMatchesSubdomains {
                return name.utf8.count > text.utf8.count && name.hasSuffix("." + text)
            }
            return text.hasPrefix(".") && name.utf8.count > text.utf8.count && name.hasSuffix(text)
        }
    }

    // match_ops.c, match_hostaddr(): only address-like text is compared; a table is searched with
    // the address; a text pattern matches the address or "[address]" exactly, or as a network of
    // the same family.
    private func matchesAddress(_ address: String, _ pattern: Pattern) throws -> Bool {
        guard address.utf8.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }) else {
            return false
        }
        switch pattern {
        case .table(let table):
            return try table.lookup(address) != nil
        case .text(let text, let network):
            if text == address || text == "[\(address)]" { return true }
            guard let network, address.contains(":") == text.contains(":"), let bytes = IPNetwork.addressBytes(address) else {
                return false
            }
            return network.contains(bytes)
        }
    }

    private static func collect(
        _ words: [String], negated: Bool, into patterns: inout [(Bool, Pattern)], parameter: String,
        options: TableOptions, depth: Int
    ) throws(PolicyConfigurationError) {
        for word in words {
            var item = Substring(word)
            var negate = negated
            while item.hasPrefix("!") {
                negate.toggle()
                item = item.dropFirst()
            }
            guard !item.isEmpty else { throw .init(parameter: parameter, value: word, "no pattern after '!'") }
            if item.hasPrefix("#") {
                throw .init(parameter: parameter, value: word, "comment at end of line is not supported")
            }
            if item.hasPrefix("/") {
                guard depth < 8 else { throw .init(parameter: parameter, value: word, "files include each other too deeply") }
                let lines: [String]
                switch readFile(String(item)) {
                case .success(let bytes):
                    lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                        .map(String.init).filter { !$0.hasPrefix("#") }
                case .failure(let error):
                    throw .init(parameter: parameter, value: word, "cannot open file \(item): \(error)")
                }
                try collect(
                    lines.flatMap { PostfixList.split($0) }, negated: negate, into: &patterns, parameter: parameter,
                    options: options, depth: depth + 1)
            } else if !item.hasPrefix("["), item.contains(":") {
                // match_list.c, MATCH_DICTIONARY(): a ':' outside brackets names a table.
                do {
                    patterns.append((negate, .table(try TableReference(parsing: String(item)).open(options))))
                } catch {
                    var message = error.description
                    if IPNetwork.addressBytes(String(item.split(separator: "/").first ?? item)) != nil {
                        message += "; write IPv6 addresses and networks in brackets, as [\(item.split(separator: "/").first ?? item)]"
                            + (item.contains("/") ? "/\(item.split(separator: "/").last ?? "")" : "")
                    }
                    throw .init(parameter: parameter, value: word, message)
                }
            } else {
                let text = item.lowercased()
                patterns.append((negate, .text(text, network: try network(text, parameter: parameter, word: word))))
            }
        }
    }

    // match_ops.c: a pattern goes to cidr_match_parse() only when it could be a network of the
    // address's family: it has ':' or '/', is not a plain IPv4 address, and holds only address
    // characters and "[]/". Anything else is a host name pattern.
    private static func network(_ text: String, parameter: String, word: String) throws(PolicyConfigurationError) -> IPNetwork? {
        let bytes = Array(text.utf8)
        let v4 = Set("0123456789.".utf8)
        let v6 = v4.union("abcdef:".utf8).union("[]/".utf8)
        guard bytes.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") }),
            !bytes.allSatisfy(v4.contains), bytes.allSatisfy(v6.contains)
        else { return nil }
        switch IPNetwork.parse(text) {
        case .success(let network): return network
        case .failure(let error): throw .init(parameter: parameter, value: word, error.description)
        }
    }
}
