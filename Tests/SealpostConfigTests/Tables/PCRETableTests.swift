import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("pcre tables")
    struct PCRE {
        static let source = #"""
            # Perl-compatible regular expressions
            /^(\w+)\+(\w+)@example\.com$/   ext $1 ${2}
            /^CASE@/i                        case sensitive
            /b.c/A                           anchored bc
            /<(.+)>/U                        ungreedy $1
            / a \s b \s c # comment
              /x                             extended abc
            /(?<first>z)(z)/                 named $1 $2
            /^\d{3}$/                        three digits
            if /^n/
            /^no$/                           no
            if !/^nope/
            /^n/                             n but not nope
            endif
            endif
            !/^[a-z]/                        not lowercase start
            /^q(x)?$/                        q[$1]
            """#

        static let keys = [
            "joe+tag@example.com", "CASE@x", "case@x", "bxc", "abxc", "<a><b>", "a b c", "zz", "123", "1234",
            "no", "nope", "nah", "Q", "q", "qx", "lower",
        ]

        @Test func answersLikePostmap() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("checks.pcre", Self.source)
            try Postmap.expectSameAnswers(Self.keys, reference: "pcre:\(path)")
            let table = try openTable("pcre:\(path)")
            #expect(table.isPattern)
            #expect(try table.lookup("joe+tag@example.com") == "ext joe tag")
            #expect(try table.lookup("case@x") == nil)
            #expect(try table.lookup("CASE@x") == "case sensitive")
            #expect(try table.lookup("<a><b>") == "ungreedy a")
            #expect(try table.lookup("bxc") == "anchored bc")
            #expect(try table.lookup("abxc") == nil)
            #expect(try table.lookup("zz") == "named z z")
            #expect(try table.lookup("nah") == "n but not nope")
            #expect(try table.lookup("q") == "q[]")
        }

        @Test func inlineFormAnswersLikePostmap() throws {
            let reference = #"pcre:{ {/^(\d+)\.(\d+)$/ v$2.$1}, {/x/ has x} }"#
            try Postmap.expectSameAnswers(["1.2", "xx", "1.x"], reference: reference)
            #expect(try openTable(reference).lookup("10.20") == "v20.10")
        }

        @Test func dotallAndDollarFlags() throws {
            let table = try openTable("pcre:{ {/^a.b$/ dotall on}, {/^c$/E end only}, {/^d$/ dollar} }")
            #expect(try table.lookup("a\nb") == "dotall on")
            let noDotall = try openTable("pcre:{ {/^a.b$/s dotall off} }")
            #expect(try noDotall.lookup("a\nb") == nil)
            #expect(try table.lookup("c\n") == nil)
            #expect(try table.lookup("d\n") == "dollar")
            let multiline = try openTable("pcre:{ {/^two$/m second line} }")
            #expect(try multiline.lookup("one\ntwo") == "second line")
        }

        @Test func obsoleteXFlagIsAWarning() throws {
            let reports = TableReports()
            let table = try openTable("pcre:{ {/a/X ok} }", reports.options())
            #expect(try table.lookup("A") == "ok")
            #expect(table.warnings.map(\.message) == ["ignoring obsolete regexp option \"X\""])
            #expect(reports.warnings.count == 1)
        }

        @Test(arguments: [
            ("/a(/ x", 1, "error in regex at offset"),
            ("/a/!/b/ x", 1, "unknown regexp option \"!\""),
            ("/a/q x", 1, "unknown regexp option \"q\""),
            ("/(a)/ $2", 1, "out of range replacement index \"2\""),
            ("!/(a)/ $1", 1, "$number found in negative match"),
            ("if /a/\n/a/ b", 1, "IF has no matching ENDIF"),
            ("endif", 1, "ENDIF without matching IF"),
            ("# x\n\nwhat is this", 3, "unrecognized request"),
            ("/abc", 1, "no closing regexp delimiter"),
        ])
        func badRulesAreErrorsNamingFileAndLine(text: String, line: Int, expected: String) throws {
            let scratch = try TableScratch()
            let path = try scratch.write("bad.pcre", text)
            let error = try #require(openError("pcre:\(path)"))
            #expect(error.code == .syntax)
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("\(path):\(line): "), "\(error)")
            #expect(error.description.contains(expected), "\(error)")
            try Postmap.expectComplaint(about: "pcre:\(path)", line: line)
        }

        @Test func catastrophicBacktrackingIsANonMatchWithAWarning() throws {
            let reports = TableReports()
            let table = try openTable(#"pcre:{ {/^(a+)+$/ slow}, {/a/ fallback} }"#, reports.options())
            let key = String(repeating: "a", count: 40) + "!"
            #expect(try table.lookup(key) == "fallback")
            #expect(reports.warnings.contains { $0.line == 1 })
        }
    }
}
