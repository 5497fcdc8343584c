import SealpostQueue

#if canImport(Glibc)
import Glibc
#endif

/// The queue listing in the format of Postfix's mailq (postqueue -p) with long queue IDs
/// (showq_compat.c): a heading, then per message its ID — `*` appended when it is in
/// `active`, `!` when on hold — size, arrival time and sender, then the unfinished
/// recipients, each group with the same last result preceded by that reason in parentheses
/// right-aligned to column 78 (none for recipients never tried), and a closing
/// `-- N Kbytes in M Requests.` or `Mail queue is empty`.
enum MailqFormat {
    static func render(_ messages: [MessageSnapshot]) -> String {
        guard !messages.isEmpty else { return "Mail queue is empty\n" }
        let rank: [QueueName: Int] = [.active: 0, .deferred: 1, .hold: 2]
        let ordered = messages.enumerated().sorted { lhs, rhs in
            let (left, right) = (rank[lhs.element.queue] ?? 3, rank[rhs.element.queue] ?? 3)
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
        var output = line("----Queue ID-----", "--Size--", "---Arrival Time----", "--Sender/Recipient------")
        var total = 0
        for (index, message) in ordered.enumerated() {
            if index > 0 { output += "\n" }
            let marker = message.queue == .active ? "*" : message.queue == .hold ? "!" : ""
            let sender = message.envelope.sender.isEmpty ? "MAILER-DAEMON" : message.envelope.sender
            output += line(message.id.text + marker, String(message.contentLength), arrivalTime(message.arrival), sender)
            var shownReason = ""
            for recipient in message.unfinishedRecipients {
                let state = message.recipients[recipient]
                let reason = state.status == .deferred ? (state.reason ?? "") : ""
                if reason != shownReason {
                    shownReason = reason
                    let shown = reason.isEmpty ? "reason unavailable" : reason
                    output += String(repeating: " ", count: max(0, 76 - shown.count)) + "(" + shown + ")\n"
                }
                output += line("", "", "", message.envelope.recipients[recipient].address)
            }
            total += message.contentLength
        }
        output += "\n-- \(total / 1024) Kbytes in \(ordered.count) Request\(ordered.count == 1 ? "" : "s").\n"
        return output
    }

    /// `%-17s %8s %-19s %s`.
    private static func line(_ id: String, _ size: String, _ time: String, _ address: String) -> String {
        padRight(id, 17) + " " + padLeft(size, 8) + " " + padRight(String(time.prefix(19)), 19) + " " + address + "\n"
    }

    private static func padRight(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// asctime(3)'s first 19 characters in local time: `Sun Nov  1 14:22:58`.
    static func arrivalTime(_ time: QueueTimestamp) -> String {
        localTime(time, format: "%a %b %e %H:%M:%S")
    }

    static func localTime(_ time: QueueTimestamp, format: String) -> String {
        var seconds = time_t(time.seconds)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
