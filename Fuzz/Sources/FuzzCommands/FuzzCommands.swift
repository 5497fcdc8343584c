// Command phase: framing, parsing, address grammar and the command encoder.
import NIOCore
import SMTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommands(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks the options and where the input is split in two reads.
    let control = input.first ?? 0
    var options = SMTPCommandParser.Options()
    options.address.strictRFC821Envelopes = control & 1 != 0
    options.strictSMTPUTF8 = control & 2 != 0
    options.smtpUTF8Enabled = control & 4 == 0
    options.dsnEnabled = control & 8 == 0
    options.binaryMIMEEnabled = control & 16 != 0
    let parser = SMTPCommandParser(options: options)
    let limit = 128
    var framer = SMTPLineFramer(lineLengthLimit: limit)
    var cumulation = ByteBuffer()
    let body = input.dropFirst()
    let cut = body.isEmpty ? 0 : Int(control) % (body.count + 1)
    var consumedTotal = 0
    for piece in [body.prefix(cut), body.dropFirst(cut)] {
        cumulation.writeBytes(piece)
        while true {
            let before = cumulation.readableBytes
            let result = framer.next(from: &cumulation)
            consumedTotal += before - cumulation.readableBytes
            switch result {
            case .needMoreBytes:
                precondition(cumulation.readableBytes <= limit, "framer left too much unconsumed")
            case .line(let line):
                precondition(line.bytes.readableBytes < limit, "line over the limit")
                check(parser.parse(line), parser: parser)
                check(parser.parse(line, mailTransactionSMTPUTF8: true), parser: parser)
                continue
            case .lineTooLong(let overlong):
                precondition(overlong.prefix.readableBytes == limit)
                check(parser.parse(overlong.prefix), parser: parser)
                continue
            }
            break
        }
    }
    precondition(consumedTotal + cumulation.readableBytes == body.count)
    // The address grammar on its own, on the raw input as text.
    let grammar = AddressGrammar()
    let text = String(decoding: body, as: UTF8.self)
    if case .success(let path) = grammar.parsePath(text, allowNull: true, smtputf8: true) {
        // Quoting may lengthen the path beyond its limit; everything else must hold.
        let again = AddressGrammar(limits: SMTPLimits(maximumPathLength: 1 << 16))
            .parsePath(path.canonicalForm, allowNull: true, smtputf8: true)
        guard case .success(let reparsed) = again, reparsed.mailbox?.internalForm == path.mailbox?.internalForm else {
            fatalError("canonical form does not parse back: \(text.debugDescription) -> \(path.canonicalForm.debugDescription)")
        }
    }
    return 0
}

/// What parsed can be sent, contains no line break when sent, and parses back to a command.
func check(_ result: SMTPCommandParser.Result, parser: SMTPCommandParser) {
    switch result {
    case .syntaxError(let error):
        precondition(error.reply.code >= 500 && error.reply.code < 600)
        let wire = error.reply.encoded
        precondition(wire.readableBytesView.filter { $0 == 0x0A }.count == error.reply.lines.count)
    case .command(let command):
        guard let wire = try? command.encoded() else { return }
        let body = wire.readableBytesView.dropLast(2)
        precondition(!body.contains(0x0A) && !body.contains(0x0D), "encoded command holds a line break")
        var reparse = parser
        reparse.options.address.strictRFC821Envelopes = false
        reparse.options.strictSMTPUTF8 = false
        reparse.options.smtpUTF8Enabled = true
        reparse.options.binaryMIMEEnabled = true
        switch reparse.parse(ByteBuffer(bytes: body), mailTransactionSMTPUTF8: true) {
        case .command(let again):
            precondition(again.verb == command.verb || command.verb == "NOOP", "verb changed: \(command) -> \(again)")
        case .syntaxError(let error):
            fatalError("encoded command does not parse: \(command) -> \(error)")
        }
    }
}
