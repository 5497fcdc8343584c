// Lookup tables: cidr, regexp, pcre, texthash (and the aliases format), inline and static.
import FuzzDriver
@testable import SealpostConfig

/// The line that separates the table text from the keys to look up in an input.
let keysSeparator = Array("\n%%keys\n".utf8)
/// Looked up in every table besides the input's own keys.
let standardKeys = [
    "192.0.2.1", "10.1.2.3", "::1", "2001:db8::1", "::ffff:192.0.2.1", "user@example.com", "example.com",
    "mail.example.com", "postmaster", "user+ext@example.com", "",
]
let kinds: [TableReference.Kind] = [.cidr, .regexp, .pcre, .texthash, .hash, .inline]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTables(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks the table type and the key folding.
    let control = input.first ?? 0
    let kind = kinds[Int(control & 0x0F) % kinds.count]
    let folding: KeyFolding = control & 0x10 == 0 ? .unicode : .ascii
    let (text, ownKeys) = split(Array(input.dropFirst()))
    let keys = ownKeys + standardKeys
    switch kind {
    case .cidr: checkRuleTable(CIDRRules.self, kind: kind, text: text, keys: keys, folding: folding)
    case .regexp, .pcre: checkRuleTable(PatternRules.self, kind: kind, text: text, keys: keys, folding: folding)
    case .texthash: checkKeyValue(text: text, keys: keys, folding: folding)
    case .hash: checkAliases(text: text, keys: keys, folding: folding)
    default: checkReference(text: text, keys: keys, folding: folding)
    }
    return 0
}

func split(_ body: [UInt8]) -> ([UInt8], [String]) {
    guard body.count >= keysSeparator.count else { return (body, []) }
    for start in 0...(body.count - keysSeparator.count)
    where body[start..<(start + keysSeparator.count)].elementsEqual(keysSeparator) {
        let keys = body[(start + keysSeparator.count)...].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        return (Array(body[..<start]) + [UInt8(ascii: "\n")], keys.prefix(8).map { String(decoding: $0.prefix(128), as: UTF8.self) })
    }
    return (body, [])
}

/// A file table either loads or fails with an error naming a line of the file; loaded, the same
/// rules written inline (`type:{ {rule}, … }`) load and answer the same.
func checkRuleTable<Rules: TableRules>(_: Rules.Type, kind: TableReference.Kind, text: [UInt8], keys: [String], folding: KeyFolding) {
    var warnings: [TableWarning] = []
    let lineCount = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
    let rules: Rules
    do {
        rules = try Rules.load(text, table: "fuzz", kind: kind, folding: folding, warnings: &warnings)
    } catch {
        guard let line = error.line, line >= 1, line <= lineCount else {
            fatalError("a table error without a line of the file: \(error)")
        }
        return
    }
    for warning in warnings where warning.line != nil {
        require(warning.line! >= 1 && warning.line! <= lineCount, "a warning for a line that is not there")
    }
    let answers = keys.map { rules.lookup($0, table: "fuzz") { _ in } }

    let (lines, _) = LogicalLineReader.read(text)
    guard !lines.isEmpty, lines.allSatisfy({ inlineable($0.text) }) else { return }
    let inlineText = "\(kind.rawValue):{ " + lines.map { "{" + $0.text + "}" }.joined(separator: ", ") + " }"
    let table: any LookupTable
    do {
        table = try TableReference(parsing: inlineText).open(TableOptions(unicodeKeyFolding: folding == .unicode))
    } catch {
        fatalError("rules that load from a file do not load inline: \(inlineText.debugDescription): \(error)")
    }
    for (key, answer) in zip(keys, answers) {
        let inlineAnswer = try? table.lookup(key)
        require(inlineAnswer == answer, "inline rules answer \(key.debugDescription) differently: \(inlineText.debugDescription)")
    }
}

/// A rule survives `{…}` grouping unchanged when its braces balance and no space is at either end.
func inlineable(_ rule: String) -> Bool {
    PostfixList.bracesBalance(rule) && PostfixList.trimmed(rule) == rule && !rule.hasPrefix("{")
}

/// texthash: a plain `key value` line is found under its key (the first such line wins).
func checkKeyValue(text: [UInt8], keys: [String], folding: KeyFolding) {
    var warnings: [TableWarning] = []
    guard let rules = try? KeyValueRules.load(text, table: "fuzz", kind: .texthash, folding: folding, warnings: &warnings) else {
        fatalError("a texthash table failed to load")
    }
    for key in keys { _ = rules.lookup(key, table: "fuzz") { _ in } }
    var expected: [[UInt8]: (key: String, value: String)] = [:]
    var inlinePairs: [(String, String)] = []
    for line in LogicalLineReader.read(text).lines {
        let bytes = Array(line.text.utf8)
        let end = bytes.firstIndex(where: isSpace) ?? bytes.count
        // Quotes and backslashes change where a key ends; the model does not follow them.
        if bytes[..<end].contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) { return }
        let key = String(decoding: bytes[..<end], as: UTF8.self)
        let value = PostfixList.trimmed(String(decoding: bytes[end...], as: UTF8.self))
        guard !value.isEmpty else { continue }
        if expected[folding.fold(key)] == nil { expected[folding.fold(key)] = (key, value) }
        if !key.utf8.contains(where: { "{},=".utf8.contains($0) }) && PostfixList.bracesBalance(value) && !value.hasPrefix("{") {
            inlinePairs.append((key, value))
        }
    }
    for (key, value) in expected.values {
        require(rules.lookup(key, table: "fuzz") { _ in } == value, "texthash does not find \(key.debugDescription)")
    }
    // The same pairs as an inline table: a later duplicate wins there.
    guard !inlinePairs.isEmpty else { return }
    let inlineText = "inline:{ " + inlinePairs.map { "{ \($0.0) = \($0.1) }" }.joined(separator: ", ") + " }"
    guard let table = try? TableReference(parsing: inlineText).open(TableOptions(unicodeKeyFolding: folding == .unicode)) else {
        fatalError("inline table does not open: \(inlineText.debugDescription)")
    }
    var last: [[UInt8]: String] = [:]
    for (key, value) in inlinePairs { last[folding.fold(key)] = value }
    for (key, _) in inlinePairs {
        require((try? table.lookup(key)) == last[folding.fold(key)], "inline table does not find \(key.debugDescription)")
    }
}

/// aliases(5) format: loads whatever the text, and looks up without trouble.
func checkAliases(text: [UInt8], keys: [String], folding: KeyFolding) {
    var warnings: [TableWarning] = []
    guard let rules = try? AliasRules.load(text, table: "fuzz", kind: .hash, folding: folding, warnings: &warnings) else {
        fatalError("an aliases table failed to load")
    }
    for key in keys {
        if let value = rules.lookup(key, table: "fuzz", warn: { _ in }) {
            require(!value.isEmpty, "an empty alias value")
        }
    }
}

/// The first line as a table reference (`inline:{…}`, `static:…`, `cidr:{…}`, …) opens or fails
/// cleanly, and answers lookups.
func checkReference(text: [UInt8], keys: [String], folding: KeyFolding) {
    let first = String(decoding: text.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    guard let reference = try? TableReference(parsing: first), reference.isInline else { return }
    guard let table = try? reference.open(TableOptions(unicodeKeyFolding: folding == .unicode)) else { return }
    for key in keys { _ = try? table.lookup(key) }
    if reference.kind == .static {
        let expected = try? PostfixList.unbraceIfGrouped(reference.name).get()
        require((try? table.lookup("anything")) == expected, "static: answers something else")
    }
    _ = try? TableList(parsing: first).lookup(keys[0])
}

func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
