/// A domain name as a list of labels (RFC 1035 section 3.1), compared without regard to ASCII case.
public struct DNSName: Sendable, Hashable, CustomStringConvertible {
    /// The labels, most specific first, without the root's empty label.
    public let labels: [[UInt8]]

    /// The longest label (RFC 1035 section 2.3.4).
    public static let maximumLabelLength = 63
    /// The longest name in wire form, length bytes and the root's zero byte included.
    public static let maximumWireLength = 255

    /// The root name, `.`.
    public static let root = DNSName(checkedLabels: [])

    init(checkedLabels labels: [[UInt8]]) {
        self.labels = labels
    }

    /// Parses a name as a caller writes it: `mail.example.com` or `mail.example.com.`.
    ///
    /// Mail names are absolute, so no search domain is appended. Only printable ASCII is accepted:
    /// turning a Unicode domain into IDNA A-labels is the caller's job. Throws for an empty name, an
    /// empty label (`a..b`), a label over 63 bytes or a name over 255 bytes in wire form.
    public init(parsing text: String) throws(DNSNameError) {
        var name = Substring(text)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty else { throw DNSNameError(name: text, reason: "the name is empty") }
        var labels: [[UInt8]] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty else { throw DNSNameError(name: text, reason: "the name has an empty label") }
            guard bytes.count <= Self.maximumLabelLength else {
                throw DNSNameError(name: text, reason: "a label is longer than \(Self.maximumLabelLength) bytes")
            }
            guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw DNSNameError(
                    name: text, reason: "the name has a character other than printable ASCII (use IDNA A-labels)")
            }
            labels.append(bytes)
        }
        let parsed = DNSName(checkedLabels: labels)
        guard parsed.wireLength <= Self.maximumWireLength else {
            throw DNSNameError(name: text, reason: "the name is longer than \(Self.maximumWireLength) bytes")
        }
        self = parsed
    }

    /// The length of the uncompressed wire form: a length byte per label, the labels, the root's zero byte.
    public var wireLength: Int {
        labels.reduce(1) { $0 + 1 + $1.count }
    }

    /// Whether this is the root name `.` (the exchange of a null MX).
    public var isRoot: Bool { labels.isEmpty }

    /// The name in presentation form without the trailing dot; `.` for the root. Bytes that are not
    /// letters, digits, `-`, `_` or `*` are written as `\DDD` (RFC 1035 section 5.1), so a label holding
    /// a dot cannot pass for two labels.
    public var description: String {
        if labels.isEmpty { return "." }
        return labels.map { label in
            var text = ""
            for byte in label {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "*"):
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            return text
        }.joined(separator: ".")
    }

    /// The name with the labels `prefix` in front (for `_25._tcp.host`).
    public func prepending(_ prefix: [String]) throws(DNSNameError) -> DNSName {
        try DNSName(parsing: (prefix + [description]).joined(separator: "."))
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        for (left, right) in zip(lhs.labels, rhs.labels) {
            guard left.count == right.count else { return false }
            for (a, b) in zip(left, right) where asciiLowercased(a) != asciiLowercased(b) { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(labels.count)
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.asciiLowercased(byte)) }
        }
    }

    /// DNS compares names with ASCII case folding only (RFC 4343).
    static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// Appends the uncompressed wire form (queries are never compressed).
    func encode(into bytes: inout [UInt8]) {
        for label in labels {
            bytes.append(UInt8(label.count))
            bytes += label
        }
        bytes.append(0)
    }
}

/// A name a caller gave that cannot be asked for.
public struct DNSNameError: Error, Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var reason: String

    public var description: String { "invalid domain name \"\(name)\": \(reason)" }
}
