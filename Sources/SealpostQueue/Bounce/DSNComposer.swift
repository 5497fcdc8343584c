/// A notification ready to be queued: the queue manager commits it as a new message with this
/// envelope and content.
public struct DeliveryStatusNotice: Sendable, Hashable {
    /// The envelope sender: empty for `<>` (notices to the sender), the double-bounce address for
    /// postmaster notices.
    public var sender: String
    public var recipients: [String]
    /// The whole message, header and body, with CR LF line ends.
    public var content: [UInt8]
    /// The recipients of the original message that the notice reports (indexes into its
    /// envelope), so the queue manager can mark them notified.
    public var reported: [Int]
}

/// Writes RFC 3464 delivery status notifications as Postfix's bounce(8) does
/// (bounce_notify_util.c): a `multipart/report; report-type=delivery-status` with the text of
/// Postfix's templates, a `message/delivery-status` part, and the original message or its
/// headers.
///
/// Mail that asked for SMTPUTF8 gets `message/global-delivery-status` and `message/global`
/// (`message/global-headers`) parts, as Postfix does.
public enum DSNComposer {
    /// Writes `notice` about the recipients `recipients` (indexes into the snapshot's envelope) of
    /// `snapshot`, quoting the content that `nextChunk` yields (read only as far as needed).
    ///
    /// Returns nil when no recipient is left after the notice's NOTIFY filter (Postfix then
    /// cancels the notice). Throws only what `nextChunk` throws.
    ///
    /// - Parameters:
    ///   - now: the notice's `Date:` and the boundary's time.
    ///   - utcOffset: the time zone of dates, in seconds east of UTC; nil for the local zone.
    public static func compose(
        _ notice: PlannedNotice, about snapshot: MessageSnapshot, recipients: [Int], settings: BounceSettings,
        now: QueueTimestamp = .now(), utcOffset: Int? = nil, content nextChunk: () throws -> [UInt8]?
    ) throws -> DeliveryStatusNotice? {
        let envelope = snapshot.envelope
        let reported = recipients.filter { index in
            guard envelope.recipients.indices.contains(index), snapshot.recipients.indices.contains(index) else { return false }
            guard notice.filter == .notify else { return true }
            let notify = envelope.recipients[index].notify
            switch notice.kind {
            case .failure: return notify.wants(.failure)
            case .delay: return notify.wants(.delay)
            case .success: return notify.contains(.success) && !notify.contains(.never)
            }
        }
        guard !reported.isEmpty else { return nil }

        let headersOnly =
            notice.returnContent == .headers
            || (settings.sizeLimit > 0 && (snapshot.contentLength <= 0 || snapshot.contentLength > settings.sizeLimit))
        let original = try QuotedOriginal.read(headersOnly: headersOnly, nextChunk: nextChunk)

        let utf8Requested = envelope.smtputf8
        let eightBit =
            utf8Requested || envelope.bodyType == .eightBitMIME || envelope.bodyType == .binaryMIME || original.hasEightBitBytes
        let fieldName = settings.fieldMailName
        let originalSender = envelope.sender.isEmpty ? settings.mailerDaemonAddress : envelope.sender
        let template = BounceTemplate.forKind(notice.kind)
        let text = Text(utf8: utf8Requested)

        // Part 1: the human-readable notification.
        var notification: [String] = []
        if !notice.isPostmasterNotice { notification += template.expandedLines(settings) }
        for index in reported {
            let recipient = envelope.recipients[index]
            let reason = snapshot.recipients[index].reason ?? defaultReason(notice.kind)
            notification.append("")
            let line: String
            if let orig = recipient.originalAddress, !orig.isEmpty {
                line = "<\(text.safe(recipient.address))> (expanded from <\(text.safe(orig))>): \(text.safe(reason))"
            } else {
                line = "<\(text.safe(recipient.address))>: \(text.safe(reason))"
            }
            notification += LineWrap.wrap(line)
        }

        // Part 2: the machine-readable report (RFC 3464 section 2).
        var report: [String] = ["Reporting-MTA: dns; \(settings.hostname)"]
        if let envid = envelope.envelopeID, !envid.isEmpty { report.append("Original-Envelope-Id: \(text.safe(envid))") }
        report.append("X-\(fieldName)-Queue-ID: \(snapshot.id)")
        report.append("X-\(fieldName)-Sender: \(addressType(originalSender, utf8Requested)); \(text.safe(originalSender))")
        report.append("Arrival-Date: \(MailDate.format(snapshot.arrival.seconds, utcOffset: utcOffset))")
        for index in reported {
            let recipient = envelope.recipients[index]
            let state = snapshot.recipients[index]
            report.append("")
            report.append("Final-Recipient: \(addressType(recipient.address, utf8Requested)); \(text.safe(recipient.address))")
            // RFC 3464 says to omit Original-Recipient without ORCPT; Postfix reports the
            // pre-rewriting address instead (bounce_notify_util.c explains why), and so do we.
            if let orcpt = recipient.originalRecipient, !orcpt.isEmpty {
                report.append("Original-Recipient: \(text.safe(orcpt))")
            } else if let orig = recipient.originalAddress, !orig.isEmpty {
                report.append("Original-Recipient: \(addressType(orig, utf8Requested)); \(text.safe(orig))")
            }
            report.append("Action: \(action(notice.kind, state))")
            report.append("Status: \(text.safe(state.dsnStatus ?? defaultStatus(notice.kind)))")
            if let mta = state.remoteMTA, !mta.isEmpty {
                let field = mta.contains(";") ? mta : "dns; \(mta)"
                report += LineWrap.wrap("Remote-MTA: \(text.safe(field))")
            }
            let reason = state.reason ?? defaultReason(notice.kind)
            if state.remoteMTA != nil, let reply = smtpReply(in: reason) {
                report += LineWrap.wrap("Diagnostic-Code: smtp; \(text.safe(reply))")
            } else {
                report += LineWrap.wrap("Diagnostic-Code: X-\(fieldName); \(text.safe(reason))")
            }
            if notice.kind == .delay {
                let until = snapshot.arrival.seconds + Int64(settings.maximalQueueLifetime)
                report.append("Will-Retry-Until: \(MailDate.format(until, utcOffset: utcOffset))")
            }
        }

        // Part 3: the original, after the Return-Path that cleanup removed from it.
        let returnPath = Array("Return-Path: <\(originalSender)>\r\n".utf8)
        let quoted = returnPath + original.bytes

        let partTexts = [notification.joined(separator: "\r\n"), report.joined(separator: "\r\n")]
        let boundary = Boundary.choose(
            base: "\(snapshot.id).\(now.seconds)/\(settings.hostname)",
            avoiding: [quoted] + partTexts.map { Array($0.utf8) })

        let postmaster = notice.isPostmasterNotice
        let to = qualified(notice.recipient, settings)
        var head: [String] = [
            "Date: \(MailDate.format(now.seconds, utcOffset: utcOffset))",
            "From: Mail Delivery System <MAILER-DAEMON@\(settings.origin)>",
            "Subject: \(postmaster ? template.postmasterSubject ?? template.subject : template.subject)",
            "To: \(quoteLocalPart(to))",
            "Auto-Submitted: \(postmaster ? "auto-generated" : "auto-replied")",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;",
            "\tboundary=\"\(boundary)\"",
            "Content-Transfer-Encoding: \(eightBit ? "8bit" : "7bit")",
            "Message-Id: <\(MailDate.compact(now.seconds)).\(snapshot.id).\(uniqueTag())@\(settings.hostname)>",
            "",
            "This is a MIME-encapsulated message.",
            "",
            "--\(boundary)",
            "Content-Description: Notification",
            "Content-Type: text/plain; charset=\(eightBit ? "utf-8" : "us-ascii")",
        ]
        if eightBit { head.append("Content-Transfer-Encoding: 8bit") }
        head.append("")
        head += notification
        head += ["", "--\(boundary)", "Content-Description: Delivery report"]
        head.append("Content-Type: message/\(utf8Requested ? "global-" : "")delivery-status")
        if eightBit && utf8Requested { head.append("Content-Transfer-Encoding: 8bit") }
        head.append("")
        head += report
        head += ["", "--\(boundary)"]
        let undelivered = notice.kind == .success ? "" : "Undelivered "
        head.append("Content-Description: \(undelivered)\(headersOnly ? "Message Headers" : "Message")")
        if utf8Requested {
            head.append("Content-Type: message/\(headersOnly ? "global-headers" : "global")")
        } else {
            head.append("Content-Type: \(headersOnly ? "text/rfc822-headers" : "message/rfc822")")
        }
        if eightBit { head.append("Content-Transfer-Encoding: 8bit") }
        head.append("")

        var content = Array(head.joined(separator: "\r\n").utf8) + [0x0D, 0x0A]
        content += quoted
        content += Array("\r\n--\(boundary)--\r\n".utf8)
        return DeliveryStatusNotice(sender: notice.envelopeSender, recipients: [to], content: content, reported: reported)
    }

