import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("regexp tables")
    struct Regexp {
        static let source = #"""
            # POSIX extended regular expressions
            /^postmaster@/                  OK
            /^([^+@]+)\+([^@]+)@example\.com$/   ext $1 plus ${2}x and $(1)
            /^user@EXAMPLE\.com$/i          case sensitive hit
            /^([a-z]+)@(sub)?example\.org$/ user=$1 sub=[$2] $$literal
            /\.org$/!/^spam/                org but not spam
            if /@example\.net$/
            /^a/                            net a
            if !/^ab/
            /^a/                            never for ab
            endif
            /^b/                            net b
            endif
            /^multi/
              continued  result
            /(x)|(y)/                       x=$1 y=$2 end
            /^dollar/                       cost $$5 and $${1}
            /[[:digit:]]{3}/                three digits
            /^basic+$/x                     basic regular expression
            |^pipe/delimited$|              other delimiter
            !/^[a-z]/                       does not start with a letter
            """#

        static let keys = [
            "postmaster@x", "Postmaster@X", "joe+tag@example.com", "user@EXAMPLE.com", "user@example.com",
            "joe@example.org", "joe@subexample.org", "spam@x.org", "ham@x.org", "a@example.net",
            "ab@example.net", "b@example.net", "multiline", "y", "x", "xy", "dollar", "abc123", "basic+",
            "basic", "pipe/delimited", "nomatch", "123", "Upper",
        ]

        @Test func answersLikePostmap() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("checks.regexp", Self.source)
            try Postmap.expectSameAnswers(Self.keys, reference: "regexp:\(path)")
            let table = try openTable("regexp:\(path)")
            #expect(table.isPattern)
            #expect(try table.lookup("joe+tag@example.com") == "ext joe plus tagx and joe")
            #expect(try table.lookup("joe@example.org") == "user=joe sub=[] $literal")
            #expect(try table.lookup("joe@subexample.org") == "user=joe sub=[sub] $literal")
            #expect(try table.lookup("user@example.com") == "x=x y= end")
            #expect(try table.lookup("user@EXAMPLE.com") == "case sensitive hit")
            #expect(try table.lookup("ab@example.net") == "net a")
            #expect(try table.lookup("multiline") == "continued  result")
            #expect(try table.lookup("y") == "x= y=y end")
            #expect(try table.lookup("dollar") == "cost $5 and ${1}")
            #expect(try table.lookup("basic+") == "basic regular expression")
            #expect(try table.lookup("123") == "three digits")
        }

        @Test func inlineFormAnswersLikePostmap() throws {
            let reference = "regexp:{ {/^a(.)/ got $1}, {/c/ d}, {!/z/ no z} }"
            try Postmap.expectSameAnswers(["ab", "xc", "zz", "q"], reference: reference)
            let table = try openTable(reference)
            #expect(try table.lookup("ab") == "got b")
            #expect(try table.lookup("zz") == nil)
        }

        @Test func nestedIfBlocks() throws {
            let table = try openTable(
                "regexp:{ {if /^a/}, {if /b$/}, {/./ a-b}, {endif}, {/./ a}, {endif}, {/./ other} }")
            #expect(try table.lookup("axb") == "a-b")
            #expect(try table.lookup("axc") == "a")
            #expect(try table.lookup("bxb") == "other")
        }

        @Test func multilineFlagChangesAnchors() throws {
            let table = try openTable("regexp:{ {/^two$/m multi}, {/^one/ start} }")
            #expect(try table.lookup("one\ntwo") == "multi")
            let plain = try openTable("regexp:{ {/^two$/ multi}, {/^one/ start} }")
            #expect(try plain.lookup("one\ntwo") == "start")
        }

        @Test(arguments: [
            ("/a(/ x", 1, "Unmatched ( or \\("),
            ("# c\n/abc x", 2, "no closing regexp delimiter \"/\""),
            ("/a/q x", 1, "unknown regexp option \"q\""),
            ("/a/ $1", 1, "out of range replacement index \"1\""),
            ("/(a)/ $1x", 1, "non-numeric replacement index \"1x\""),
            ("/(a)/ $0", 1, "out-of-range replacement index \"0\""),
            ("/(a)/ ${1", 1, "truncated macro reference"),
            ("/(a)/ a$", 1, "empty macro name"),
            ("!/(a)/ $1", 1, "$number found in negative match replacement text"),
            ("/a/ ok\nendif", 2, "ENDIF without matching IF"),
            ("if /a/\n/b/ c", 1, "IF has no matching ENDIF"),
            ("if /a/\nif /b/\nendif", 1, "IF has no matching ENDIF"),
            ("foo bar", 1, "unrecognized request"),
            ("!", 1, "no regexp"),
            ("/a/!/b(/ x", 1, "Unmatched ( or \\("),
            ("if /a(/\nendif", 1, "Unmatched ( or \\("),
            ("/ok/ fine\n/one/ two\n  continued\n/x[/ y", 4, "Invalid regular expression"),
        ])
        func badRulesAreErrorsNamingFileAndLine(text: String, line: Int, expected: String) throws {
            let scratch = try TableScratch()
            let path = try scratch.write("bad.regexp", text)
            let error = try #require(openError("regexp:\(path)"))
            #expect(error.code == .syntax)
            #expect(error.file == path)
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("\(path):\(line): "), "\(error)")
            #expect(error.description.lowercased().contains(expected.lowercased()), "\(error)")
            try Postmap.expectComplaint(about: "regexp:\(path)", line: line)
        }

        @Test func inlineErrorsNameTheInlineText() throws {
            let error = try #require(openError("regexp:{ {/ok/ a}, {/a(/ b} }"))
            #expect(error.description.hasPrefix("regexp:{ {/ok/ a}, {/a(/ b} }:2: "), "\(error)")
            let notBraced = try #require(openError("regexp:{/a/ x}"))
            #expect(notBraced.description.contains("no '{' at start of text in \"/a/\""), "\(notBraced)")
        }

        @Test func toleratedProblemsAreWarnings() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("warn.regexp", "/a/\nif /b/ extra\nendif junk\n")
            let reports = TableReports()
            let table = try openTable("regexp:\(path)", reports.options())
            let warnings = table.warnings.map(\.description)
            #expect(warnings.contains("\(path):1: no replacement text: using empty string"))
            #expect(warnings.contains { $0.hasPrefix("\(path):2: ignoring extra text after IF statement") })
            #expect(warnings.contains("\(path):3: ignoring extra text after ENDIF"))
            #expect(reports.warnings.count == 3)
            #expect(try table.lookup("a") == "")
            #expect(throws: TableError.self) { try TableList([table]).lookup("a") }
        }

        @Test func keysAreNotCaseFolded() throws {
            let table = try openTable("regexp:{ {/^abc$/i exact}, {/^abc$/ folded} }")
            #expect(try table.lookup("ABC") == "folded")
            #expect(try table.lookup("abc") == "exact")
        }
    }
}
