import SMTPCore

/// Addresses travel through the queue in Postfix's internal form, the local part unquoted
/// (`john doe@example.com`). Where one leaves again — in MAIL FROM and RCPT TO, in Return-Path and
/// Delivered-To — its local part is quoted again when it is not a dot-string, as Postfix's
/// `quote_821_local()` and `quote_822_local()` do: otherwise `"a> NOTIFY=NEVER"@example.com`
/// would come out as a command parameter, or a header that means something else.
enum QuotedAddress {
    /// `address` (internal form) with its local part quoted as needed; the null sender stays empty.
    static func external(_ address: String) -> String {
        guard !address.isEmpty else { return address }
        guard let at = address.lastIndex(of: "@") else { return Mailbox(localPart: address, domain: nil).canonicalForm }
        let local = Mailbox(localPart: String(address[..<at]), domain: nil).canonicalForm
        return local + address[at...]
    }
}
