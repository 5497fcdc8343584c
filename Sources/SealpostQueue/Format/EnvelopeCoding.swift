/// The envelope records: written once, before the content, and never changed.
///
/// Named attributes use Postfix's attribute names where Postfix has one (`client_name`,
/// `client_address`, `helo_name`, `protocol_name`, `sasl_method`, …), so `sealpost queue cat -e`
/// output reads like `postcat -e`.
enum EnvelopeCoding {
    enum AttributeName {
        static let clientName = "client_name"
        static let clientAddress = "client_address"
        static let clientPort = "client_port"
        static let heloName = "helo_name"
        static let protocolName = "protocol_name"
        static let saslMethod = "sasl_method"
        static let saslUsername = "sasl_username"
        static let saslSender = "sasl_sender"
        static let tlsSummary = "tls_summary"
        static let milterDaemonName = "milter_macro_daemon_name"
    }

    static func encode(_ envelope: QueueEnvelope, arrival: QueueTimestamp, into writer: inout ByteWriter) {
        RecordFraming.append(.arrival, to: &writer) { $0.append(arrival.microsecondsSinceEpoch) }
        RecordFraming.append(.sender, to: &writer) { $0.append(bytes: envelope.sender.utf8) }
        let known: [(String, String?)] = [
            (AttributeName.clientName, envelope.clientName),
            (AttributeName.clientAddress, envelope.clientAddress),
            (AttributeName.clientPort, envelope.clientPort),
            (AttributeName.heloName, envelope.heloName),
            (AttributeName.protocolName, envelope.protocolName),
            (AttributeName.saslMethod, envelope.saslMethod),
            (AttributeName.saslUsername, envelope.saslUsername),
            (AttributeName.saslSender, envelope.saslSender),
            (AttributeName.tlsSummary, envelope.tlsSummary),
            (AttributeName.milterDaemonName, envelope.milterDaemonName),
        ]
        for case (let name, let value?) in known { appendAttribute(name, value, to: &writer) }
        for (name, value) in envelope.attributes.sorted(by: { $0.key < $1.key }) {
            appendAttribute(name, value, to: &writer)
        }
        if let envelopeID = envelope.envelopeID {
            RecordFraming.append(.envelopeID, to: &writer) { $0.append(bytes: envelopeID.utf8) }
        }
        if let returnContent = envelope.returnContent {
            RecordFraming.append(.returnContent, to: &writer) { $0.append(returnContent.rawValue) }
        }
        if let bodyType = envelope.bodyType {
            RecordFraming.append(.bodyType, to: &writer) { $0.append(bodyType.rawValue) }
        }
        if envelope.smtputf8 {
            RecordFraming.append(.smtputf8, to: &writer) { $0.append(UInt8(1)) }
        }
        if let declaredSize = envelope.declaredSize {
            RecordFraming.append(.declaredSize, to: &writer) { $0.append(UInt64(max(0, declaredSize))) }
        }
        for recipient in envelope.recipients {
            RecordFraming.append(.recipient, to: &writer) { payload in
                payload.append(recipient.notify.rawValue)
                payload.append(string: recipient.address)
                payload.append(optional: recipient.originalAddress)
                payload.append(optional: recipient.originalRecipient)
            }
        }
        RecordFraming.append(.envelopeEnd, to: &writer) { $0.append(UInt32(envelope.recipients.count)) }
    }

    private static func appendAttribute(_ name: String, _ value: String, to writer: inout ByteWriter) {
        RecordFraming.append(.attribute, to: &writer) { payload in
            let nameBytes = Array(name.utf8.prefix(Int(UInt16.max)))
            payload.append(UInt16(nameBytes.count))
            payload.append(bytes: nameBytes)
            payload.append(bytes: value.utf8)
        }
    }

