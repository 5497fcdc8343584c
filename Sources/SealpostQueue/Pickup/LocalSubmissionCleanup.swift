#if canImport(Glibc)
import Glibc
#endif

/// What Postfix 3.7's cleanup does to a locally submitted message's content, line by line
/// (checked against Postfix 3.7.11 with long queue IDs): CR LF line ends (a bare LF becomes
/// CR LF); the `Received: by HOST (NAME, from userid UID)` header in front; `Bcc:` and
/// `Resent-Bcc:` headers removed with their continuation lines; and at the end of the header
/// section, when missing, `Message-Id: <ID@HOST>`, `Date:` and `From: Full Name <sender>` —
/// or their `Resent-` forms when the message has any `Resent-` header.
///
/// The header section ends at the first empty line or at the first line that is neither a
/// header nor a continuation; in the latter case an empty line is inserted, as Postfix does,
/// so the added headers never run into the body. Nothing is held back beyond one line: the
/// added headers go after the last header, so the header section is streamed. Of each header,
/// `header_size_limit` octets are kept (line ends not counted); the rest, continuation lines
/// included, is dropped, as cleanup does.
struct LocalSubmissionCleanup {
    struct Identity {
        var hostname: String
        var mailName: String
        var uid: UInt32
        var queueID: String
        var arrival: Int
        /// The qualified envelope sender, for a missing From header.
        var sender: String
        var fullName: String?
    }

    let identity: Identity
    /// `header_size_limit`; 0 means no limit.
    let headerSizeLimit: Int
    /// Octets kept of the current header so far.
    private var headerLength = 0
    private var inHeaders = true
    private var sawFrom = false
    private var sawDate = false
    private var sawMessageID = false
    private var sawResent = false
    private var sawResentFrom = false
    private var sawResentDate = false
    private var sawResentMessageID = false
    private var lastWasHeader = false
    /// Inside a removed (Bcc) header: its continuation lines go too.
    private var dropping = false
    private var line: [UInt8] = []
    private var pendingCR = false
    private(set) var messageID: String?

    init(identity: Identity, headerSizeLimit: Int = 0) {
        self.identity = identity
        self.headerSizeLimit = headerSizeLimit
    }

    /// The Received header that precedes the content.
    var receivedHeader: [UInt8] {
        let text = "Received: by \(identity.hostname) (\(identity.mailName), from userid \(identity.uid))\r\n"
            + "\tid \(identity.queueID); \(LocalMailDate.format(identity.arrival))\r\n"
        return Array(text.utf8)
    }

