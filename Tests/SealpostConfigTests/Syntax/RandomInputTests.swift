import Testing

@testable import SealpostConfig
import SealpostTestSupport

/// Random bytes as main.cf, master.cf and parameter values never crash the parsers.
@Suite struct RandomInputTests {
    /// Bytes biased towards the characters the grammars care about.
    static func randomInput(_ generator: inout SeededGenerator, length: Int) -> [UInt8] {
        let interesting = Array(" \t\n\r#={}$()?:,-o!<>[]\\/.".utf8) + [0, 0xFF, 0xC3]
        return (0..<length).map { _ in
            Bool.random(using: &generator)
                ? interesting.randomElement(using: &generator)!
                : UInt8.random(in: 0...255, using: &generator)
        }
    }

    @Test func parsersSurviveRandomBytes() {
        var generator = SeededGenerator(seed: 0x5EA1_7057)
        for round in 0..<3000 {
            let bytes = Self.randomInput(&generator, length: Int.random(in: 0...400, using: &generator))
            let main = MainConfFile(path: "main.cf", bytes: bytes)
            let master = MasterConfFile(path: "master.cf", bytes: bytes)
            let text = String(decoding: bytes, as: UTF8.self)
            _ = ParameterExpander(lookup: { name in name.count % 2 == 0 ? text : nil }).expand(text)
            _ = ParameterExpander.referencedNames(in: text)
            _ = PostfixList.split(text)
            _ = TLSProtocolSelection.parse(text)
            if round % 10 == 0 {
                let configuration = Configuration(
                    directory: "/etc/sealpost", main: main, master: master,
                    host: HostFacts(hostname: "fuzz", interfaceAddresses: [], processID: 1))
                _ = configuration.diagnostics.count
            }
        }
    }

    @Test func configurationSurvivesRandomValuesForEveryParameter() {
        var generator = SeededGenerator(seed: 42)
        var text = ""
        for definition in ParameterCatalogue.definitions {
            let value = String(decoding: Self.randomInput(&generator, length: 12).filter { $0 != 10 && $0 != 0 }, as: UTF8.self)
            text += "\(definition.name) = \(value)\n"
        }
        let configuration = Configuration(
            directory: "/etc/sealpost", main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: "master.cf", bytes: []),
            host: HostFacts(hostname: "fuzz", interfaceAddresses: [], processID: 1))
        #expect(configuration.global.values.count == ParameterCatalogue.definitions.count)
    }
}
