import Testing

@testable import SealpostConfig
import SealpostTestSupport

extension Tables {
    @Suite("random table files")
    struct Fuzz {
        /// Bytes that mean something to some table syntax, mixed with arbitrary ones.
        static let alphabet = Array("/!{}$()[]:.,=\\\" \t\n#if endif 0123456789abcxyzABC@+-*?|^".utf8)

        static func randomText(_ generator: inout SeededGenerator) -> [UInt8] {
            let length = Int.random(in: 0...120, using: &generator)
            return (0..<length).map { _ in
                Int.random(in: 0..<4, using: &generator) == 0
                    ? UInt8.random(in: 0...255, using: &generator)
                    : alphabet.randomElement(using: &generator)!
            }
        }

        @Test(arguments: [TableReference.Kind.texthash, .cidr, .regexp, .pcre])
        func randomBytesNeverCrashTheParser(kind: TableReference.Kind) {
            var generator = SeededGenerator(seed: 0x5EA1_9057 &+ UInt64(kind.hashValue & 0xFF))
            var opened = 0
            for _ in 0..<3000 {
                let text = Self.randomText(&generator)
                var warnings: [TableWarning] = []
                let key = String(decoding: Self.randomText(&generator).prefix(30), as: UTF8.self)
                do {
                    switch kind {
                    case .cidr:
                        let rules = try CIDRRules.load(text, table: "fuzz", kind: kind, folding: .unicode, warnings: &warnings)
                        _ = rules.lookup(key, table: "fuzz") { _ in }
                        _ = rules.lookup("10.0.0.1", table: "fuzz") { _ in }
                    case .regexp, .pcre:
                        let rules = try PatternRules.load(text, table: "fuzz", kind: kind, folding: .unicode, warnings: &warnings)
                        _ = rules.lookup(key, table: "fuzz") { _ in }
                    default:
                        let rules = try KeyValueRules.load(text, table: "fuzz", kind: kind, folding: .unicode, warnings: &warnings)
                        _ = rules.lookup(key, table: "fuzz") { _ in }
                    }
                    opened += 1
                } catch {
                    #expect(error.line != nil, "\(error)")
                }
            }
            #expect(opened > 0)
        }

        @Test func randomReferencesNeverCrash() {
            var generator = SeededGenerator(seed: 42)
            let prefixes = ["inline:", "static:", "regexp:", "pcre:", "cidr:", "proxy:", "", "hash:"]
            for _ in 0..<3000 {
                let body = String(decoding: Self.randomText(&generator).prefix(60), as: UTF8.self)
                let text = prefixes.randomElement(using: &generator)! + body
                guard let reference = try? TableReference(parsing: text) else { continue }
                if reference.kind.readsKeyValueText { continue }
                if let table = try? reference.open() {
                    _ = try? table.lookup(body)
                }
            }
        }
    }
}
