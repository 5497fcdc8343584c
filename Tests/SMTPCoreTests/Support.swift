import NIOCore
@testable import SMTPCore

/// A buffer holding the UTF-8 of `text`.
func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
    var text: String { String(decoding: readableBytesView, as: UTF8.self) }
}

/// The expected outcome of a fixture, as the fixtures name it.
enum Outcome: Equatable, CustomStringConvertible {
    case success
    case incomplete
    case failure
    var description: String {
        switch self {
        case .success: return "success"
        case .incomplete: return "incomplete"
        case .failure: return "failure"
        }
    }
}

/// Splits `input` into pieces at the given cut points.
func pieces(_ input: [UInt8], cuts: [Int]) -> [[UInt8]] {
    var result: [[UInt8]] = []
    var start = 0
    for cut in cuts.sorted() where cut > start && cut < input.count {
        result.append(Array(input[start..<cut]))
        start = cut
    }
    result.append(Array(input[start...]))
    return result
}

/// Feeds `input` through the framer in the given pieces (appending each piece to one cumulation
/// buffer, as a channel handler does) and returns every result but `.needMoreBytes`.
func frame(_ chunks: [[UInt8]], limit: Int = 2048) -> (results: [SMTPLineFramer.Result], leftover: Int) {
    var framer = SMTPLineFramer(lineLengthLimit: limit)
    var cumulation = ByteBuffer()
    var results: [SMTPLineFramer.Result] = []
    for chunk in chunks {
        cumulation.writeBytes(chunk)
        while true {
            let result = framer.next(from: &cumulation)
            if result == .needMoreBytes { break }
            results.append(result)
        }
    }
    return (results, cumulation.readableBytes)
}

struct DecodedData {
    var content: [UInt8] = []
    var report: MessageContentReport?
    /// The decoder's report at the end of input, whether or not the message ended.
    var seen = MessageContentReport()
    /// Bytes left in the cumulation after the end of data (the next commands).
    var rest: [UInt8] = []
    var contentPieces = 0
}

/// Feeds `chunks` to a DATA decoder, as a channel handler would.
func decodeData(_ chunks: [[UInt8]], limits: SMTPLimits = .postfixDefaults) -> DecodedData {
    var decoder = DataDecoder(limits: limits)
    var cumulation = ByteBuffer()
    var decoded = DecodedData()
    outer: for chunk in chunks {
        cumulation.writeBytes(chunk)
        while decoded.report == nil {
            switch decoder.next(from: &cumulation) {
            case .content(let piece):
                decoded.content += piece.bytes
                decoded.contentPieces += 1
            case .needMoreBytes:
                continue outer
            case .endOfData(let report):
                decoded.report = report
            }
        }
    }
    decoded.rest = cumulation.bytes
    decoded.seen = decoder.report
    return decoded
}

func decodeData(_ text: String, limits: SMTPLimits = .postfixDefaults) -> DecodedData {
    decodeData([Array(text.utf8)], limits: limits)
}

/// Parses a line with default options.
func parse(_ line: String, options: SMTPCommandParser.Options = .init(), smtputf8: Bool = false) -> SMTPCommandParser.Result {
    SMTPCommandParser(options: options).parse(buffer(line), mailTransactionSMTPUTF8: smtputf8)
}

extension SMTPCommandParser.Result {
    var command: SMTPCommand? {
        if case .command(let command) = self { return command }
        return nil
    }
    var error: SMTPCommandError? {
        if case .syntaxError(let error) = self { return error }
        return nil
    }
    /// The reply line an error gives, `nil` for a command.
    var replyText: String? { error?.reply.wireLines.joined(separator: "\n") }
}
