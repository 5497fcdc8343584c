/// One destination of an alias, `:include:` file or `.forward` file (aliases(5)).
enum AliasDestination: Sendable, Hashable {
    /// `user`, `user@domain`, or `\user` (deliver to the mailbox, no further alias expansion).
    case address(String, noAliases: Bool)
    /// `/file/name` or `~/file` (a `~` path keeps its `~`).
    case file(String)
    /// `|command`, without the bar.
    case command(String)
    /// `:include:/file/name`, the path.
    case include(String)

    // aliases(5): "name: value1, value2, ..." where a value is an address, /file/name,
    // |command or :include:/file/name; Postfix parses the list with tok822_parse() and
    // internalizes each address (quotes removed). Comments in parentheses are dropped, and of
    // "phrase <address>" only the address counts.
    /// The destinations of an alias value or of the lines of an `:include:` file (`#` starts
    /// a comment line there).
    static func parse(_ value: String) -> [AliasDestination] {
        var destinations: [AliasDestination] = []
        for line in value.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.hasPrefix("#") { continue }
            for token in splitTokens(String(line)) {
                destinations.append(classify(token))
            }
        }
        return destinations
    }

    private static func classify(_ token: String) -> AliasDestination {
        if token.hasPrefix("|") { return .command(String(token.dropFirst())) }
        if token.hasPrefix("/") || token.hasPrefix("~") { return .file(token) }
        if token.lowercased().hasPrefix(":include:") { return .include(String(token.dropFirst(":include:".count))) }
        if token.hasPrefix("\\") { return .address(String(token.dropFirst()), noAliases: true) }
        return .address(token, noAliases: false)
    }

    /// Comma-separated tokens, with quotes honoured and removed, comments dropped, and
    /// `phrase <address>` reduced to the address.
    private static func splitTokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var angle: String?
        var inQuotes = false
        var escaped = false
        var commentDepth = 0
        var characters = text.makeIterator()
        func finish() {
            let token = (angle ?? current).trimmingBlanks()
            if !token.isEmpty { tokens.append(token) }
            current = ""
            angle = nil
        }
        var insideAngle = false
        while let character = characters.next() {
            if escaped {
                if insideAngle { angle!.append(character) } else { current.append(character) }
                escaped = false
                continue
            }
            if inQuotes {
                if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inQuotes = false
                } else if insideAngle {
                    angle!.append(character)
                } else {
                    current.append(character)
                }
                continue
            }
            if commentDepth > 0 {
                if character == "(" { commentDepth += 1 }
                if character == ")" { commentDepth -= 1 }
                continue
            }
            switch character {
            case "\"": inQuotes = true
            case "(": commentDepth = 1
            case "<":
                insideAngle = true
                angle = ""
            case ">": insideAngle = false
            case ",":
                if insideAngle { angle!.append(character) } else { finish() }
            case "\\" where !current.trimmingBlanks().isEmpty || insideAngle:
                escaped = true
            default:
                if insideAngle { angle!.append(character) } else { current.append(character) }
            }
        }
        finish()
        return tokens
    }
}

extension String {
    func trimmingBlanks() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isBlank($0) }), let end = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[start...end])
    }
}
