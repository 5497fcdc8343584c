import ArgumentParser
import SealpostConfig

/// `sealpost catalogue`: every parameter Sealpost knows, with its kind, default and status.
struct CatalogueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalogue",
        abstract: "List every parameter Sealpost knows: kind, default, status and meaning.")

    @Flag(help: "Print the Markdown table that the README carries.")
    var markdown = false

    @Argument(help: "Show only these parameters.")
    var names: [String] = []

    func run() throws {
        var definitions = ParameterCatalogue.definitions.sorted { $0.name < $1.name }
        if !names.isEmpty {
            for name in names where ParameterCatalogue.definition(named: name) == nil {
                Terminal.warning("\(name): not in the catalogue")
            }
            definitions = definitions.filter { names.contains($0.name) }
        }
        Terminal.out(markdown ? Self.markdownTable(definitions) : Self.plainListing(definitions))
    }

    static func plainListing(_ definitions: [ParameterDefinition]) -> String {
        var output = ""
        for definition in definitions {
            output += "\(definition.name) = \(definition.defaultValue)\n"
            output += "    \(definition.summary)\n"
            output += "    kind: \(kindText(definition)); status: \(statusText(definition.status))\(originText(definition.origin))\n"
        }
        return output
    }

    static func markdownTable(_ definitions: [ParameterDefinition]) -> String {
        var output = "| parameter | default | kind | status | meaning |\n|---|---|---|---|---|\n"
        for definition in definitions {
            let defaultText = definition.defaultValue.isEmpty ? "" : "`\(escaped(definition.defaultValue))`"
            output += "| `\(definition.name)`\(originText(definition.origin)) | \(defaultText) | \(escaped(kindText(definition))) "
            output += "| \(escaped(statusText(definition.status))) | \(escaped(definition.summary)) |\n"
        }
        return output
    }

    static func kindText(_ definition: ParameterDefinition) -> String {
        var text: String
        switch definition.kind {
        case .boolean: text = "yes/no"
        case .integer: text = "number"
        case .size: text = "bytes"
        case .time(let unit): text = "time (unit \(unit))"
        case .string: text = "text"
        case .list: text = "list"
        case .tables: text = "lookup tables"
        case .choice(let choices): text = choices.map { $0.isEmpty ? "(empty)" : $0 }.joined(separator: ", ")
        case .tlsProtocols: text = "TLS protocols"
        }
        switch (definition.minimum, definition.maximum) {
        case (let low?, let high?): text += ", \(low)–\(high)"
        case (let low?, nil): text += ", ≥ \(low)"
        case (nil, let high?): text += ", ≤ \(high)"
        case (nil, nil): break
        }
        return text
    }

    static func statusText(_ status: ParameterStatus) -> String {
        switch status {
        case .implemented: "implemented"
        case .planned(let milestone): "planned (\(milestone.rawValue))"
        case .ignored(let reason): "no effect: \(reason)"
        case .unsupported(let reason): "not supported: \(reason)"
        }
    }

    static func originText(_ origin: ParameterOrigin) -> String {
        switch origin {
        case .postfix: ""
        case .laterPostfix(let version): " (Postfix \(version))"
        case .sealpost: " (Sealpost extension)"
        }
    }

    private static func escaped(_ text: String) -> String {
        text.replacingAll("|", with: "\\|")
    }
}

extension String {
    /// Every occurrence of `target` replaced, without Foundation.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
