// DATA: the decoder on arbitrary input (whole and split), and the encoder's output through the decoder.
import NIOCore
import SMTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzData(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let control = input.first ?? 0
    let body = Array(input.dropFirst())
    let limits = SMTPLimits(lineLengthLimit: 16, messageSizeLimit: control & 1 == 0 ? 0 : Int(control) * 2)
    let whole = decode([body], limits: limits)
    let cut = body.isEmpty ? 0 : Int(control) % (body.count + 1)
    let split = decode([Array(body.prefix(cut)), Array(body.dropFirst(cut))], limits: limits)
    precondition(whole.report == split.report, "report depends on how input arrived")
    precondition(whole.ended == split.ended && whole.rest == split.rest)
    if !whole.report.exceededSizeLimit {
        precondition(whole.content == split.content, "content depends on how input arrived")
    }
    if limits.messageSizeLimit > 0 { precondition(whole.content.count <= limits.messageSizeLimit) }
    if !whole.ended { precondition(whole.rest.isEmpty, "an unfinished message left input unconsumed") }
    for (index, byte) in whole.content.enumerated() where byte == 0x0A {
        precondition(index > 0 && whole.content[index - 1] == 0x0D, "bare LF in decoded content")
    }
    if whole.ended {
        // The end of data is a CR LF . CR LF in the input, or "." CR LF at its very start.
        let consumed = body.count - whole.rest.count
        let tail = Array(body[..<consumed].suffix(5))
        precondition(tail == [0x0D, 0x0A, 0x2E, 0x0D, 0x0A] || (consumed == 3 && tail == [0x2E, 0x0D, 0x0A]),
                     "end of data without CR LF . CR LF")
    }
    // Whatever the content, the encoder's output decodes back to it and ends exactly at its end.
    let encoded = DataEncoder.encode(ByteBuffer(bytes: body))
    let roundTrip = decode([Array(encoded.readableBytesView)], limits: SMTPLimits(lineLengthLimit: 16, messageSizeLimit: 0))
    precondition(roundTrip.ended && roundTrip.rest.isEmpty, "encoded message does not end where it should")
    precondition(roundTrip.report.hasStrictLineEndings, "encoder emitted a bare line break")
    return 0
}

struct Decoded {
    var content: [UInt8] = []
    var report = MessageContentReport()
    var ended = false
    var rest: [UInt8] = []
}

func decode(_ pieces: [[UInt8]], limits: SMTPLimits) -> Decoded {
    var decoder = DataDecoder(limits: limits)
    var cumulation = ByteBuffer()
    var decoded = Decoded()
    var steps = 0
    outer: for piece in pieces {
        cumulation.writeBytes(piece)
        while !decoded.ended {
            steps += 1
            precondition(steps < 1_000_000, "decoder makes no progress")
            switch decoder.next(from: &cumulation) {
            case .content(let chunk): decoded.content += Array(chunk.readableBytesView)
            case .needMoreBytes:
                precondition(cumulation.readableBytes == 0, "decoder asked for more with bytes left")
                continue outer
            case .endOfData: decoded.ended = true
            }
        }
    }
    decoded.report = decoder.report
    decoded.rest = Array(cumulation.readableBytesView)
    return decoded
}