    /// Decodes the envelope records that fill `bytes` exactly.
    static func decode(_ bytes: ArraySlice<UInt8>) throws(FormatProblem) -> QueueEnvelope {
        var envelope = QueueEnvelope(sender: "", recipients: [])
        var sawSender = false
        var offset = bytes.startIndex
        var finished = false
        while offset < bytes.endIndex {
            guard !finished else { throw FormatProblem("records after the envelope end") }
            let type: UInt8, payload: Range<Int>
            switch RecordFraming.parse(bytes, at: offset) {
            case .record(let recordType, let range, let next):
                type = recordType
                payload = range
                offset = next
            case .incomplete:
                throw FormatProblem("envelope record truncated")
            case .invalid(let why):
                throw FormatProblem("envelope: \(why)")
            }
            var reader = ByteReader(bytes[payload])
            switch RecordType(rawValue: type) {
            case .arrival:
                envelope.arrival = QueueTimestamp(microsecondsSinceEpoch: try reader.readInt64())
            case .sender:
                envelope.sender = try ByteReader.utf8(reader.readRest())
                sawSender = true
            case .attribute:
                let nameLength = Int(try reader.readUInt16())
                let name = try ByteReader.utf8(try reader.readBytes(nameLength))
                let value = try ByteReader.utf8(reader.readRest())
                assign(attribute: name, value: value, to: &envelope)
            case .envelopeID:
                envelope.envelopeID = try ByteReader.utf8(reader.readRest())
            case .returnContent:
                let raw = try reader.readUInt8()
                guard let value = DSNReturn(rawValue: raw) else { throw FormatProblem("bad RET value \(raw)") }
                envelope.returnContent = value
            case .bodyType:
                let raw = try reader.readUInt8()
                guard let value = BodyType(rawValue: raw) else { throw FormatProblem("bad BODY value \(raw)") }
                envelope.bodyType = value
            case .smtputf8:
                envelope.smtputf8 = try reader.readUInt8() != 0
            case .declaredSize:
                let size = try reader.readUInt64()
                guard size <= UInt64(Int.max) else { throw FormatProblem("declared size out of range") }
                envelope.declaredSize = Int(size)
            case .recipient:
                let notify = DSNNotify(rawValue: try reader.readUInt8())
                let address = try reader.readString()
                let originalAddress = try reader.readOptionalString()
                let originalRecipient = try reader.readOptionalString()
                envelope.recipients.append(
                    QueueRecipient(address: address, originalAddress: originalAddress, notify: notify,
                                   originalRecipient: originalRecipient))
            case .envelopeEnd:
                let count = try reader.readUInt32()
                guard Int(count) == envelope.recipients.count else {
                    throw FormatProblem("envelope end counts \(count) recipients, found \(envelope.recipients.count)")
                }
                finished = true
            default:
                if type & RecordType.optionalBit == 0 {
                    throw FormatProblem("unexpected record type 0x\(String(type, radix: 16)) in the envelope")
                }
            }
        }
        guard finished else { throw FormatProblem("envelope end record missing") }
        guard envelope.arrival != nil, sawSender else { throw FormatProblem("envelope without arrival time or sender") }
        guard !envelope.recipients.isEmpty else { throw FormatProblem("envelope without recipients") }
        return envelope
    }

    private static func assign(attribute name: String, value: String, to envelope: inout QueueEnvelope) {
        switch name {
        case AttributeName.clientName: envelope.clientName = value
        case AttributeName.clientAddress: envelope.clientAddress = value
        case AttributeName.clientPort: envelope.clientPort = value
        case AttributeName.heloName: envelope.heloName = value
        case AttributeName.protocolName: envelope.protocolName = value
        case AttributeName.saslMethod: envelope.saslMethod = value
        case AttributeName.saslUsername: envelope.saslUsername = value
        case AttributeName.saslSender: envelope.saslSender = value
        case AttributeName.tlsSummary: envelope.tlsSummary = value
        case AttributeName.milterDaemonName: envelope.milterDaemonName = value
        default: envelope.attributes[name] = value
        }
    }
}
