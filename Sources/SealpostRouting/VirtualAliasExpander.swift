import SealpostConfig

/// `virtual_alias_maps` expansion as Postfix's cleanup does it before a message is queued
/// (cleanup_map1n.c): each recipient is looked up (virtual(5) key order), replaced by the
/// addresses of the result, and those are expanded in turn — one-to-many, recursively, with
/// Postfix's three limits. An address that expands to itself is kept and not expanded again.
public struct VirtualAliasExpander: Sendable {
    public let maps: TableList?
    public let keys: AddressKeys
    /// `virtual_alias_recursion_limit`.
    public let recursionLimit: Int
    /// `virtual_alias_expansion_limit`.
    public let expansionLimit: Int
    /// `virtual_alias_address_length_limit`.
    public let addressLengthLimit: Int
    /// `propagate_unmatched_extensions` names `virtual`.
    public let propagatesExtensions: Bool
    /// Appended to result addresses without a domain (`$myorigin`, as Postfix's canonicalisation).
    public let myorigin: String
    /// Whether a domain is local for the `user` lookups of virtual(5) ($myorigin, $mydestination,
    /// $inet_interfaces, $proxy_interfaces).
    private let domainIsLocal: @Sendable (String) throws -> Bool

    /// Reads the limits and tables from a configuration; `resolver` decides which domains are local.
    public init(_ configuration: ServiceConfiguration, resolver: AddressResolver) throws(TableError) {
        let references = configuration.tables("virtual_alias_maps")
        if references.isEmpty {
            maps = nil
        } else {
            var tables: [any LookupTable] = []
            for reference in references { tables.append(try reference.open()) }
            maps = TableList(tables)
        }
        keys = AddressKeys(recipientDelimiter: configuration.string("recipient_delimiter"))
        recursionLimit = configuration.integer("virtual_alias_recursion_limit")
        expansionLimit = configuration.integer("virtual_alias_expansion_limit")
        addressLengthLimit = configuration.integer("virtual_alias_address_length_limit")
        propagatesExtensions = configuration.list("propagate_unmatched_extensions").contains { $0.lowercased() == "virtual" }
        let origin = configuration.string("myorigin")
        myorigin = origin
        domainIsLocal = { domain in
            try domain.lowercased() == origin.lowercased() || resolver.isLocal(domain)
        }
    }

    /// The expansion of `address`: the address itself when no table has it.
    public func expand(_ address: String) throws(AliasExpansionError) -> [String] {
        guard let maps else { return [address] }
        var addresses = [address]
        var expandedIntoItself: Set<String> = []
        var index = 0
        while index < addresses.count {
            if addresses.count > expansionLimit {
                throw AliasExpansionError(warning: "unreasonable virtual_alias_maps map expansion size for \(address)")
            }
            var rounds = 0
            while !expandedIntoItself.contains(addresses[index].lowercased()) {
                if rounds >= recursionLimit {
                    throw AliasExpansionError(warning: "unreasonable virtual_alias_maps map nesting for \(address)")
                }
                rounds += 1
                let current = addresses[index]
                let match: LookupMatch?
                do {
                    match = try maps.find(keys.aliasKeys(for: current, domainIsLocal: try isLocal(current)))
                } catch {
                    throw AliasExpansionError(warning: "virtual_alias_maps map lookup problem for \(address): \(error)")
                }
                guard let match else { break }
                let results = PostfixList.split(match.value).map { result in
                    let qualified = result.contains("@") ? result : "\(result)@\(myorigin)"
                    return propagatesExtensions ? match.propagatingExtension(to: qualified) : qualified
                }
                guard !results.isEmpty else { break }
                for (position, result) in results.enumerated() {
                    guard result.utf8.count <= addressLengthLimit else {
                        throw AliasExpansionError(warning: "unreasonable virtual_alias_maps result \(result.prefix(300))...")
                    }
                    if position == 0 {
                        addresses[index] = result
                    } else {
                        addresses.append(result)
                    }
                    if result.lowercased() == current.lowercased() { expandedIntoItself.insert(current.lowercased()) }
                }
            }
            index += 1
        }
        return addresses
    }

    private func isLocal(_ address: String) throws -> Bool {
        guard let at = address.lastIndex(of: "@") else { return true }
        return try domainIsLocal(String(address[address.index(after: at)...]))
    }
}

/// Expansion failed: the message is not accepted now (Postfix: `4.6.0 Alias expansion error`),
/// and the warning says why.
public struct AliasExpansionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var warning: String
    public var dsn: String { "4.6.0" }
    public var reason: String { "Alias expansion error" }
    public var description: String { warning }
}
