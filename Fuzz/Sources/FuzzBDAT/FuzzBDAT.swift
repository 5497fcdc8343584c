// BDAT: a command stream with chunk payloads, as the server reads it: framer, parser, chunk decoder.
import NIOCore
import SMTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBDAT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let control = input.first ?? 0
    let body = Array(input.dropFirst())
    let normalize = control & 1 == 0
    let limits = SMTPLimits(lineLengthLimit: 32, messageSizeLimit: control & 2 == 0 ? 0 : 64)
    let whole = run([body], limits: limits, normalize: normalize, discard: control & 4 != 0)
    let cut = body.isEmpty ? 0 : Int(control) % (body.count + 1)
    let split = run([Array(body.prefix(cut)), Array(body.dropFirst(cut))], limits: limits, normalize: normalize, discard: control & 4 != 0)
    precondition(whole.events == split.events, "events depend on how input arrived")
    precondition(whole.octetsAccounted + whole.leftover == body.count, "octets lost")
    precondition(whole.leftover == split.leftover)
    if !whole.exceeded { precondition(whole.content == split.content) }
    if limits.messageSizeLimit > 0 { precondition(whole.largestMessage <= limits.messageSizeLimit, "message over the limit") }
    if normalize {
        for (index, byte) in whole.content.enumerated() where byte == 0x0A {
            precondition(index > 0 && whole.content[index - 1] == 0x0D, "bare LF in normalized content")
        }
    }
    return 0
}

struct Session {
    var content: [UInt8] = []
    var events: [String] = []
    var octetsAccounted = 0
    var leftover = 0
    var exceeded = false
    /// The most content octets yielded for one message.
    var largestMessage = 0
    var currentMessage = 0
}

func run(_ pieces: [[UInt8]], limits: SMTPLimits, normalize: Bool, discard: Bool) -> Session {
    var session = Session()
    var framer = SMTPLineFramer(limits: limits)
    var decoder = ChunkDecoder(limits: limits, normalizeLineEndings: normalize)
    let parser = SMTPCommandParser()
    var cumulation = ByteBuffer()
    var inChunk = false
    var steps = 0
    for piece in pieces {
        cumulation.writeBytes(piece)
        progress: while true {
            steps += 1
            precondition(steps < 1_000_000, "no progress")
            let before = cumulation.readableBytes
            defer { session.octetsAccounted += before - cumulation.readableBytes }
            if inChunk {
                switch decoder.next(from: &cumulation) {
                case .content(let chunk):
                    session.content += Array(chunk.readableBytesView)
                    session.currentMessage += chunk.readableBytes
                    session.largestMessage = max(session.largestMessage, session.currentMessage)
                case .needMoreBytes:
                    precondition(cumulation.readableBytes == 0)
                    break progress
                case .endOfChunk(let last, let report):
                    inChunk = false
                    session.events.append("end \(last) \(report.octets) \(report.bareLineFeeds)")
                    session.exceeded = session.exceeded || report.exceededSizeLimit
                    if last {
                        decoder = ChunkDecoder(limits: limits, normalizeLineEndings: normalize)
                        session.currentMessage = 0
                    }
                }
            } else {
                switch framer.next(from: &cumulation) {
                case .needMoreBytes: break progress
                case .lineTooLong: session.events.append("long")
                case .line(let line):
                    let result = parser.parse(line)
                    if case .command(.bdat(let size, let last)) = result {
                        let bounded = min(size, 1 << 20)
                        session.events.append("bdat \(bounded) \(last)")
                        decoder.startChunk(size: bounded, last: last, discard: discard && decoder.wouldExceedSizeLimit(chunkSize: bounded))
                        inChunk = true
                    } else {
                        session.events.append("line")
                    }
                }
            }
        }
    }
    session.exceeded = session.exceeded || decoder.report.exceededSizeLimit
    session.leftover = cumulation.readableBytes
    return session
}
