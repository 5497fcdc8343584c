import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("texthash and hash-style text tables")
    struct KeyValue {
        static let source = """
            # comment
            a 1
            a 2
            B 3
            novalue
            "q x" 5
            k\\ y 6
            multi first
              second part
            user@Example.COM   OK with spaces   \t
            alias: target
            "open quote 7
            
            """

        @Test func answersLikePostmap() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("access", Self.source)
            let keys = ["a", "A", "b", "B", "\"q x\"", "k\\ y", "novalue", "multi", "user@example.com", "alias:", "x"]
            try Postmap.expectSameAnswers(keys, reference: "texthash:\(path)")
            let table = try openTable("texthash:\(path)")
            #expect(try table.lookup("a") == "1")
            #expect(try table.lookup("b") == "3")
            #expect(try table.lookup("MULTI") == "first  second part")
            #expect(try table.lookup("user@example.com") == "OK with spaces")
            #expect(try table.lookup("novalue") == nil)
            #expect(!table.isPattern)
        }

        @Test func warnsAsPostmapDoes() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("access", Self.source)
            let reports = TableReports()
            let table = try openTable("texthash:\(path)", reports.options())
            let warnings = table.warnings.map(\.description)
            #expect(warnings.contains("\(path):3: duplicate entry: \"a\""))
            #expect(warnings.contains("\(path):5: expected format: key whitespace value -- ignoring this line"))
            #expect(warnings.contains("\(path):11: record is in \"key: value\" format; is this an alias file?"))
            #expect(warnings.contains { $0.hasPrefix("\(path):12: unbalanced '\"'") })
            #expect(reports.warnings == table.warnings)
            #expect(table.lastReloadError == nil)
        }

        @Test(arguments: [TableReference.Kind.hash, .lmdb, .btree, .cdb])
        func indexedTypesReadTheTextSource(kind: TableReference.Kind) throws {
            let scratch = try TableScratch()
            let path = try scratch.write("virtual", "Info@Example.com  info-team\n")
            let table = try openTable("\(kind.rawValue):\(path)")
            #expect(try table.lookup("info@example.com") == "info-team")
            #expect(try table.lookup("INFO@EXAMPLE.COM") == "info-team")
            #expect(try table.lookup("other@example.com") == nil)
            #expect(table.reference.kind == kind)
        }

        @Test func missingFileIsAnErrorNamingTheFile() throws {
            let scratch = try TableScratch()
            let path = scratch.path("does-not-exist")
            let error = try #require(openError("hash:\(path)"))
            #expect(error.code == .io)
            #expect(error.file == path)
            #expect(error.description == "\(path): cannot open: No such file or directory")
        }

        @Test func directoryIsAnError() throws {
            let scratch = try TableScratch()
            let error = try #require(openError("texthash:\(scratch.directory.path)"))
            #expect(error.code == .io)
            #expect(error.description.contains("is a directory"))
        }

        @Test func emptyFileIsAnEmptyTable() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("empty", "# nothing\n\n")
            #expect(try openTable("texthash:\(path)").lookup("x") == nil)
        }

        static let unicodeSource = "Straße street\nÄB umlaut\nǅ digraph\nꭰ cherokee\nİstanbul dotted\nıx dotless\n"
        static let unicodeKeys = ["STRASSE", "strasse", "Straße", "äb", "ÄB", "ǆ", "Ǆ", "Ꭰ", "i̇stanbul", "İSTANBUL", "ıx", "IX", "ix"]

        @Test func foldsUnicodeKeysAsPostfixWithSMTPUTF8() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("unicode", Self.unicodeSource)
            try Postmap.expectSameAnswers(Self.unicodeKeys, reference: "texthash:\(path)")
            let table = try openTable("texthash:\(path)")
            #expect(try table.lookup("STRASSE") == "street")
            #expect(try table.lookup("ǆ") == "digraph")
            #expect(try table.lookup("IX") == nil)
        }

        @Test func foldsASCIIOnlyWithoutSMTPUTF8() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("unicode", Self.unicodeSource)
            try Postmap.expectSameAnswers(Self.unicodeKeys, reference: "texthash:\(path)", legacy: true)
            let table = try openTable("texthash:\(path)", TableOptions(unicodeKeyFolding: false))
            #expect(try table.lookup("STRASSE") == nil)
            #expect(try table.lookup("Straße") == "street")
            #expect(try table.lookup("ÄB") == "umlaut")
            #expect(try table.lookup("äb") == nil)
        }

        @Test func keysAreComparedByteForByte() throws {
            let decomposed = "j\u{030C}"
            let table = try openTable("inline:{ \(decomposed)=decomposed }")
            #expect(try table.lookup(decomposed) == "decomposed")
            #expect(try table.lookup("\u{01F0}") == "decomposed", "ǰ case-folds to j + caron")
            let precomposed = try openTable("inline:{ ĵ=precomposed }")
            #expect(try precomposed.lookup("j\u{0302}") == nil, "canonically equivalent but other bytes")
        }
    }
}
