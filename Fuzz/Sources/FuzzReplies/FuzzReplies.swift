// Client side: the reply parser and the EHLO capability list.
import NIOCore
import SMTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReplies(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let control = input.first ?? 0
    let body = Array(input.dropFirst())
    let limits = SMTPLimits(maximumReplyLineLength: 64, maximumReplyLength: 512, maximumReplyLines: 16)
    let whole = parse([body], limits: limits)
    let cut = body.isEmpty ? 0 : Int(control) % (body.count + 1)
    let split = parse([Array(body.prefix(cut)), Array(body.dropFirst(cut))], limits: limits)
    precondition(whole == split, "replies depend on how input arrived")
    return 0
}

func parse(_ pieces: [[UInt8]], limits: SMTPLimits) -> [String] {
    var parser = SMTPReplyParser(limits: limits)
    var cumulation = ByteBuffer()
    var events: [String] = []
    for piece in pieces {
        cumulation.writeBytes(piece)
        while true {
            precondition(cumulation.readableBytes <= 2 * 66 + piece.count)
            do {
                guard case .reply(let reply) = try parser.next(from: &cumulation) else {
                    precondition(cumulation.readableBytes <= 65, "reply parser holds too much")
                    break
                }
                precondition(reply.lines.count <= 16)
                // A parsed reply encodes to lines without bare breaks and parses back the same.
                var wire = reply.encoded
                var again = SMTPReplyParser()
                guard case .reply(let reparsed) = try again.next(from: &wire), reparsed.code == reply.code,
                      reparsed.lines.count == reply.lines.count
                else { fatalError("reply does not round-trip: \(reply)") }
                _ = EHLOCapabilities(reply: reply)?.authMechanisms
                events.append(reply.description)
            } catch {
                events.append("error \(error)")
            }
        }
    }
    return events
}
