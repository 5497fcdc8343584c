/// The maildrop file format: what `sealpost sendmail` leaves in `$queue_directory/maildrop`
/// for the pickup service.
///
/// A file is an envelope of text lines, an empty line, then the message content with CR LF
/// line ends, exactly `size` bytes of it:
///
///     SEALPOST-MAILDROP 1
///     size 1234
///     sender <alice>
///     fullname Alice Example
///     notify failure,delay
///     ret hdrs
///     envid QQ314159
///     body 8BITMIME
///     recipient <bob@example.org>
///     recipient <carol>
///
///     Subject: hello
///     …
///
/// The first line names the format and its version; a reader refuses any other. `size`,
/// `sender` (`<>` for the null sender) and at least one `recipient` are required, the others
/// optional; each appears once except `recipient`. Values are UTF-8 without control
/// characters. The size makes a truncated file detectable. Unknown keywords are errors: a
/// newer writer's file must not be half-understood.
///
/// Everything in the file is a claim of the user who wrote it; the pickup service takes who
/// that user is from the file's owner, never from the contents.
public struct MaildropEnvelope: Sendable, Hashable {
    public static let magic = "SEALPOST-MAILDROP 1"

    /// The envelope sender as given (`-f`, or the login name); empty for the null sender.
    public var sender: String
    public var recipients: [String]
    /// `-F` (or `$NAME`): used only for a From header the message lacks.
    public var fullName: String?
    /// `-N`: nil when not given.
    public var notify: DSNNotify?
    /// `-R`.
    public var returnContent: DSNReturn?
    /// `-V`.
    public var envelopeID: String?
    /// `-B`.
    public var bodyType: BodyType?
    /// The content's length in bytes.
    public var contentLength: Int

    public init(
        sender: String, recipients: [String], fullName: String? = nil, notify: DSNNotify? = nil,
        returnContent: DSNReturn? = nil, envelopeID: String? = nil, bodyType: BodyType? = nil, contentLength: Int = 0
    ) {
        self.sender = sender
        self.recipients = recipients
        self.fullName = fullName
        self.notify = notify
        self.returnContent = returnContent
        self.envelopeID = envelopeID
        self.bodyType = bodyType
        self.contentLength = contentLength
    }

    /// The envelope lines, through the empty line that precedes the content.
    public func encoded() -> [UInt8] {
        var lines = [Self.magic, "size \(contentLength)", "sender <\(sender)>"]
        if let fullName { lines.append("fullname \(fullName)") }
        if let notify { lines.append("notify \(Self.notifyText(notify))") }
        if let returnContent { lines.append("ret \(returnContent == .full ? "full" : "hdrs")") }
        if let envelopeID { lines.append("envid \(envelopeID)") }
        if let bodyType { lines.append("body \(bodyType == .eightBitMIME ? "8BITMIME" : bodyType == .sevenBit ? "7BIT" : "BINARYMIME")") }
        for recipient in recipients { lines.append("recipient <\(recipient)>") }
        return Array((lines.joined(separator: "\n") + "\n\n").utf8)
    }

    /// `-N`'s spelling of a NOTIFY set.
    public static func notifyText(_ notify: DSNNotify) -> String {
        if notify.contains(.never) { return "never" }
        var words: [String] = []
        if notify.contains(.success) { words.append("success") }
        if notify.contains(.failure) { words.append("failure") }
        if notify.contains(.delay) { words.append("delay") }
        return words.joined(separator: ",")
    }

    /// Parses `-N`'s argument (`never`, or a comma list of `success`, `failure`, `delay`);
    /// nil when it is not one.
    public static func parseNotify(_ text: String) -> DSNNotify? {
        var notify: DSNNotify = []
        for word in text.lowercased().split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            switch word {
            case "never": notify.insert(.never)
            case "success": notify.insert(.success)
            case "failure": notify.insert(.failure)
            case "delay": notify.insert(.delay)
            default: return nil
            }
        }
        guard !notify.isEmpty, !(notify.contains(.never) && notify != .never) else { return nil }
        return notify
    }

    /// A value is acceptable in the file and in the queue: valid UTF-8 (already, as a String),
    /// no control characters, not too long.
    public static func isAcceptableValue(_ value: String, limit: Int) -> Bool {
        value.utf8.count <= limit && value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
    }
}

/// Why a maildrop file was refused; the file is removed with this as the warning.
public struct MaildropProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Reads the envelope section of a maildrop file, line by line, with limits.
struct MaildropEnvelopeParser {
    let lineLimit: Int
    let envelopeLimit: Int

