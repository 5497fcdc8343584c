/// Postfix's internal and external address forms (quote_822_local.c) and the "local" address
/// rewriting context that smtpd applies before resolving (rewrite.c, `rewrite_tree()`).
///
/// The internal form is the address with the local part unquoted; the local part is everything
/// before the last `@`.
enum AddressForms {
    // quote_822_local.c, is_822_dot_string(): atoms separated by single dots; 8-bit bytes pass
    // (QUOTE_FLAG_8BITCLEAN); no space, control, or RFC 822 special character.
    static func isDotString(_ localPart: ArraySlice<UInt8>) -> Bool {
        guard let first = localPart.first, first != UInt8(ascii: ".") else { return false }
        var previous: UInt8 = 0
        for byte in localPart {
            if byte == UInt8(ascii: ".") && previous == UInt8(ascii: ".") { return false }
            if byte == UInt8(ascii: " ") || byte < 0x20 || byte == 0x7F { return false }
            if "()<>@,;:\\\"[]".utf8.contains(byte) { return false }
            previous = byte
        }
        return localPart.last != UInt8(ascii: ".")
    }

    // quote_822_local_flags(): skip a source route, find the local part (up to the last '@', or
    // all of it with QUOTE_FLAG_BARE_LOCALPART), and quote it when it is not a dot-string:
    // '"' around it, a backslash before '"', '\' and CR.
    /// The external (RFC 822 quoted) form of an internal-form address, or of a bare local part.
    static func quoted(_ address: String, bareLocalPart: Bool = false) -> String {
        let bytes = Array(address.utf8)
        var start = 0
        if bytes.first == UInt8(ascii: "@"), let colon = bytes.firstIndex(of: UInt8(ascii: ":")) { start = colon + 1 }
        let end: Int
        if bareLocalPart {
            end = bytes.count
        } else {
            end = bytes[start...].lastIndex(of: UInt8(ascii: "@")) ?? bytes.count
        }
        let local = bytes[start..<end]
        if isDotString(local) { return address }
        var result = Array(bytes[..<start])
        result.append(UInt8(ascii: "\""))
        for byte in local {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\r") {
                result.append(UInt8(ascii: "\\"))
            }
            result.append(byte)
        }
        result.append(UInt8(ascii: "\""))
        result += bytes[end...]
        return String(decoding: result, as: UTF8.self)
    }

    /// The settings of the "local" rewriting context.
    struct RewriteSettings: Sendable {
        var myorigin: String
        var mydomain: String
        var swapBangPath: Bool
        var percentHack: Bool
        var appendAtMyorigin: Bool
        var appendDotMydomain: Bool
    }

    // rewrite.c, rewrite_tree(), as smtpd's resolver cache (smtpd_resolve.c) calls it with the
    // "local" context before resolve_clnt_query(): an empty address stays empty, a lone "@" is
    // empty; a source route is stripped; an address without '@' gets its bang path swapped
    // (site!user → user@site), or its last '%' turned into '@', or "@$myorigin" appended;
    // ".$mydomain" is appended to a dotless domain when append_dot_mydomain; one trailing dot is
    // removed (not "..", not "@.").
    /// `address` (internal form) rewritten in Postfix's local context.
    static func rewriteLocal(_ address: String, _ settings: RewriteSettings) -> String {
        var bytes = Array(address.utf8)
        if bytes.isEmpty { return "" }
        if bytes == [UInt8(ascii: "@")] { return "" }
        // Strip a source route: "@a,@b:user@domain".
        if bytes.first == UInt8(ascii: "@"), let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon != bytes.count - 1 {
            bytes = Array(bytes[(colon + 1)...])
        }
        if !bytes.contains(UInt8(ascii: "@")) {
            // The operators only count outside quotes, that is, when the local part needs none.
            let plain = isDotString(bytes[...])
            if settings.swapBangPath, plain, let bang = bytes.firstIndex(of: UInt8(ascii: "!")) {
                bytes = Array(bytes[(bang + 1)...]) + [UInt8(ascii: "@")] + Array(bytes[..<bang])
            } else if settings.percentHack, plain, let percent = bytes.lastIndex(of: UInt8(ascii: "%")) {
                bytes[percent] = UInt8(ascii: "@")
            } else if settings.appendAtMyorigin && !settings.myorigin.isEmpty {
                bytes += [UInt8(ascii: "@")] + Array(settings.myorigin.utf8)
            }
        }
        if settings.appendDotMydomain, !settings.mydomain.isEmpty, let at = bytes.lastIndex(of: UInt8(ascii: "@")),
            at + 1 < bytes.count
        {
            let domain = bytes[(at + 1)...]
            if domain.first != UInt8(ascii: "[") && !domain.contains(UInt8(ascii: ".")) {
                bytes += [UInt8(ascii: ".")] + Array(settings.mydomain.utf8)
            }
        }
        if bytes.count > 1, bytes.last == UInt8(ascii: "."), bytes[bytes.count - 2] != UInt8(ascii: "."),
            bytes[bytes.count - 2] != UInt8(ascii: "@")
        {
            bytes.removeLast()
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The domain of an internal-form address (after its last `@`), or nil without one.
    static func domain(of address: String) -> Substring? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        return address[address.index(after: at)...]
    }

    /// Whether the local part of `address` (case-insensitively) is `localPart` and an `@` follows:
    /// smtpd_check.c's MATCH_LEFT().
    static func hasLocalPart(_ address: String, _ localPart: String) -> Bool {
        let bytes = Array(address.utf8)
        let wanted = Array(localPart.utf8)
        guard bytes.count > wanted.count, bytes[wanted.count] == UInt8(ascii: "@") else { return false }
        return String(decoding: bytes[..<wanted.count], as: UTF8.self).lowercased() == localPart.lowercased()
    }
}
