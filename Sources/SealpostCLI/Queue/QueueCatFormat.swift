import SealpostQueue

/// `sealpost queue cat ID`: a queued message as Postfix's `postcat -q` shows one, in sections
/// with the same headings — the envelope as `name: value` lines (Postfix's record names where
/// one exists, `named_attribute: name=value` for the rest), each recipient followed by an
/// indented line with its delivery state, then the content with LF line ends.
enum QueueCatFormat {
    static func render(_ message: MessageSnapshot, content: [UInt8]) -> String {
        let place = "\(message.queue)/\(message.id)"
        let envelope = message.envelope
        var lines = ["*** ENVELOPE RECORDS \(place) ***"]
        lines.append("message_size: \(message.contentLength)")
        lines.append("message_arrival_time: \(MailqFormat.arrivalTime(message.arrival)) \(yearOf(message.arrival))")
        lines.append("sender: \(envelope.sender)")
        var attributes: [(String, String?)] = [
            ("client_name", envelope.clientName), ("client_address", envelope.clientAddress),
            ("client_port", envelope.clientPort), ("helo_name", envelope.heloName),
            ("protocol_name", envelope.protocolName), ("sasl_method", envelope.saslMethod),
            ("sasl_username", envelope.saslUsername), ("sasl_sender", envelope.saslSender),
            ("tls_summary", envelope.tlsSummary), ("dsn_envid", envelope.envelopeID),
            ("dsn_ret", envelope.returnContent.map { $0 == .full ? "FULL" : "HDRS" }),
            ("body_type", envelope.bodyType.map { $0 == .sevenBit ? "7BIT" : $0 == .eightBitMIME ? "8BITMIME" : "BINARYMIME" }),
            ("smtputf8", envelope.smtputf8 ? "yes" : nil),
        ]
        attributes += envelope.attributes.keys.sorted().map { ($0, envelope.attributes[$0]) }
        for case let (name, value?) in attributes { lines.append("named_attribute: \(name)=\(value)") }
        for (index, recipient) in envelope.recipients.enumerated() {
            lines.append("recipient: \(recipient.address)")
            if let original = recipient.originalAddress { lines.append("original_recipient: \(original)") }
            if !recipient.notify.isEmpty { lines.append("dsn_notify: \(MaildropEnvelope.notifyText(recipient.notify).uppercased())") }
            if let orcpt = recipient.originalRecipient { lines.append("dsn_orig_rcpt: \(orcpt)") }
            lines.append("    " + describe(message.recipients[index]))
        }
        lines.append("*** MESSAGE CONTENTS \(place) ***")
        var text = String(decoding: content, as: UTF8.self).replacingCRLF()
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        return lines.joined(separator: "\n") + "\n" + text + "*** MESSAGE FILE END \(place) ***\n"
    }

    private static func describe(_ state: RecipientState) -> String {
        var parts: [String]
        switch state.status {
        case .pending: parts = ["pending"]
        case .deferred: parts = ["deferred"]
        case .delivered: parts = ["delivered"]
        case .bounced: parts = ["bounced"]
        }
        if state.attempts > 0 { parts.append("attempts=\(state.attempts)") }
        if let next = state.nextAttempt, state.status == .deferred { parts.append("next=\(MailqFormat.arrivalTime(next))") }
        if let dsn = state.dsnStatus { parts.append("dsn=\(dsn)") }
        if let relay = state.remoteMTA { parts.append("relay=\(relay)") }
        if let reason = state.reason { parts.append("(\(reason))") }
        return "status: " + parts.joined(separator: ", ")
    }

    private static func yearOf(_ time: QueueTimestamp) -> String {
        MailqFormat.localTime(time, format: "%Y")
    }
}

extension String {
    fileprivate func replacingCRLF() -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        var previousCR = false
        for character in unicodeScalars {
            if previousCR && character != "\n" { result.unicodeScalars.append("\r") }
            previousCR = character == "\r"
            if !previousCR { result.unicodeScalars.append(character) }
        }
        if previousCR { result.unicodeScalars.append("\r") }
        return result
    }
}
