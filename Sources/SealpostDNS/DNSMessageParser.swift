/// Reads DNS messages from bytes (RFC 1035 section 4). Every length is checked against the message,
/// compression pointers may only point backwards, and names stay within 255 bytes, so no input
/// makes the parser read out of bounds or loop.
public struct DNSMessageParser {
    private let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The whole message: header, question, answer, authority and additional sections.
    ///
    /// Bytes after the last record counted by the header are ignored, as resolvers do.
    public func message() throws(DNSMessageError) -> DNSMessage {
        let (header, questions, start) = try headerAndQuestions()
        var position = start
        let answers = try records(count: header.answerCount, section: "answer", at: &position)
        let authority = try records(count: header.authorityCount, section: "authority", at: &position)
        let additional = try records(count: header.additionalCount, section: "additional", at: &position)
        return DNSMessage(
            header: header, questions: questions, answers: answers, authority: authority, additional: additional)
    }

    /// The header alone.
    public func header() throws(DNSMessageError) -> DNSHeader {
        guard bytes.count >= DNSHeader.length else {
            throw DNSMessageError("\(bytes.count) bytes are shorter than the 12-byte header")
        }
        return DNSHeader(
            id: uint16(at: 0), flags: uint16(at: 2), questionCount: uint16(at: 4), answerCount: uint16(at: 6),
            authorityCount: uint16(at: 8), additionalCount: uint16(at: 10))
    }

    /// The header and the question section, and the offset of the answer section: enough to tell
    /// whether a datagram answers the query that was sent, without decoding the rest.
    public func headerAndQuestions() throws(DNSMessageError) -> (DNSHeader, [DNSQuestion], Int) {
        let header = try header()
        var position = DNSHeader.length
        var questions: [DNSQuestion] = []
        for index in 0..<Int(header.questionCount) {
            let (name, next) = try name(at: position)
            guard next + 4 <= bytes.count else {
                throw DNSMessageError("question \(index + 1) ends after the message (offset \(next))")
            }
            questions.append(
                DNSQuestion(
                    name: name, type: DNSRecordType(rawValue: uint16(at: next)), recordClass: uint16(at: next + 2)))
            position = next + 4
        }
        return (header, questions, position)
    }

