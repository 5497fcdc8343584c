/// The service extensions a server announced in its `250` reply to EHLO (RFC 5321 section 4.1.1.1).
public struct EHLOCapabilities: Hashable, Sendable {
    /// One keyword line: the keyword in upper case and its parameters as sent.
    public struct Extension: Hashable, Sendable {
        public var keyword: String
        public var parameters: [String]

        public init(keyword: String, parameters: [String] = []) {
            self.keyword = keyword.uppercased()
            self.parameters = parameters
        }
    }

    /// The domain (and greeting) from the first line.
    public var greeting: String
    /// The keyword lines, in the server's order.
    public var extensions: [Extension]

    public init(greeting: String, extensions: [Extension]) {
        self.greeting = greeting
        self.extensions = extensions
    }

    // RFC 5321 section 4.1.1.1:
    //   ehlo-ok-rsp = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
    //               / ( "250-" Domain [ SP ehlo-greet ] CRLF
    //                   *( "250-" ehlo-line CRLF ) "250" SP ehlo-line CRLF )
    //   ehlo-line = ehlo-keyword *( SP ehlo-param )
    //   ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    /// The capabilities of a `250` EHLO reply, or nil for any other reply. Lines that are no keyword line
    /// are skipped; the old `AUTH=PLAIN LOGIN` form counts as AUTH.
    public init?(reply: SMTPReply) {
        guard reply.code == 250 else { return nil }
        greeting = reply.lines.first ?? ""
        extensions = []
        for line in reply.lines.dropFirst() {
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard !words.isEmpty else { continue }
            var keyword = words.removeFirst()
            if keyword.uppercased().hasPrefix("AUTH=") {
                let first = String(keyword.dropFirst(5))
                keyword = "AUTH"
                if !first.isEmpty { words.insert(first, at: 0) }
            }
            let keywordBytes = Array(keyword.utf8)
            guard let head = keywordBytes.first, ASCII.isAlphanumeric(head),
                  keywordBytes.allSatisfy({ ASCII.isAlphanumeric($0) || $0 == ASCII.hyphen })
            else { continue }
            extensions.append(Extension(keyword: keyword, parameters: words))
        }
    }

    /// The extension with this keyword (case-insensitive), the first if it was announced twice.
    public subscript(keyword: String) -> Extension? {
        let wanted = keyword.uppercased()
        return extensions.first { $0.keyword == wanted }
    }

    public func supports(_ keyword: String) -> Bool { self[keyword] != nil }

    /// RFC 2920.
    public var pipelining: Bool { supports("PIPELINING") }
    /// RFC 3207.
    public var startTLS: Bool { supports("STARTTLS") }
    /// RFC 6152.
    public var eightBitMIME: Bool { supports("8BITMIME") }
    /// RFC 6531.
    public var smtpUTF8: Bool { supports("SMTPUTF8") }
    /// RFC 3461.
    public var dsn: Bool { supports("DSN") }
    /// RFC 3030 BDAT.
    public var chunking: Bool { supports("CHUNKING") }
    /// RFC 3030 BODY=BINARYMIME.
    public var binaryMIME: Bool { supports("BINARYMIME") }
    /// RFC 2034.
    public var enhancedStatusCodes: Bool { supports("ENHANCEDSTATUSCODES") }
    /// RFC 8689.
    public var requireTLS: Bool { supports("REQUIRETLS") }

    /// RFC 1870: nil when SIZE was not announced; `.some(nil)` for SIZE without a number (or with 0,
    /// meaning no fixed limit).
    public var size: Int?? {
        guard let size = self["SIZE"] else { return nil }
        guard let text = size.parameters.first, let limit = Int(text), limit > 0 else { return .some(nil) }
        return .some(limit)
    }

    /// RFC 4954: the SASL mechanisms of all AUTH lines, in upper case, without duplicates.
    public var authMechanisms: [String] {
        var mechanisms: [String] = []
        for line in extensions where line.keyword == "AUTH" {
            for mechanism in line.parameters.map({ $0.uppercased() }) where !mechanisms.contains(mechanism) {
                mechanisms.append(mechanism)
            }
        }
        return mechanisms
    }

    /// The reply that announces these capabilities.
    public var reply: SMTPReply {
        SMTPReply(code: 250, lines: [greeting] + extensions.map { ([$0.keyword] + $0.parameters).joined(separator: " ") })
    }
}
