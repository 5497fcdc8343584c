// Dovecot's authentication protocol, client side (Dovecot's doc/auth-protocol.txt; the client in
// Postfix's xsasl_dovecot_server.c). Lines end with LF; fields are separated by TAB; values use
// Dovecot's tab-escaping with \001 as the escape character.
//
//   C: VERSION TAB 1 TAB 0             C: CPID TAB <pid>
//   S: VERSION TAB 1 TAB <minor>       S: MECH TAB <name> [TAB <property>…]   (once per mechanism)
//   S: SPID TAB <pid>  S: CUID TAB <n>  S: COOKIE TAB <hex>                   S: DONE
//   C: AUTH TAB <id> TAB <mech> TAB service=smtp TAB nologin TAB lip=… TAB rip=… [TAB secured] [TAB resp=<base64>]
//   S: CONT TAB <id> TAB <base64>      C: CONT TAB <id> TAB <base64>
//   S: OK TAB <id> TAB user=<name> …   S: FAIL TAB <id> [TAB user=…] [TAB reason=…] [TAB code=…] [TAB temp]

/// Dovecot's tab-escaping: `\001` followed by `0` (NUL), `1` (\001), `t` (TAB), `r` (CR), `n` (LF).
enum DovecotTabEscaping {
    static func escape(_ text: String) -> String {
        var output = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{0}": output += "\u{1}0"
            case "\u{1}": output += "\u{1}1"
            case "\t": output += "\u{1}t"
            case "\r": output += "\u{1}r"
            case "\n": output += "\u{1}n"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }

    static func unescape(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var escaped = false
        for byte in bytes {
            if escaped {
                switch byte {
                case UInt8(ascii: "0"): output.append(0)
                case UInt8(ascii: "1"): output.append(1)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "n"): output.append(0x0A)
                default: output.append(byte)
                }
                escaped = false
            } else if byte == 1 {
                escaped = true
            } else {
                output.append(byte)
            }
        }
        return output
    }
}

/// The handshake the server sends after connecting, read line by line.
struct DovecotHandshakeParser: Sendable {
    enum Outcome: Sendable, Equatable {
        case needMoreLines
        /// `DONE` arrived: the mechanisms the server offers (private ones left out).
        case done([SASLMechanismDescription])
        /// The server is not a usable auth-client socket; the reason is for the log.
        case failed(String)
    }

    private static let propertyNames: [String: SASLMechanismProperties] = [
        "plaintext": .plaintext, "active": .active, "dictionary": .dictionary, "anonymous": .anonymous,
        "forward-secrecy": .forwardSecrecy, "mutual-auth": .mutualAuthentication,
    ]

    private var mechanisms: [SASLMechanismDescription] = []
    private var sawMechanism = false
    private var finished = false

    // xsasl_dovecot_server_connect: a major version other than 1 is a mismatch; MECH lines with the
    // "private" property are not for clients; SPID before any MECH means the socket is auth-master
    // or auth-userdb, not auth-client; unknown lines are ignored.
    mutating func receive(_ line: [UInt8]) -> Outcome {
        guard !finished else { return .needMoreLines }
        let fields = line.split(separator: 0x09, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        switch fields[0] {
        case "VERSION":
            guard fields.count >= 3, let major = Int(fields[1]), Int(fields[2]) != nil else {
                return fail("SASL: Protocol version error")
            }
            if major != 1 { return fail("SASL: Protocol version mismatch (\(major) vs. 1)") }
        case "MECH":
            guard fields.count >= 2 else { return .needMoreLines }
            sawMechanism = true
            var properties: SASLMechanismProperties = []
            var isPrivate = false
            for word in fields.dropFirst(2) {
                if word.lowercased() == "private" { isPrivate = true }
                if let property = Self.propertyNames[word.lowercased()] { properties.insert(property) }
            }
            if !isPrivate, let name = SASLMechanismName(fields[1]) {
                mechanisms.append(SASLMechanismDescription(name: name, properties: properties))
            }
        case "SPID":
            if !sawMechanism {
                return fail("SASL: Connected to wrong auth socket (auth-master instead of auth-client)")
            }
        case "DONE":
            finished = true
            return .done(mechanisms)
        default:
            break
        }
        return .needMoreLines
    }

    private mutating func fail(_ reason: String) -> Outcome {
        finished = true
        return .failed(reason)
    }
}

/// A reply of the server to an AUTH or CONT request.
enum DovecotServerReply: Sendable, Equatable {
    case ok(id: UInt32, parameters: [String: String])
    case cont(id: UInt32, data: String?)
    case fail(id: UInt32, parameters: [String: String], flags: Set<String>)