    /// ``compose(_:about:recipients:settings:now:utcOffset:content:)`` reading the original from
    /// a queue content reader.
    public static func compose(
        _ notice: PlannedNotice, about snapshot: MessageSnapshot, recipients: [Int], settings: BounceSettings,
        now: QueueTimestamp = .now(), utcOffset: Int? = nil, reader: MessageContentReader
    ) throws -> DeliveryStatusNotice? {
        try compose(
            notice, about: snapshot, recipients: recipients, settings: settings, now: now, utcOffset: utcOffset,
            content: { try reader.next() })
    }

    private static func action(_ kind: NoticeKind, _ state: RecipientState) -> String {
        switch kind {
        case .failure: "failed"
        case .delay: "delayed"
        case .success:
            switch state.action ?? .delivered {
            case .delivered: "delivered"
            case .relayed: "relayed"
            case .expanded: "expanded"
            }
        }
    }

    private static func defaultStatus(_ kind: NoticeKind) -> String {
        switch kind {
        case .failure: "5.0.0"
        case .delay: "4.0.0"
        case .success: "2.0.0"
        }
    }

    private static func defaultReason(_ kind: NoticeKind) -> String {
        switch kind {
        case .failure: "delivery failed"
        case .delay: "delivery temporarily suspended"
        case .success: "delivery successful"
        }
    }

