/// Just enough of the DNS wire format (RFC 1035) to ask one question and read the records of
/// the asked type from the answer section.
enum DNSMessage {
    /// A query for `name` (ASCII, absolute; a trailing dot is optional) of `type`, class IN,
    /// recursion desired. Nil when the name cannot be encoded (an empty or over-long label).
    static func query(id: UInt16, name: String, type: DNSRecordType) -> [UInt8]? {
        var message: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        guard let encoded = encodeName(name) else { return nil }
        message += encoded
        message += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1]
        return message
    }

    static func encodeName(_ name: String) -> [UInt8]? {
        var labels = Array(name.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if labels.last?.isEmpty == true { labels.removeLast() }
        if labels.count == 1 && labels[0].isEmpty { labels = [] }
        var bytes: [UInt8] = []
        for label in labels {
            guard !label.isEmpty, label.count <= 63 else { return nil }
            bytes.append(UInt8(label.count))
            bytes += label
        }
        bytes.append(0)
        return bytes.count <= 255 ? bytes : nil
    }

    /// The records of `type` in a response, as ``DNSLookupResult``; MX exchanges are ordered by
    /// preference.
    static func parseResponse(_ message: [UInt8], type: DNSRecordType) -> DNSLookupResult {
        var reader = Reader(message: message)
        guard let header = reader.bytes(12) else { return .temporaryFailure }
        let rcode = header[3] & 0x0F
        switch rcode {
        case 0: break
        case 3: return .notFound
        case 2: return .temporaryFailure
        default: return .permanentFailure
        }
        let questions = Int(header[4]) << 8 | Int(header[5])
        let answers = Int(header[6]) << 8 | Int(header[7])
        for _ in 0..<questions {
            guard reader.name() != nil, reader.bytes(4) != nil else { return .temporaryFailure }
        }
        var found: [(preference: Int, text: String)] = []
        var invalidName = false
        var nullMX = false
        for _ in 0..<answers {
            guard reader.name() != nil, let fixed = reader.bytes(10) else { return .temporaryFailure }
            let recordType = UInt16(fixed[0]) << 8 | UInt16(fixed[1])
            let length = Int(fixed[8]) << 8 | Int(fixed[9])
            let start = reader.offset
            guard start + length <= message.count else { return .temporaryFailure }
            defer { reader.offset = start + length }
            guard recordType == type.rawValue else { continue }
            switch type {
            case .a, .aaaa:
                guard length == (type == .a ? 4 : 16) else { return .temporaryFailure }
                found.append((0, IPNetwork.presentation(Array(message[start..<(start + length)]))))
            case .mx:
                guard length >= 3 else { return .temporaryFailure }
                let preference = Int(message[start]) << 8 | Int(message[start + 1])
                reader.offset = start + 2
                guard let exchange = reader.name() else { return .temporaryFailure }
                if exchange.isEmpty {
                    nullMX = true
                } else if !HostnameSyntax.isValidHostname(exchange) {
                    invalidName = true
                } else {
                    found.append((preference, exchange))
                }
            case .ptr:
                guard let target = reader.name() else { return .temporaryFailure }
                if !HostnameSyntax.isValidHostname(target) { invalidName = true } else { found.append((0, target)) }
            case .txt:
                var text: [UInt8] = []
                var index = start
                while index < start + length {
                    let count = Int(message[index])
                    guard index + 1 + count <= start + length else { return .temporaryFailure }
                    text += message[(index + 1)..<(index + 1 + count)]
                    index += 1 + count
                }
                found.append((0, String(decoding: text, as: UTF8.self)))
            }
        }
        // dns_lookup.c: a null MX record makes the whole answer DNS_NULLMX; an invalid name
        // DNS_INVAL.
        if nullMX { return .nullMX }
        if invalidName { return .malformed }
        guard !found.isEmpty else { return .notFound }
        return .found(found.enumerated().sorted { ($0.element.preference, $0.offset) < ($1.element.preference, $1.offset) }.map(\.element.text))
    }

    private struct Reader {
        let message: [UInt8]
        var offset = 0

        mutating func bytes(_ count: Int) -> [UInt8]? {
            guard offset + count <= message.count else { return nil }
            defer { offset += count }
            return Array(message[offset..<(offset + count)])
        }

        /// A domain name (following compression pointers) without the trailing dot; "" for the root.
        mutating func name() -> String? {
            var labels: [String] = []
            var position = offset
            var jumped = false
            var jumps = 0
            var total = 0
            while true {
                guard position < message.count else { return nil }
                let length = Int(message[position])
                if length & 0xC0 == 0xC0 {
                    guard position + 1 < message.count, jumps < 64 else { return nil }
                    if !jumped { offset = position + 2 }
                    jumped = true
                    jumps += 1
                    position = (length & 0x3F) << 8 | Int(message[position + 1])
                    continue
                }
                guard length & 0xC0 == 0 else { return nil }
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    return labels.joined(separator: ".")
                }
                guard position + 1 + length <= message.count else { return nil }
                total += length + 1
                guard total <= 255 else { return nil }
                let label = message[(position + 1)..<(position + 1 + length)]
                // dn_expand() writes a dot inside a label as "\."; either way the name then fails
                // the host name check, as it does in Postfix.
                labels.append(String(decoding: label.map { $0 == UInt8(ascii: ".") ? UInt8(ascii: "\\") : $0 }, as: UTF8.self))
                position += 1 + length
            }
        }
    }
}
