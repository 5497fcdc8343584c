/// Addresses in an RFC 5322 address list, as Postfix's tok822 parser finds them leniently:
/// `Name <addr>`, `addr (comment)`, groups (`team: a@x, b@y;`), quoted local parts.
/// Comments and display names are dropped; a route (`<@a,@b:addr>`) is reduced to the address.
/// Used for `sendmail -t` and for recipients given as arguments.
enum HeaderAddresses {
    private enum Token: Equatable {
        case atom(String)
        case quoted(String)
        case literal(String)
        case special(Character)
    }

    static func parse(_ text: String) -> [String] {
        var addresses: [String] = []
        var current: [Token] = []
        var angle: [Token]?
        var inAngle = false
        func flush() {
            let tokens = angle ?? current
            let address = render(tokens)
            if !address.isEmpty || angle != nil { addresses.append(address) }
            current = []
            angle = nil
        }
        for token in tokenize(text) {
            if inAngle {
                if token == .special(">") {
                    inAngle = false
                } else {
                    angle!.append(token)
                }
                continue
            }
            switch token {
            case .special("<"):
                inAngle = true
                angle = []
            case .special(","), .special(";"):
                flush()
            case .special(":"):
                // A group's display name.
                current = []
            default:
                current.append(token)
            }
        }
        if inAngle || !current.isEmpty || angle != nil { flush() }
        return addresses.filter { !$0.isEmpty }
    }

    private static func render(_ tokens: [Token]) -> String {
        var tokens = tokens
        // Drop an obsolete route: everything up to the last ':' inside the angle brackets.
        if let colon = tokens.lastIndex(of: .special(":")) { tokens.removeSubrange(...colon) }
        return tokens.map { token -> String in
            switch token {
            case .atom(let text): text
            case .quoted(let text): "\"\(text)\""
            case .literal(let text): "[\(text)]"
            case .special(let character): String(character)
            }
        }.joined()
    }

    private static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var characters = Array(text)[...]
        var atom = ""
        func endAtom() {
            if !atom.isEmpty { tokens.append(.atom(atom)) }
            atom = ""
        }
        while let character = characters.popFirst() {
            if character.isWhitespace {
                // Character, not byte: CR LF is one grapheme.
                endAtom()
                continue
            }
            switch character {
            case "(":
                endAtom()
                var depth = 1
                while depth > 0, let inner = characters.popFirst() {
                    if inner == "\\" { _ = characters.popFirst() } else if inner == "(" { depth += 1 } else if inner == ")" { depth -= 1 }
                }
            case "\"":
                endAtom()
                var quoted = ""
                while let inner = characters.popFirst(), inner != "\"" {
                    if inner == "\\", let escaped = characters.popFirst() {
                        quoted += "\\" + String(escaped)
                    } else {
                        quoted.append(inner)
                    }
                }
                tokens.append(.quoted(quoted))
            case "[":
                endAtom()
                var literal = ""
                while let inner = characters.popFirst(), inner != "]" { literal.append(inner) }
                tokens.append(.literal(literal))
            case "<", ">", ",", ":", ";", "@":
                endAtom()
                tokens.append(.special(character))
            default:
                atom.append(character)
            }
        }
        endAtom()
        return tokens
    }
}