    // Postfix's smtp client reports dtype "smtp" with the server's reply as dtext; Sealpost's
    // agents put that reply in the reason as "host H[A] said: REPLY (in reply to X command)",
    // so it is taken back out of there.
    /// The remote server's reply quoted in a delivery agent's reason, if any.
    static func smtpReply(in reason: String) -> String? {
        guard let said = reason.firstRange(of: " said: ") else { return nil }
        var reply = String(reason[said.upperBound...])
        if let tail = reply.ranges(of: " (in reply to ").last, reply.hasSuffix(")") {
            reply = String(reply[..<tail.lowerBound])
        }
        guard let first = reply.utf8.first, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(first) else { return nil }
        return reply
    }

    /// `utf-8` for a non-ASCII address of SMTPUTF8 mail, else `rfc822` (RFC 6533).
    private static func addressType(_ address: String, _ utf8Requested: Bool) -> String {
        utf8Requested && address.utf8.contains(where: { $0 >= 0x80 }) ? "utf-8" : "rfc822"
    }

    /// `postmaster` becomes `postmaster@$myorigin`, as cleanup qualifies it.
    private static func qualified(_ address: String, _ settings: BounceSettings) -> String {
        address.contains("@") ? address : "\(address)@\(settings.origin)"
    }

    // quote_822_local(3): quote the local part when it is not a dot-atom.
    /// The address with its local part quoted when RFC 5322 requires it.
    static func quoteLocalPart(_ address: String) -> String {
        let at = address.lastIndex(of: "@") ?? address.endIndex
        let local = address[..<at]
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".utf8)
        let isDotAtom =
            !local.isEmpty && !local.hasPrefix(".") && !local.hasSuffix(".") && !local.contains("..")
            && local.utf8.allSatisfy { atext.contains($0) || $0 == UInt8(ascii: ".") || $0 >= 0x80 }
        if isDotAtom { return address }
        var quoted = "\""
        for character in local {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\"" + address[at...]
    }

    private static func uniqueTag() -> String {
        String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }
}

/// Makes values safe for one line of a header or report: control characters become `?`, as
/// bounce_log.c's printable() does; non-ASCII text stays only in SMTPUTF8 notices.
struct Text {
    var utf8: Bool

