import Foundation
import Testing

/// The README is a user's manual: its commands and parameter table must tell the truth.
@Suite struct ReadmeTests {
    static let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md").path

    @Test func parameterTableIsTheCatalogue() throws {
        let text = try String(contentsOfFile: Self.readme, encoding: .utf8)
        let begin = try #require(text.range(of: "<!-- BEGIN PARAMETER TABLE -->\n"))
        let end = try #require(text.range(of: "<!-- END PARAMETER TABLE -->"))
        let table = String(text[begin.upperBound..<end.lowerBound])
        let catalogue = try SealpostBinary.run(["catalogue", "--markdown"])
        #expect(catalogue.status == 0)
        #expect(table == catalogue.standardOutput, "run Scripts/update-readme-parameters")
    }

    @Test func firstScreenGivesTheDemoAndTestCommands() throws {
        let firstScreen = try String(contentsOfFile: Self.readme, encoding: .utf8).split(separator: "\n").prefix(15).joined(separator: "\n")
        #expect(firstScreen.contains("sealpost run --demo"))
        #expect(firstScreen.contains("swift test"))
        let ci = try String(contentsOfFile: Self.readme.replacingOccurrences(of: "README.md", with: ".ci/run"), encoding: .utf8)
        #expect(ci.contains("\nswift test\n"), ".ci/run must run the README's test command")
    }

    @Test func catalogueListsOneParameter() throws {
        let result = try SealpostBinary.run(["catalogue", "smtpd_tls_session_cache_timeout"])
        let summary = try #require(try Self.summary("smtpd_tls_session_cache_timeout"))
        #expect(result.standardOutput == """
            smtpd_tls_session_cache_timeout = 3600s
                \(summary)
                kind: time (unit s), ≤ 8640000; status: implemented

            """)
    }

    static func summary(_ name: String) throws -> String? {
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("| `\(name)` |") }) else { return nil }
        return line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.last
    }
}
