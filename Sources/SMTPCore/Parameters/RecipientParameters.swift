/// The ESMTP parameters of a RCPT TO command (RFC 3461).
public struct RecipientParameters: Hashable, Sendable {
    /// RFC 3461 `NOTIFY=`: `NEVER` alone, or any of SUCCESS, FAILURE, DELAY.
    public struct Notify: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let never = Notify(rawValue: 1 << 0)
        public static let success = Notify(rawValue: 1 << 1)
        public static let failure = Notify(rawValue: 1 << 2)
        public static let delay = Notify(rawValue: 1 << 3)

        /// NEVER alone, or a non-empty set without NEVER (Postfix's `DSN_NOTIFY_OK()`).
        public var isValid: Bool {
            self == .never || (!isEmpty && !contains(.never))
        }

        /// `SUCCESS,FAILURE`-style text.
        public var encoded: String {
            var names: [String] = []
            if contains(.never) { names.append("NEVER") }
            if contains(.success) { names.append("SUCCESS") }
            if contains(.failure) { names.append("FAILURE") }
            if contains(.delay) { names.append("DELAY") }
            return names.joined(separator: ",")
        }
    }

    /// RFC 3461 `ORCPT=addr-type;xtext`.
    public struct OriginalRecipient: Hashable, Sendable {
        /// The address type as sent (`rfc822`, `utf-8`, …). Postfix keeps any type.
        public var addressType: String
        /// The decoded address: xtext for every type, RFC 6533 unitext for `utf-8`.
        public var address: String

        public init(addressType: String, address: String) {
            self.addressType = addressType
            self.address = address
        }

        /// `type;encoded-address`.
        public var encoded: String {
            let isUTF8 = addressType.lowercased() == "utf-8"
            return addressType + ";" + (isUTF8 ? UniText.encode(address) : XText.encode(address))
        }
    }

    public var notify: Notify?
    public var originalRecipient: OriginalRecipient?

    public init(notify: Notify? = nil, originalRecipient: OriginalRecipient? = nil) {
        self.notify = notify
        self.originalRecipient = originalRecipient
    }

    /// The parameters as the client sends them.
    public var encoded: [String] {
        var words: [String] = []
        if let notify { words.append("NOTIFY=" + notify.encoded) }
        if let originalRecipient { words.append("ORCPT=" + originalRecipient.encoded) }
        return words
    }
}
