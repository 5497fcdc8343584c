/// The part of a mailbox after the `@`: a domain name or an address literal.
public struct MailDomain: Hashable, Sendable, CustomStringConvertible {
    /// An RFC 5321 address literal (section 4.1.3). General address literals (`[tag:content]`) are not
    /// accepted, as in Postfix's `valid_mailhost_literal()`.
    public enum AddressLiteral: Hashable, Sendable {
        /// `[192.0.2.1]`: the four octets.
        case ipv4(UInt8, UInt8, UInt8, UInt8)
        /// `[IPv6:2001:db8::1]`: the eight 16-bit groups.
        case ipv6([UInt16])
    }

    /// The domain as the client wrote it (brackets included for a literal, a trailing dot kept).
    public var text: String
    /// Set when the domain is an address literal.
    public var addressLiteral: AddressLiteral?

    public init(text: String, addressLiteral: AddressLiteral? = nil) {
        self.text = text
        self.addressLiteral = addressLiteral
    }

    public var description: String { text }

    /// `[…]` rather than a name. Relay checks treat these apart (`permit_mx_backup`, `reject_unauth_destination`).
    public var isAddressLiteral: Bool { addressLiteral != nil }

    /// `example.com.`: Postfix's trivial-rewrite strips one trailing dot before it resolves the domain.
    public var hasTrailingDot: Bool { addressLiteral == nil && text.utf8.last == ASCII.dot }

    /// The name without a trailing dot, lower-cased for ASCII letters; for a literal, `text` unchanged.
    public var normalizedName: String {
        guard addressLiteral == nil else { return text }
        let name = hasTrailingDot ? String(text.dropLast()) : text
        return String(decoding: name.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// The domain holds only ASCII (an A-label domain); false for a U-label domain (RFC 6531).
    public var isASCII: Bool { ASCII.isAllASCII(text.utf8) }
}
