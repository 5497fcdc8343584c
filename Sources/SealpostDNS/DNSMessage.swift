/// A DNS record type (the TYPE field, RFC 1035 section 3.2.2 and later RFCs).
public struct DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let mx = DNSRecordType(rawValue: 15)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let opt = DNSRecordType(rawValue: 41)
    public static let tlsa = DNSRecordType(rawValue: 52)

    public var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .opt: "OPT"
        case .tlsa: "TLSA"
        default: "TYPE\(rawValue)"
        }
    }
}

/// A response code (RCODE, RFC 1035 section 4.1.1; the extended bits of EDNS are not used).
public struct DNSResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formatError = DNSResponseCode(rawValue: 1)
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    public static let nameError = DNSResponseCode(rawValue: 3)
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)

    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formatError: "FORMERR"
        case .serverFailure: "SERVFAIL"
        case .nameError: "NXDOMAIN"
        case .notImplemented: "NOTIMP"
        case .refused: "REFUSED"
        default: "RCODE\(rawValue)"
        }
    }
}

/// The class IN, the only one mail asks about.
let dnsClassInternet: UInt16 = 1

/// The fixed 12-byte message header (RFC 1035 section 4.1.1).
public struct DNSHeader: Sendable, Hashable {
    public var id: UInt16
    /// The second 16-bit word: QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE.
    public var flags: UInt16
    public var questionCount: UInt16
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16

    static let length = 12

    public static let responseFlag: UInt16 = 0x8000
    public static let truncatedFlag: UInt16 = 0x0200
    public static let recursionDesiredFlag: UInt16 = 0x0100
    public static let recursionAvailableFlag: UInt16 = 0x0080
    /// AD: the resolver validated the answer with DNSSEC (RFC 4035 section 3.2.3; in a query, RFC 6840
    /// section 5.7 asks for it).
    public static let authenticDataFlag: UInt16 = 0x0020

    public var isResponse: Bool { flags & Self.responseFlag != 0 }
    public var isTruncated: Bool { flags & Self.truncatedFlag != 0 }
    public var isAuthenticated: Bool { flags & Self.authenticDataFlag != 0 }
    public var opcode: UInt8 { UInt8((flags >> 11) & 0x0F) }
    public var responseCode: DNSResponseCode { DNSResponseCode(rawValue: UInt8(flags & 0x000F)) }
}

/// The question of a message.
public struct DNSQuestion: Sendable, Hashable {
    public var name: DNSName
    public var type: DNSRecordType
    public var recordClass: UInt16

    public init(name: DNSName, type: DNSRecordType, recordClass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

/// A TLSA record (RFC 6698) as the DNS delivers it: what DANE checks a server's certificate against.
///
/// Named apart from `SealpostTLS.TLSARecord` (the record as OpenSSL's DANE takes it) because the
/// SMTP client imports both modules; it carries the same four fields.
public struct DNSTLSARecord: Sendable, Hashable {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    public var usage: UInt8
    /// 0 the full certificate, 1 the SubjectPublicKeyInfo.
    public var selector: UInt8
    /// 0 the data itself, 1 SHA-256, 2 SHA-512.
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }
}

/// The data of a record, decoded for the types mail needs.
public enum DNSRecordData: Sendable, Hashable {
    case a([UInt8])
    case aaaa([UInt8])
    case mx(preference: UInt16, exchange: DNSName)
    case cname(DNSName)
    case tlsa(DNSTLSARecord)
    /// The EDNS pseudo-record (RFC 6891): the requestor's payload size travels in the class field.
    case opt(payloadSize: UInt16, options: [UInt8])
    /// Any other type, undecoded.
    case other([UInt8])
}

/// One resource record.
public struct DNSResourceRecord: Sendable, Hashable {
    public var name: DNSName
    public var type: DNSRecordType
    public var recordClass: UInt16
    public var ttl: UInt32
    public var data: DNSRecordData
}

/// A parsed message.
public struct DNSMessage: Sendable, Hashable {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [DNSResourceRecord]
    public var authority: [DNSResourceRecord]
    public var additional: [DNSResourceRecord]
}

/// A message that does not follow the wire format; the reason names what is wrong and where.
public struct DNSMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "malformed DNS message: \(reason)" }
}