    // RFC 1035 section 4.1.3:
    // resource record = NAME TYPE CLASS TTL RDLENGTH RDATA
    private func records(count: UInt16, section: String, at position: inout Int) throws(DNSMessageError)
        -> [DNSResourceRecord]
    {
        var records: [DNSResourceRecord] = []
        for index in 0..<Int(count) {
            let name: DNSName
            let next: Int
            do {
                (name, next) = try self.name(at: position)
            } catch {
                throw DNSMessageError("the owner of \(section) record \(index + 1) of \(count): \(error.reason)")
            }
            guard next + 10 <= bytes.count else {
                throw DNSMessageError("\(section) record \(index + 1) of \(count) ends after the message (offset \(next))")
            }
            let type = DNSRecordType(rawValue: uint16(at: next))
            let recordClass = uint16(at: next + 2)
            let ttl = UInt32(uint16(at: next + 4)) << 16 | UInt32(uint16(at: next + 6))
            let dataLength = Int(uint16(at: next + 8))
            let dataStart = next + 10
            guard dataStart + dataLength <= bytes.count else {
                throw DNSMessageError(
                    "the data of \(section) record \(index + 1) (\(type), \(dataLength) bytes) runs past the end of the message")
            }
            let data = try recordData(type: type, recordClass: recordClass, from: dataStart, to: dataStart + dataLength)
            records.append(DNSResourceRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data))
            position = dataStart + dataLength
        }
        return records
    }

    private func recordData(type: DNSRecordType, recordClass: UInt16, from start: Int, to end: Int)
        throws(DNSMessageError) -> DNSRecordData
    {
        let length = end - start
        switch type {
        case .a:
            guard length == 4 else { throw DNSMessageError("an A record has \(length) data bytes instead of 4") }
            return .a(Array(bytes[start..<end]))
        case .aaaa:
            guard length == 16 else { throw DNSMessageError("an AAAA record has \(length) data bytes instead of 16") }
            return .aaaa(Array(bytes[start..<end]))
        case .mx:
            // RFC 1035 section 3.3.9: MX = PREFERENCE EXCHANGE
            guard length >= 3 else { throw DNSMessageError("an MX record has only \(length) data bytes") }
            let (exchange, next) = try name(at: start + 2)
            guard next == end else { throw DNSMessageError("the exchange of an MX record does not end with its data") }
            return .mx(preference: uint16(at: start), exchange: exchange)
        case .cname:
            let (target, next) = try name(at: start)
            guard next == end else { throw DNSMessageError("the target of a CNAME record does not end with its data") }
            return .cname(target)
        case .tlsa:
            // RFC 6698 section 2.1: usage, selector, matching type, association data.
            guard length >= 4 else { throw DNSMessageError("a TLSA record has only \(length) data bytes") }
            return .tlsa(
                DNSTLSARecord(
                    usage: bytes[start], selector: bytes[start + 1], matchingType: bytes[start + 2],
                    data: Array(bytes[(start + 3)..<end])))
        case .opt:
            return .opt(payloadSize: recordClass, options: Array(bytes[start..<end]))
        default:
            return .other(Array(bytes[start..<end]))
        }
    }

    // RFC 1035 section 4.1.4: a name is a sequence of labels ending in a zero byte or a pointer.
    /// The name at `start` and the offset just after it (after its first pointer if compressed).
    func name(at start: Int) throws(DNSMessageError) -> (DNSName, Int) {
        var labels: [[UInt8]] = []
        var position = start
        var end: Int?
        var wireLength = 1
        // Each pointer must point before the place the previous one led to (or the name's start):
        // the offsets strictly decrease, so a chain of pointers always ends.
        var segmentStart = start
        while true {
            guard position < bytes.count else {
                throw DNSMessageError("the name at offset \(start) runs past the end of the message")
            }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    return (DNSName(checkedLabels: labels), end ?? position + 1)
                }
                let labelEnd = position + 1 + Int(length)
                guard labelEnd <= bytes.count else {
                    throw DNSMessageError("a label of the name at offset \(start) runs past the end of the message")
                }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.maximumWireLength else {
                    throw DNSMessageError("the name at offset \(start) is longer than 255 bytes")
                }
                labels.append(Array(bytes[(position + 1)..<labelEnd]))
                position = labelEnd
            case 0xC0:
                guard position + 1 < bytes.count else {
                    throw DNSMessageError("a compression pointer at offset \(position) is cut off")
                }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < segmentStart else {
                    throw DNSMessageError(
                        "the compression pointer at offset \(position) points forward or loops (to offset \(target))")
                }
                if end == nil { end = position + 2 }
                segmentStart = target
                position = target
            default:
                throw DNSMessageError("the name at offset \(start) has an unsupported label type 0x\(String(length, radix: 16))")
            }
        }
    }

    private func uint16(at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
}

/// Writes queries.
public enum DNSQueryEncoder {
    /// The EDNS payload size RFC 9715 and DNS Flag Day 2020 recommend: no IP fragmentation on common paths.
    public static let defaultPayloadSize: UInt16 = 1232

    /// A recursive query (RD) for `question` that asks for the AD bit (RFC 6840 section 5.7) and, when
    /// `payloadSize` is given, advertises it in an EDNS0 OPT record (RFC 6891).
    public static func query(id: UInt16, question: DNSQuestion, payloadSize: UInt16? = defaultPayloadSize) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(DNSHeader.length + question.name.wireLength + 4 + 11)
        let flags = DNSHeader.recursionDesiredFlag | DNSHeader.authenticDataFlag
        for word in [id, flags, 1, 0, 0, payloadSize == nil ? 0 : 1] { append(word, to: &bytes) }
        question.name.encode(into: &bytes)
        append(question.type.rawValue, to: &bytes)
        append(question.recordClass, to: &bytes)
        if let payloadSize {
            // OPT: root owner, TYPE 41, CLASS = payload size, TTL = extended RCODE, version 0, no DO bit, no options.
            bytes.append(0)
            append(DNSRecordType.opt.rawValue, to: &bytes)
            append(payloadSize, to: &bytes)
            bytes += [0, 0, 0, 0, 0, 0]
        }
        return bytes
    }

    private static func append(_ word: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(word >> 8))
        bytes.append(UInt8(word & 0xFF))
    }
}
