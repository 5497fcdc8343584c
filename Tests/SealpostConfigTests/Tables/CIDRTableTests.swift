import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("cidr tables")
    struct CIDR {
        static let source = """
            # clients
            192.168.1.1         first exact
            192.168.1.0/24      lan
            [2001:db8::1]/128   v6 bracket prefix
            [2001:db8::2/128]   v6 inside brackets
            2001:db8::3/128     v6 plain
            2001:db8::/32       v6 net
            [192.0.2.7]         bracketed v4
            if 172.16.0.0/12
            172.16.5.0/24       inside block
            if !172.16.5.0/24
            172.16.0.0/16       outer unless inner
            endif
            endif
            !10.0.0.0/8         not ten
            0.0.0.0/0           anything v4
            ::/0                anything v6
            """

        static let keys = [
            "192.168.1.1", "192.168.1.77", "10.1.2.3", "11.0.0.1", "2001:db8::1", "2001:db8::2", "2001:db8::3",
            "2001:db8::99", "2001:dead::1", "192.0.2.7", "172.16.5.9", "172.16.6.1", "172.17.0.1", "::1",
            "[192.168.1.1]", "example.com", "192.168.1.01", "::ffff:192.168.1.1", "",
        ]

        @Test func answersLikePostmap() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("clients", Self.source)
            try Postmap.expectSameAnswers(Self.keys.filter { !$0.isEmpty }, reference: "cidr:\(path)")
            let table = try openTable("cidr:\(path)")
            #expect(table.isPattern)
            #expect(try table.lookup("192.168.1.1") == "first exact")
            #expect(try table.lookup("192.168.1.77") == "lan")
            #expect(try table.lookup("11.0.0.1") == "not ten")
            #expect(try table.lookup("10.1.2.3") == "anything v4")
            #expect(try table.lookup("2001:db8::2") == "v6 inside brackets")
            #expect(try table.lookup("172.16.5.9") == "inside block")
            #expect(try table.lookup("172.16.6.1") == "outer unless inner")
            #expect(try table.lookup("example.com") == nil)
            #expect(try table.lookup("[192.168.1.1]") == nil)
        }

        @Test func inlineFormAnswersLikePostmap() throws {
            let reference = "cidr:{ {192.168.0.0/16 local net}, {!127.0.0.1 not loopback} }"
            try Postmap.expectSameAnswers(["192.168.3.4", "127.0.0.1", "8.8.8.8", "::1"], reference: reference)
            #expect(try openTable(reference).lookup("192.168.3.4") == "local net")
        }

        @Test(arguments: [
            ("1.2.3.4/16 x", 1, "non-null host address bits in \"1.2.3.4/16\", perhaps you should use \"1.2.0.0/16\" instead"),
            ("1.2.3.0/33 x", 1, "bad mask length in \"1.2.3.0/33\""),
            ("::/129 x", 1, "bad mask length in \"::/129\""),
            ("1.2.3.0/ x", 1, "bad mask value in \"1.2.3.0/\""),
            ("1.2.3.0/2x x", 1, "bad mask value in \"1.2.3.0/2x\""),
            ("1.2.3.0/99999999999999999999999 x", 1, "bad mask length"),
            ("1.2.3/24 x", 1, "bad network value in \"1.2.3/24\""),
            ("example.com x", 1, "bad address pattern: \"example.com\""),
            ("[::1 x", 1, "missing ']' character after \"[::1\""),
            ("[::1]x y", 1, "garbage after \"[::1]\""),
            ("1.2.3.4", 1, "no lookup result"),
            ("# c\n\n1.2.3.4 ok\n2001:db8::1/64 x", 4, "non-null host address bits"),
            ("endif", 1, "ENDIF without IF"),
            ("if 1.2.3.0/24\nendif junk", 2, "garbage after ENDIF"),
            ("if\n", 1, "no address pattern"),
            ("if 1.2.3.0/24\n1.2.3.4 x", 1, "IF has no matching ENDIF"),
            ("if bogus\nendif", 1, "bad address pattern"),
            ("1.2.3.4 multi\n  line\n5.6.7.8/1 x", 3, "non-null host address bits"),
        ])
        func badRulesAreErrorsNamingFileAndLine(text: String, line: Int, expected: String) throws {
            let scratch = try TableScratch()
            let path = try scratch.write("bad.cidr", text)
            let error = try #require(openError("cidr:\(path)"))
            #expect(error.code == .syntax)
            #expect(error.file == path)
            #expect(error.line == line)
            #expect(error.description.hasPrefix("\(path):\(line): "), "\(error)")
            #expect(error.description.contains(expected), "\(error)")
            try Postmap.expectComplaint(about: "cidr:\(path)", line: line)
        }

        @Test func inlineErrorsNameTheInlineText() throws {
            let error = try #require(openError("cidr:{ {1.2.3.4/8 x} }"))
            #expect(error.description.hasPrefix("cidr:{ {1.2.3.4/8 x} }:1: non-null host address bits"))
            let braces = try #require(openError("cidr:{ 1.2.3.4 x }"))
            #expect(braces.description.contains("no '{' at start of text"))
            let unbalanced = try #require(openError("cidr:{ {1.2.3.4 x }"))
            #expect(unbalanced.description.contains("missing '}'"))
        }

        @Test func nestedIfBlocksSkipWhenTheOuterBlockDoesNotMatch() throws {
            let table = try openTable("cidr:{{if 10.0.0.0/8}, {if 10.1.0.0/16}, {10.1.2.0/24 deep}, {endif}, {10.0.0.0/8 ten}, {endif}, {0.0.0.0/0 rest}}")
            #expect(try table.lookup("10.1.2.3") == "deep")
            #expect(try table.lookup("10.2.0.1") == "ten")
            #expect(try table.lookup("11.0.0.1") == "rest")
        }
    }
}