    func safe(_ value: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(value.unicodeScalars.count)
        for scalar in value.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && !utf8) {
                result.unicodeScalars.append("?")
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Postfix's line_wrap(3) as bounce_notify_util.c calls it: lines of at most 79 columns broken
/// at white space, continuation lines indented by 4. A word longer than that is not broken,
/// except that no line may exceed RFC 5322's 998 octets: such a line is cut at that length.
enum LineWrap {
    static let width = 79
    static let indent = 4
    static let maximumOctets = 998

    static func wrap(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var lines: [[UInt8]] = []
        var lineStart = 0
        var currentWidth = width
        var position = 0
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        while position < bytes.count {
            // The word starting at `position` ends at the next blank.
            var wordEnd = position
            while wordEnd < bytes.count && !isBlank(bytes[wordEnd]) { wordEnd += 1 }
            if position > lineStart && wordEnd - lineStart > currentWidth {
                var end = position
                while end > lineStart && isBlank(bytes[end - 1]) { end -= 1 }
                lines.append(Array(bytes[lineStart..<end]))
                if lines.count == 1 { currentWidth -= indent }
                lineStart = position
            }
            position = wordEnd
            while position < bytes.count && isBlank(bytes[position]) { position += 1 }
        }
        var end = bytes.count
        while end > lineStart && isBlank(bytes[end - 1]) { end -= 1 }
        lines.append(Array(bytes[lineStart..<end]))

        var result: [String] = []
        for (number, line) in lines.enumerated() {
            let prefix = number == 0 ? [] : [UInt8](repeating: 0x20, count: indent)
            var rest = line[...]
            var first = true
            repeat {
                let room = maximumOctets - (first && number == 0 ? 0 : indent)
                var cut = min(rest.count, room)
                // Never split a UTF-8 sequence.
                while cut < rest.count && cut > 0 && rest[rest.startIndex + cut] & 0xC0 == 0x80 { cut -= 1 }
                let piece = rest.prefix(cut)
                result.append(String(decoding: (first && number == 0 ? [] : prefix) + piece, as: UTF8.self))
                rest = rest.dropFirst(cut)
                first = false
            } while !rest.isEmpty
        }
        return result
    }
}

/// The MIME boundary: Postfix's `queueid.time/myhostname`, lengthened until no quoted line can
/// be mistaken for it.
enum Boundary {
    static func choose(base: String, avoiding parts: [[UInt8]]) -> String {
        var candidate = base
        var attempt = 0
        while parts.contains(where: { contains($0, Array("--\(candidate)".utf8)) }) {
            attempt += 1
            candidate = "\(base).\(attempt)"
        }
        return candidate
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return false }
        var index = 0
        while index + needle.count <= haystack.count {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}

/// The part of the original message a notice quotes, with CR LF line ends.
struct QuotedOriginal {
    var bytes: [UInt8]
    var hasEightBitBytes: Bool

    /// Headers are copied up to the first line that is neither a header nor a continuation (as
    /// bounce_original() does); at most this much of them, ending at a line boundary.
    static let headerLimit = 1 << 20

    // bounce_notify_util.c, bounce_original(): with RET=HDRS (or a message over
    // bounce_size_limit) the header lines only; else the whole message.
    static func read(headersOnly: Bool, nextChunk: () throws -> [UInt8]?) throws -> QuotedOriginal {
        var lines = LineSplitter()
        var output: [UInt8] = []
        var done = false
        while !done, let chunk = try nextChunk() {
            lines.feed(chunk)
            while let line = lines.nextLine() {
                if headersOnly {
                    let isContinuation = line.first == 0x20 || line.first == 0x09
                    guard (isContinuation && !output.isEmpty) || isHeader(line), output.count + line.count <= headerLimit else {
                        done = true
                        break
                    }
                }
                output += line
                output += [0x0D, 0x0A]
            }
        }
        if !done, let last = lines.finish() {
            if !headersOnly || isHeader(last) {
                output += last
                output += [0x0D, 0x0A]
            }
        }
        return QuotedOriginal(bytes: output, hasEightBitBytes: output.contains { $0 >= 0x80 })
    }

    // is_header(3): a name of printable ASCII other than ':' and space, then optional blanks, then ':'.
    static func isHeader(_ line: [UInt8]) -> Bool {
        var index = 0
        while index < line.count, line[index] > 0x20, line[index] < 0x7F, line[index] != UInt8(ascii: ":") { index += 1 }
        guard index > 0 else { return false }
        while index < line.count, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        return index < line.count && line[index] == UInt8(ascii: ":")
    }
}

/// Splits a byte stream into lines ending in CR LF, LF or a CR not followed by LF.
private struct LineSplitter {
    private var buffer: [UInt8] = []
    private var start = 0

    mutating func feed(_ bytes: [UInt8]) {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer += bytes
    }

    /// The next complete line, without its ending.
    mutating func nextLine() -> [UInt8]? {
        var index = start
        while index < buffer.count {
            let byte = buffer[index]
            if byte == 0x0A {
                let line = Array(buffer[start..<index])
                start = index + 1
                return line
            }
            if byte == 0x0D {
                // A CR at the end of the buffer may be the first half of CR LF.
                guard index + 1 < buffer.count else { return nil }
                let line = Array(buffer[start..<index])
                start = buffer[index + 1] == 0x0A ? index + 2 : index + 1
                return line
            }
            index += 1
        }
        return nil
    }

    /// What is left at the end of the stream: a last line without an ending, if any.
    mutating func finish() -> [UInt8]? {
        var rest = Array(buffer[start...])
        buffer = []
        start = 0
        if rest.last == 0x0D { rest.removeLast() }
        return rest.isEmpty ? nil : rest
    }
}