    /// Parses the envelope from the start of `bytes`; returns it and the offset of the content.
    /// `bytes` must hold the whole envelope; nil when it ends first (need more bytes).
    func parse(_ bytes: ArraySlice<UInt8>) throws(MaildropProblem) -> (MaildropEnvelope, contentOffset: Int)? {
        var lines: [String] = []
        var index = bytes.startIndex
        while true {
            guard let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) else {
                if bytes.endIndex - bytes.startIndex > envelopeLimit { throw MaildropProblem("envelope longer than \(envelopeLimit) bytes") }
                if bytes.endIndex - index > lineLimit { throw MaildropProblem("envelope line longer than \(lineLimit) bytes") }
                return nil
            }
            guard newline - index <= lineLimit else { throw MaildropProblem("envelope line longer than \(lineLimit) bytes") }
            guard newline + 1 - bytes.startIndex <= envelopeLimit else { throw MaildropProblem("envelope longer than \(envelopeLimit) bytes") }
            let line = bytes[index..<newline]
            index = newline + 1
            if line.isEmpty { break }
            guard let text = String(validating: line, as: UTF8.self) else { throw MaildropProblem("envelope line is not UTF-8") }
            guard MaildropEnvelope.isAcceptableValue(text, limit: lineLimit) else { throw MaildropProblem("control character in envelope line") }
            lines.append(text)
        }
        return (try envelope(from: lines), index - bytes.startIndex)
    }

    private func envelope(from lines: [String]) throws(MaildropProblem) -> MaildropEnvelope {
        guard lines.first == MaildropEnvelope.magic else {
            throw MaildropProblem("not a maildrop file of this version (first line \"\(lines.first?.prefix(40) ?? "")\")")
        }
        var envelope = MaildropEnvelope(sender: "", recipients: [])
        var size: Int?
        var sender: String?
        var seen = Set<String>()
        for line in lines.dropFirst() {
            let keyword = String(line.prefix { $0 != " " })
            let value = line.count > keyword.count ? String(line.dropFirst(keyword.count + 1)) : ""
            if keyword != "recipient" {
                guard seen.insert(keyword).inserted else { throw MaildropProblem("duplicate \(keyword) line") }
            }
            switch keyword {
            case "size":
                guard let parsed = Int(value), parsed >= 0, String(parsed) == value else { throw MaildropProblem("bad size \"\(value)\"") }
                size = parsed
            case "sender":
                sender = try Self.address(value, keyword)
            case "recipient":
                let address = try Self.address(value, keyword)
                guard !address.isEmpty else { throw MaildropProblem("empty recipient") }
                envelope.recipients.append(address)
            case "fullname":
                envelope.fullName = value
            case "notify":
                guard let notify = MaildropEnvelope.parseNotify(value) else { throw MaildropProblem("bad notify \"\(value)\"") }
                envelope.notify = notify
            case "ret":
                switch value {
                case "full": envelope.returnContent = .full
                case "hdrs": envelope.returnContent = .headers
                default: throw MaildropProblem("bad ret \"\(value)\"")
                }
            case "envid":
                guard !value.isEmpty, value.utf8.count <= 100, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                    throw MaildropProblem("bad envid")
                }
                envelope.envelopeID = value
            case "body":
                switch value {
                case "7BIT": envelope.bodyType = .sevenBit
                case "8BITMIME": envelope.bodyType = .eightBitMIME
                case "BINARYMIME": envelope.bodyType = .binaryMIME
                default: throw MaildropProblem("bad body \"\(value)\"")
                }
            default:
                throw MaildropProblem("unknown envelope line \"\(keyword.prefix(40))\"")
            }
        }
        guard let size else { throw MaildropProblem("no size line") }
        guard let sender else { throw MaildropProblem("no sender line") }
        guard !envelope.recipients.isEmpty else { throw MaildropProblem("no recipients") }
        envelope.sender = sender
        envelope.contentLength = size
        return envelope
    }

    /// The address in `<…>`; no angle brackets inside, no spaces at the ends.
    private static func address(_ value: String, _ keyword: String) throws(MaildropProblem) -> String {
        guard value.hasPrefix("<"), value.hasSuffix(">"), value.count >= 2 else { throw MaildropProblem("bad \(keyword) \"\(value.prefix(80))\"") }
        let address = String(value.dropFirst().dropLast())
        guard !address.contains("<"), !address.contains(">"), address.trimmingSpaces == address else {
            throw MaildropProblem("bad \(keyword) \"\(value.prefix(80))\"")
        }
        return address
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
