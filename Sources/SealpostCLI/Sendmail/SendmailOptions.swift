import SealpostQueue

/// The command line of Postfix's sendmail(1), parsed as its getopt(3) does
/// (`A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx`): options may be clustered (`-ti`),
/// option arguments attached (`-falice`) or separate (`-f alice`), options and recipients
/// mixed (GNU getopt permutes), `--` ends the options. `-q` takes its argument attached only.
struct SendmailOptions: Equatable {
    /// What the invocation asks for.
    enum Mode: Equatable {
        /// `-bm` (default): read a message and queue it.
        case deliver
        /// `-bp`, or invoked as `mailq`: list the queue.
        case listQueue
        /// `-q`: deliver the deferred queue now.
        case flushQueue
        /// A mode Sealpost's sendmail does not offer; the text says why and what to use.
        case unsupported(String)
    }

    var mode: Mode = .deliver
    var sender: String?
    var fullName: String?
    var configDirectory: String?
    var extractRecipients = false
    var ignoreDots = false
    var notify: DSNNotify?
    var returnContent: DSNReturn?
    var envelopeID: String?
    var bodyType: BodyType?
    var verbose = 0
    var recipients: [String] = []

    /// The options that take an argument.
    private static let withArgument: Set<Character> = ["A", "B", "C", "F", "L", "N", "O", "R", "V", "X", "b", "e", "f", "h", "o", "p", "r"]
    /// The options that take none.
    private static let flags: Set<Character> = ["G", "I", "U", "c", "i", "m", "n", "t", "v", "x", "q"]

    /// A usage error, reported with EX_USAGE.
    struct UsageError: Error, Equatable {
        var message: String
    }

    init() {}

    init(parsing arguments: [String]) throws(UsageError) {
        var index = 0
        var operands: [String] = []
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                operands += arguments[index...]
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                operands.append(argument)
                continue
            }
            var letters = argument.dropFirst()[...]
            while let letter = letters.popFirst() {
                if letter == "q" {
                    try apply(queueOption: String(letters))
                    break
                }
                if Self.flags.contains(letter) {
                    try apply(flag: letter)
                    continue
                }
                guard Self.withArgument.contains(letter) else { throw UsageError(message: "invalid option -- '\(letter)'") }
                let value: String
                if !letters.isEmpty {
                    value = String(letters)
                } else if index < arguments.count {
                    value = arguments[index]
                    index += 1
                } else {
                    throw UsageError(message: "option requires an argument -- '\(letter)'")
                }
                try apply(letter, value)
                break
            }
        }
        recipients = operands
    }

    private mutating func apply(flag: Character) throws(UsageError) {
        switch flag {
        case "t": extractRecipients = true
        case "i": ignoreDots = true
        case "v": verbose += 1
        case "I": mode = .unsupported("newaliases (-I, -bi) is not supported: Sealpost reads alias_maps tables directly; there is no alias database to build")
        default: break  // -G, -U, -c, -m, -n, -x: ignored, as in Postfix
        }
    }

    private mutating func apply(queueOption: String) throws(UsageError) {
        switch queueOption.first {
        case nil: mode = .flushQueue
        case "I", "R", "S":
            mode = .unsupported("-q\(queueOption.prefix(1)) is not supported: use `sealpost queue flush`, or `sealpost queue requeue ID` for one message")
        default:
            // -q<interval>: a periodic queue run, as the daemon always does; ignored, as in Postfix.
            break
        }
    }

    private mutating func apply(_ option: Character, _ value: String) throws(UsageError) {
        switch option {
        case "f", "r": sender = value
        case "F": fullName = value
        case "C": configDirectory = value
        case "B":
            switch value.uppercased() {
            case "8BITMIME": bodyType = .eightBitMIME
            case "7BIT": bodyType = .sevenBit
            default: throw UsageError(message: "-B option needs 8BITMIME or 7BIT")
            }
        case "N":
            guard let notify = MaildropEnvelope.parseNotify(value) else {
                throw UsageError(message: "bad -N option value: \"\(value)\" (expected never, or a list of success, delay, failure)")
            }
            self.notify = notify
        case "R":
            switch value.lowercased() {
            case "full": returnContent = .full
            case "hdrs": returnContent = .headers
            default: throw UsageError(message: "-R option needs full or hdrs")
            }
        case "V":
            guard !value.isEmpty, value.utf8.count <= 100, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "=") }) else {
                throw UsageError(message: "bad -V option value: the envelope ID must be 1 to 100 printable ASCII characters without '+' or '='")
            }
            envelopeID = value
        case "b":
            switch value {
            case "m": mode = .deliver
            case "p": mode = .listQueue
            case "h", "H": break  // ignored, as in Postfix
            case "s": mode = .unsupported("-bs (SMTP on standard input) is not supported: submit over SMTP to the submission service, or pipe the message to sendmail")
            case "v": mode = .unsupported("-bv (address verification) is not supported")
            case "d": mode = .unsupported("-bd is not supported: run the mail system with `sealpost run`")
            case "i": mode = .unsupported("newaliases (-I, -bi) is not supported: Sealpost reads alias_maps tables directly; there is no alias database to build")
            case "l": mode = .unsupported("-bl is not supported")
            default: throw UsageError(message: "unsupported: -b\(value)")
            }
        case "o":
            // -oi: a lone dot does not end the input; -o7, -o8, -om, -oA… and others are ignored.
            if value == "i" { ignoreDots = true }
        default:
            break  // -A, -L, -O, -X, -e, -h, -p: ignored, as in Postfix
        }
    }
}
