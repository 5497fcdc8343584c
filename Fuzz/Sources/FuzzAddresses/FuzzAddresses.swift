// Addresses: RFC 5321 paths and mailboxes (SMTPUTF8 included), and the ESMTP parameters of MAIL and RCPT.
import FuzzDriver
import NIOCore
import SMTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddresses(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks the grammar options; the rest is the path, then (after the first space)
    // the ESMTP parameters.
    let control = input.first ?? 0
    let body = Array(input.dropFirst())
    let options = AddressGrammar.Options(strictRFC821Envelopes: control & 1 != 0, allowMinUser: control & 2 != 0)
    let smtputf8 = control & 4 != 0
    let allowNull = control & 8 != 0
    let grammar = AddressGrammar(options: options)
    let text = String(decoding: body, as: UTF8.self)

    if case .success(let path) = grammar.parsePath(text, allowNull: allowNull, smtputf8: smtputf8) {
        checkPath(path, text: text, grammar: grammar, smtputf8: smtputf8, allowNull: allowNull)
    }
    if case .success(let mailbox) = grammar.parseMailbox(body, smtputf8: smtputf8) {
        checkMailbox(mailbox, smtputf8: smtputf8)
    }
    checkCommands(body, control: control)
    checkEncodings(body)
    return 0
}

/// A parsed path holds no line break or control character, keeps what was sent, and its canonical
/// form parses back to the same mailbox.
func checkPath(_ path: SMTPPath, text: String, grammar: AddressGrammar, smtputf8: Bool, allowNull: Bool) {
    require(path.raw == text, "the raw path is not what was sent")
    require(!grammar.options.strictRFC821Envelopes || path.hadAngleBrackets, "strict envelopes without <>")
    require(allowNull || !path.isNull, "a null path where none is allowed")
    for field in [path.canonicalForm, path.address] + path.sourceRoute.map(\.text) {
        require(!field.utf8.contains(where: isControl), "control character in a parsed path: \(text.debugDescription)")
    }
    guard let mailbox = path.mailbox else {
        require(path.canonicalForm == "<>")
        return
    }
    checkMailbox(mailbox, smtputf8: smtputf8)
    // Quoting may lengthen the path beyond its limit; everything else must hold.
    var roomy = grammar
    roomy.limits = SMTPLimits(maximumLocalPartLength: 1 << 16, maximumPathLength: 1 << 16)
    roomy.options.strictRFC821Envelopes = true
    guard case .success(let again) = roomy.parsePath(path.canonicalForm, allowNull: false, smtputf8: smtputf8),
          let reparsed = again.mailbox
    else { fatalError("canonical form does not parse: \(text.debugDescription) -> \(path.canonicalForm.debugDescription)") }
    require(reparsed.localPart == mailbox.localPart, "local part changed: \(text.debugDescription)")
    require(reparsed.domain == mailbox.domain, "domain changed: \(text.debugDescription)")
    require(again.sourceRoute.isEmpty && again.canonicalForm == path.canonicalForm, "canonical form is not stable")
}

func checkMailbox(_ mailbox: Mailbox, smtputf8: Bool) {
    for field in [mailbox.localPart, mailbox.rawLocalPart, mailbox.domain?.text ?? ""] {
        require(!field.utf8.contains(where: isControl), "control character in a mailbox")
    }
    if let domain = mailbox.domain {
        require(!domain.text.isEmpty, "empty domain")
        require(smtputf8 || domain.isASCII || domain.isAddressLiteral, "UTF-8 domain without SMTPUTF8")
        if domain.isAddressLiteral {
            require(domain.text.hasPrefix("[") && domain.text.hasSuffix("]"), "literal without brackets")
        } else {
            require(!domain.text.utf8.contains(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: " ") }))
        }
    }
    // A local part with no characters that need quoting is sent as written.
    // (Bytes, not Characters: a dot followed by a combining mark is one Character.)
    let local = Array(mailbox.localPart.utf8)
    let dot = UInt8(ascii: ".")
    if !mailbox.localPartWasQuoted, let domain = mailbox.domain, local.first != dot, local.last != dot,
       !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot })
    {
        require(mailbox.canonicalForm == mailbox.localPart + "@" + domain.text, "a dot-string was quoted")
    }
}

/// The same bytes as the argument of MAIL FROM and RCPT TO: whatever parses re-encodes to a command
/// that parses to the same path and parameters.
func checkCommands(_ body: [UInt8], control: UInt8) {
    var options = SMTPCommandParser.Options()
    options.address.strictRFC821Envelopes = control & 1 != 0
    options.strictSMTPUTF8 = control & 16 != 0
    options.binaryMIMEEnabled = control & 32 != 0
    options.requireTLSEnabled = control & 64 != 0
    let parser = SMTPCommandParser(options: options)
    for verb in ["MAIL FROM:", "RCPT TO:"] {
        let line = ByteBuffer(bytes: Array(verb.utf8) + body)
        guard case .command(let command) = parser.parse(line, mailTransactionSMTPUTF8: control & 128 != 0) else { continue }
        let wire: ByteBuffer
        do { wire = try command.encoded() } catch { continue }
        let bytes = Array(wire.readableBytesView)
        require(bytes.suffix(2) == [0x0D, 0x0A], "encoded command without CR LF")
        require(!bytes.dropLast(2).contains(where: isControl), "encoded command holds a control character")
        var lenient = parser
        lenient.options.address.strictRFC821Envelopes = true
        lenient.limits = SMTPLimits(maximumLocalPartLength: 1 << 16, maximumPathLength: 1 << 16)
        guard case .command(let again) = lenient.parse(ByteBuffer(bytes: bytes.dropLast(2)), mailTransactionSMTPUTF8: true) else {
            fatalError("encoded command does not parse: \(command) -> \(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        switch (command, again) {
        case (.mail(let path, let parameters), .mail(let path2, let parameters2)):
            require(path.mailbox?.internalForm == path2.mailbox?.internalForm, "MAIL path changed")
            require(parameters == parameters2, "MAIL parameters changed: \(parameters) -> \(parameters2)")
        case (.rcpt(let path, let parameters), .rcpt(let path2, let parameters2)):
            require(path.mailbox?.internalForm == path2.mailbox?.internalForm, "RCPT path changed")
            require(parameters == parameters2, "RCPT parameters changed: \(parameters) -> \(parameters2)")
        default:
            fatalError("command changed: \(command) -> \(again)")
        }
    }
}

/// xtext (RFC 3461) and utf-8-addr-xtext (RFC 6533) decode what they encode, and a decoded text
/// encodes to something that decodes the same.
func checkEncodings(_ body: [UInt8]) {
    require(XText.decode(XText.encode(body)) == body, "xtext does not round-trip")
    let text = String(decoding: body, as: UTF8.self)
    if let decoded = XText.decode(text) {
        require(XText.decode(XText.encode(decoded)) == decoded)
    }
    let encoded = UniText.encode(text)
    require(UniText.decode(encoded) == text, "utf-8-addr-xtext does not round-trip: \(text.debugDescription)")
    if let decoded = UniText.decode(text) {
        require(UniText.decode(UniText.encode(decoded)) == decoded)
    }
}

func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }
