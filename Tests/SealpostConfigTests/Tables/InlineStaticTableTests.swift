import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("inline and static tables")
    struct InlineAndStatic {
        @Test func inlineAnswersLikePostmap() throws {
            let reference = #"inline:{ a=b, { c = d e }, Upper=Case, {"q k"=quoted}, {x = y, z}, dup=1, dup=2, empty= }"#
            let keys = ["a", "A", "c", "upper", "UPPER", "\"q k\"", "x", "dup", "missing", "empty"]
            try Postmap.expectSameAnswers(keys, reference: reference)
            let table = try openTable(reference)
            #expect(try table.lookup("c") == "d e")
            #expect(try table.lookup("x") == "y, z")
            #expect(try table.lookup("dup") == "2")
            #expect(try table.lookup("empty") == "")
            #expect(!table.isPattern)
        }

        @Test(arguments: [
            ("inline:{a=b", "missing '}'"),
            ("inline:{a=b}}", "syntax error after '}'"),
            ("inline:a=b", "no '{' at start"),
            ("inline:{}", "empty table"),
            ("inline:{ }", "empty table"),
            ("inline:{ a }", "missing '=' after attribute name"),
            ("inline:{ {a=b} c}", "missing '=' after attribute name"),
            ("inline:{ {a=b}x }", "syntax error after '}'"),
            (#"inline:{ "a=b }"#, "unbalanced '\"'"),
        ])
        func inlineSyntaxErrors(reference: String, expected: String) throws {
            let error = try #require(openError(reference))
            #expect(error.code == .syntax)
            #expect(error.file == (try TableReference(parsing: reference)).description)
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.contains("expected inline:{name=value, ...}"))
        }

        @Test func staticValues() throws {
            #expect(try openTable("static:OK").lookup("anything") == "OK")
            #expect(try openTable("static:{ text  with spaces }").lookup("x") == "text  with spaces")
            #expect(try openTable("static:{}").lookup("x") == "")
            #expect(try openTable("static:{{nested}}").lookup("x") == "{nested}")
            try Postmap.expectSameAnswers(["x", "Y"], reference: "static:{ text  with spaces }")
            try Postmap.expectSameAnswers(["x"], reference: "static:OK")
        }

        @Test(arguments: ["static:{a} b", "static:{a", "static:{a}}"])
        func staticSyntaxErrors(reference: String) throws {
            let error = try #require(openError(reference))
            #expect(error.code == .syntax)
            #expect(error.description.hasPrefix("static:"))
            #expect(error.description.contains("bad static:name syntax"))
        }
    }
}