    /// Takes content bytes; returns what to write.
    mutating func feed(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 64)
        for byte in bytes {
            if pendingCR {
                pendingCR = false
                if byte == UInt8(ascii: "\n") {
                    endLine(into: &output)
                    continue
                }
                // A bare CR stays part of the line, as in Postfix.
                if inHeaders {
                    line.append(UInt8(ascii: "\r"))
                } else {
                    output.append(UInt8(ascii: "\r"))
                    bodyLineEnded = false
                }
            }
            switch byte {
            case UInt8(ascii: "\r"): pendingCR = true
            case UInt8(ascii: "\n"): endLine(into: &output)
            default:
                if inHeaders {
                    line.append(byte)
                } else {
                    output.append(byte)
                    bodyLineEnded = false
                }
            }
        }
        return output
    }

    /// The end of the content: the last line (terminated), and the added headers if the
    /// message was all headers.
    mutating func finish() -> [UInt8] {
        var output: [UInt8] = []
        if pendingCR {
            pendingCR = false
            if inHeaders {
                line.append(UInt8(ascii: "\r"))
            } else {
                output.append(UInt8(ascii: "\r"))
                bodyLineEnded = false
            }
        }
        if inHeaders {
            if !line.isEmpty { endLine(into: &output) }
            if inHeaders { endHeaders(into: &output, insertEmptyLine: false) }
        } else if !bodyLineEnded {
            output += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
        }
        return output
    }

    private var bodyLineEnded = true

    private mutating func endLine(into output: inout [UInt8]) {
        guard inHeaders else {
            output += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
            bodyLineEnded = true
            return
        }
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            endHeaders(into: &output, insertEmptyLine: true)
            return
        }
        if line[0] == UInt8(ascii: " ") || line[0] == UInt8(ascii: "\t") {
            if lastWasHeader {
                if !dropping { keepHeaderLine(into: &output) }
                return
            }
        } else if let name = Self.headerName(line) {
            note(name, line: line)
            lastWasHeader = true
            headerLength = 0
            let lowered = name.lowercased()
            dropping = lowered == "bcc" || lowered == "resent-bcc"
            if !dropping { keepHeaderLine(into: &output) }
            return
        }
        // Not a header: the body starts here, after the added headers and an empty line.
        endHeaders(into: &output, insertEmptyLine: true)
        output += line + [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    }

    /// Writes the current header line, or what `header_size_limit` leaves of it.
    private mutating func keepHeaderLine(into output: inout [UInt8]) {
        var kept = line[...]
        if headerSizeLimit > 0 {
            let room = max(0, headerSizeLimit - headerLength)
            guard room > 0 else { return }
            kept = kept.prefix(room)
        }
        headerLength += kept.count
        output += kept
        output += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    }

    private mutating func endHeaders(into output: inout [UInt8], insertEmptyLine: Bool) {
        inHeaders = false
        var added: [String] = []
        let prefix = sawResent ? "Resent-" : ""
        if !(sawResent ? sawResentMessageID : sawMessageID) {
            // Long queue IDs are unique on their own; Postfix then uses them as they are.
            let id = "<\(identity.queueID)@\(identity.hostname)>"
            if !sawResent { messageID = id }
            added.append("\(prefix)Message-Id: \(id)")
        }
        if !(sawResent ? sawResentDate : sawDate) { added.append("\(prefix)Date: \(LocalMailDate.format(identity.arrival))") }
        if !(sawResent ? sawResentFrom : sawFrom) {
            let address = identity.sender.isEmpty ? "MAILER-DAEMON" : identity.sender
            if let fullName = identity.fullName, !fullName.isEmpty {
                added.append("\(prefix)From: \(Self.phrase(fullName)) <\(address)>")
            } else {
                added.append("\(prefix)From: \(address)")
            }
        }
        for header in added { output += Array(header.utf8) + [UInt8(ascii: "\r"), UInt8(ascii: "\n")] }
        if insertEmptyLine { output += [UInt8(ascii: "\r"), UInt8(ascii: "\n")] }
        bodyLineEnded = true
    }

    private mutating func note(_ name: String, line: [UInt8]) {
        let lowered = name.lowercased()
        if lowered.hasPrefix("resent-") { sawResent = true }
        switch lowered {
        case "from": sawFrom = true
        case "date": sawDate = true
        case "resent-from": sawResentFrom = true
        case "resent-date": sawResentDate = true
        case "resent-message-id": sawResentMessageID = true
        case "message-id":
            sawMessageID = true
            if messageID == nil {
                let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
                let value = String(decoding: line[min(colon + 1, line.endIndex)...], as: UTF8.self)
                messageID = value.trimmingSpaces
            }
        default: break
        }
    }

    /// The field name when `line` starts a header (RFC 5322: printable ASCII but colon, then a colon).
    static func headerName(_ line: [UInt8]) -> String? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        var end = colon
        // Postfix accepts white space between the name and the colon.
        while end > 0, line[end - 1] == UInt8(ascii: " ") || line[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        guard end > 0, line[0..<end].allSatisfy({ $0 >= 33 && $0 <= 126 }) else { return nil }
        return String(decoding: line[0..<end], as: UTF8.self)
    }

    /// A display name as Postfix writes it: as is when it is atoms and spaces, else a quoted
    /// string (`"dotted.name"`, `"Al (x) Ice"`). Control characters become spaces.
    static func phrase(_ name: String) -> String {
        let cleaned = String(name.map { character -> Character in
            (character.asciiValue.map { $0 < 32 || $0 == 127 } ?? false) ? " " : character
        })
        let atext = Set("!#$%&'*+-/=?^_`{|}~ ")
        let plain = cleaned.allSatisfy { $0.isLetter || $0.isNumber || atext.contains($0) }
        if plain, cleaned.trimmingSpaces == cleaned, !cleaned.isEmpty { return cleaned }
        var quoted = "\""
        for character in cleaned {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }
}

/// Dates as Postfix's mail_date() writes them (`Sun, 29 Nov 2026 12:00:00 +0000 (UTC)`, local
/// time). A copy of the server's `MailDate`, which the queue module cannot import.
enum LocalMailDate {
    static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        var text = strftime("%a, %d %b %Y %H:%M:%S ", parts)
        let offset = Int(parts.tm_gmtoff)
        let minutes = abs(offset) / 60
        text += (offset < 0 ? "-" : "+") + twoDigits(minutes / 60) + twoDigits(minutes % 60)
        let zone = strftime("%Z", parts)
        if !zone.isEmpty { text += " (\(zone))" }
        return text
    }

    /// `YYYYMMDDhhmmss` in UTC, as in Postfix's generated Message-IDs.
    static func compact(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return strftime("%Y%m%d%H%M%S", parts)
    }

    static func strftime(_ format: String, _ parts: tm) -> String {
        var parts = parts
        var buffer = [CChar](repeating: 0, count: 128)
        let length = Glibc.strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
