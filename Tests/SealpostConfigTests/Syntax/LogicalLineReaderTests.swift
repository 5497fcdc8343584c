import Testing

@testable import SealpostConfig

@Suite struct LogicalLineReaderTests {
    func read(_ text: String) -> (lines: [LogicalLine], warnings: [LogicalLineWarning]) {
        LogicalLineReader.read(Array(text.utf8))
    }

    @Test func joinsContinuationLinesAndSkipsComments() {
        let (lines, warnings) = read(
            """
            # comment
            a = one,
                two
            # a comment inside does not end the entry
              three

            b = x
            """)
        #expect(warnings.isEmpty)
        #expect(lines.map(\.text) == ["a = one,    two  three", "b = x"])
        #expect(lines.map(\.firstLine) == [2, 7])
        #expect(lines[0].line(atUTF8Offset: 16) == 5)
        #expect(lines[0].line(atUTF8Offset: 9) == 3)
    }

    @Test func indentedCommentsAndBlankLinesAreSkipped() {
        let (lines, _) = read("  # indented comment\n \t \na = 1\n")
        #expect(lines.map(\.text) == ["a = 1"])
    }

    @Test func leadingContinuationIsIgnoredWithAWarning() {
        let (lines, warnings) = read("   orphan\na = 1")
        #expect(lines.map(\.text) == ["a = 1"])
        #expect(warnings.count == 1)
        #expect(warnings[0].line == 1)
        #expect(warnings[0].message.contains("must not start with whitespace"))
    }

    @Test func carriageReturnsAndNulBytesAreHandled() {
        let (lines, warnings) = LogicalLineReader.read(Array("a = 1\r\nb = 2\u{0}junk\n".utf8))
        #expect(lines.map(\.text) == ["a = 1", "b = 2"])
        #expect(warnings.count == 1)
    }
}