    var id: UInt32 {
        switch self {
        case .ok(let id, _), .cont(let id, _), .fail(let id, _, _): id
        }
    }

    /// The reply in `line`, or nil for lines that are not replies (ignored, as Postfix does).
    static func parse(_ line: [UInt8]) -> DovecotServerReply? {
        let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
        guard fields.count >= 2, let id = UInt32(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        switch String(decoding: fields[0], as: UTF8.self) {
        case "OK":
            return .ok(id: id, parameters: parameters(fields.dropFirst(2)).values)
        case "CONT":
            return .cont(id: id, data: fields.count >= 3 ? String(decoding: fields[2], as: UTF8.self) : nil)
        case "FAIL":
            let parsed = parameters(fields.dropFirst(2))
            return .fail(id: id, parameters: parsed.values, flags: parsed.flags)
        default:
            return nil
        }
    }

    private static func parameters(_ fields: some Sequence<ArraySlice<UInt8>>) -> (values: [String: String], flags: Set<String>) {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        for field in fields {
            if let equals = field.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(decoding: field[..<equals], as: UTF8.self)
                if values[name] == nil {
                    values[name] = Printable.text(DovecotTabEscaping.unescape(field[(equals + 1)...]))
                }
            } else {
                flags.insert(String(decoding: field, as: UTF8.self))
            }
        }
        return (values, flags)
    }

    // xsasl_dovecot_handle_reply, with one difference: a FAIL that Dovecot marks temporary
    // (`temp`, or `code=temp_fail`) is a 454, as RFC 4954 asks, where Postfix 3.7 answers 535.
    /// What the reply means for the exchange.
    var step: SASLStep {
        switch self {
        case .ok(_, let parameters):
            guard let user = parameters["user"], !user.isEmpty else {
                return .failure(reason: SASLFailureReason.backEndError, username: nil)
            }
            return .success(username: user)
        case .cont(_, let data):
            guard let data, let challenge = Base64.decode(data.utf8) else {
                return .failure(reason: SASLFailureReason.backEndError, username: nil)
            }
            return .challenge(challenge)
        case .fail(_, let parameters, let flags):
            let reason = parameters["reason"].flatMap { $0.isEmpty ? nil : $0 }
            if flags.contains("temp") || parameters["code"] == "temp_fail" {
                return .temporaryFailure(reason: reason ?? SASLFailureReason.unavailable)
            }
            return .failure(reason: reason, username: parameters["user"])
        }
    }
}

/// The request lines the client sends.
enum DovecotRequest {
    static func handshake(processID: Int) -> String {
        "VERSION\t1\t0\nCPID\t\(processID)\n"
    }

    // xsasl_dovecot_server_first: AUTH, the id, the mechanism, service=, nologin, lip=, rip=,
    // secured when TLS is on, and the initial response last (Dovecot ignores anything after resp=).
    // Sealpost adds lport= and rport= when it knows them. An empty initial response is "resp==":
    // Dovecot reads "resp=" with nothing after it as no initial response at all.
    static func auth(
        id: UInt32, mechanism: SASLMechanismName, service: String, session: SASLSessionInfo, initialResponse: [UInt8]?
    ) -> String {
        var line = "AUTH\t\(id)\t\(mechanism.rawValue)\tservice=\(DovecotTabEscaping.escape(service))\tnologin"
        line += "\tlip=\(DovecotTabEscaping.escape(session.serverAddress))\trip=\(DovecotTabEscaping.escape(session.clientAddress))"
        if let port = session.serverPort { line += "\tlport=\(port)" }
        if let port = session.clientPort { line += "\trport=\(port)" }
        if session.isEncrypted { line += "\tsecured" }
        if let initialResponse { line += "\tresp=" + (initialResponse.isEmpty ? "=" : Base64.encode(initialResponse)) }
        return line + "\n"
    }

    static func cont(id: UInt32, response: [UInt8]) -> String {
        "CONT\t\(id)\t\(Base64.encode(response))\n"
    }
}
