import SealpostConfig

/// Postfix's `mail_addr_find_opt()` with the "legacy" query forms that smtpd uses
/// (mail_addr_find.c, MA_FIND_FORM_LEGACY): each address-shaped key is looked up in its quoted
/// external form first and, when that differs, in the internal form.
struct AddressTableSearch: Sendable {
    /// Which keys to try, as mail_addr_find.h's MA_FIND_* flags.
    struct Strategy: OptionSet, Sendable {
        let rawValue: Int
        /// `user+ext@domain`.
        static let full = Strategy(rawValue: 1 << 0)
        /// `user@domain` (the address without its extension).
        static let noExtension = Strategy(rawValue: 1 << 1)
        /// `user+ext`, `user` when the domain is local.
        static let localPartIfLocal = Strategy(rawValue: 1 << 2)
        /// `user+ext@`, `user@` when the domain is local.
        static let localPartAtIfLocal = Strategy(rawValue: 1 << 3)
        /// `@domain`.
        static let atDomain = Strategy(rawValue: 1 << 4)
        /// `domain`.
        static let domain = Strategy(rawValue: 1 << 5)
        /// Parent domains as `parent` (parent_domain_matches_subdomains).
        static let parentMatchesSubdomains = Strategy(rawValue: 1 << 6)
        /// Parent domains as `.parent`.
        static let parentDotSubdomains = Strategy(rawValue: 1 << 7)
        /// `user+ext@`, `user@` whatever the domain.
        static let localPartAt = Strategy(rawValue: 1 << 8)

        // mail_addr_find.h, MA_FIND_DEFAULT: the recipient-table and login-map strategy.
        static let `default`: Strategy = [.full, .noExtension, .localPartIfLocal, .atDomain]
    }

    /// `recipient_delimiter` and the other extension rules.
    let keys: AddressKeys
    /// `myorigin`, which counts as a local domain for the local-part keys.
    let myorigin: String
    /// resolve_local(): whether a domain is in `mydestination` or one of our address literals.
    let isLocalDomain: @Sendable (String) throws -> Bool

    /// One key to look up: its text and whether it is partial (fixed-string tables only).
    struct Key: Hashable, Sendable {
        var text: String
        var isPartial: Bool
    }

    /// The value of the first key found, with the key; nil when no table has any key.
    func find(_ address: String, in tables: TableList, strategy: Strategy) throws -> (value: String, key: Key)? {
        for key in try self.keys(for: address, strategy: strategy) {
            if let (value, _) = try tables.lookup(key.text, partial: key.isPartial) {
                return (value, key)
            }
        }
        return nil
    }

    /// The lookup keys of `address` (internal form) in search order.
    func keys(for address: String, strategy: Strategy) throws -> [Key] {
        var result: [Key] = []
        func addAddress(_ text: String, partial: Bool, withDomain: Bool) {
            // find_addr() with MA_FORM_EXTERNAL_FIRST.
            let quoted = AddressForms.quoted(text, bareLocalPart: !withDomain)
            result.append(Key(text: quoted, isPartial: partial))
            if quoted != text { result.append(Key(text: text, isPartial: partial)) }
        }
        let full = address
        let bare = strategy.contains(.noExtension) ? keys.splitExtension(full)?.address : nil
        if strategy.contains(.full) { addAddress(full, partial: false, withDomain: true) }
        if let bare { addAddress(bare, partial: true, withDomain: true) }

        let at = full.lastIndex(of: "@")
        func addLocal(withAt: Bool) {
            guard let at else { return }
            let local = withAt ? String(full[...at]) : String(full[..<at])
            addAddress(local, partial: true, withDomain: withAt)
            if let bare, let bareAt = bare.lastIndex(of: "@") {
                let bareLocal = withAt ? String(bare[...bareAt]) : String(bare[..<bareAt])
                addAddress(bareLocal, partial: true, withDomain: withAt)
            }
        }
        if let at, !strategy.isDisjoint(with: [.localPartIfLocal, .localPartAtIfLocal]) {
            let domain = String(full[full.index(after: at)...])
            if try domain.lowercased() == myorigin.lowercased() || isLocalDomain(domain) {
                if strategy.contains(.localPartIfLocal) { addLocal(withAt: false) }
                if strategy.contains(.localPartAtIfLocal) { addLocal(withAt: true) }
            }
        }
        if let at, strategy.contains(.atDomain) {
            result.append(Key(text: String(full[at...]), isPartial: true))
        }
        if let at, strategy.contains(.domain) {
            // mail_addr_find_opt(), "Try domain (optionally, subdomains)".
            let domain = Array(full[full.index(after: at)...].utf8)
            var start = domain.startIndex
            while start < domain.endIndex {
                result.append(Key(text: String(decoding: domain[start...], as: UTF8.self), isPartial: true))
                guard !strategy.isDisjoint(with: [.parentMatchesSubdomains, .parentDotSubdomains]),
                    start + 1 < domain.endIndex,
                    let dot = domain[(start + 1)...].firstIndex(of: UInt8(ascii: "."))
                else { break }
                start = strategy.contains(.parentDotSubdomains) ? dot : dot + 1
            }
        }
        if strategy.contains(.localPartAt) { addLocal(withAt: true) }
        return result
    }
}
