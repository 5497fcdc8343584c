import Foundation
import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("reloading changed table files")
    struct Reload {
        let start = Date(timeIntervalSince1970: 1_700_000_000)

        @Test(arguments: ["texthash", "hash", "cidr", "regexp", "pcre"])
        func reloadsAChangedFileOnceTheCheckIsDue(type: String) throws {
            let scratch = try TableScratch()
            let (before, after, key) = Self.versions(type)
            let path = try scratch.write("table", before, modified: start)
            let clock = ManualClock()
            let reports = TableReports()
            let table = try openTable("\(type):\(path)", reports.options(clock: clock))
            #expect(try table.lookup(key) == "old")

            try scratch.write("table", after, modified: start.addingTimeInterval(10))
            clock.advance(by: .milliseconds(900))
            #expect(try table.lookup(key) == "old", "checked before the interval passed")
            clock.advance(by: .milliseconds(100))
            #expect(try table.lookup(key) == "new")
            #expect(table.lastReloadError == nil)
            #expect(reports.reloadErrors.isEmpty)
        }

        static func versions(_ type: String) -> (String, String, String) {
            switch type {
            case "cidr": ("10.0.0.0/8 old\n", "10.0.0.0/8 new\n", "10.1.2.3")
            case "regexp", "pcre": ("/^k/ old\n", "/^k/ new\n", "key")
            default: ("key old\n", "key new\n", "key")
            }
        }

        @Test func noticesANewInodeWithSameSizeAndTime() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("access", "key old\n", modified: start)
            let clock = ManualClock()
            let table = try openTable("texthash:\(path)", TableOptions(now: clock.now))
            let replacement = try scratch.write("access.new", "key new\n", modified: start)
            _ = rename(replacement, path)
            clock.advance(by: .seconds(1))
            #expect(try table.lookup("key") == "new")
        }

        @Test func failedReloadKeepsTheOldContentsAndReportsOnce() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("checks", "/^a/ one\n", modified: start)
            let clock = ManualClock()
            let reports = TableReports()
            let table = try openTable("regexp:\(path)", reports.options(clock: clock))

            try scratch.write("checks", "/^a/ two\n/a(/ broken\n", modified: start.addingTimeInterval(5))
            clock.advance(by: .seconds(2))
            #expect(try table.lookup("a") == "one")
            let error = try #require(table.lastReloadError)
            #expect(error.code == .syntax)
            #expect(error.file == path)
            #expect(error.line == 2)
            #expect(reports.reloadErrors == [error])

            clock.advance(by: .seconds(2))
            #expect(try table.lookup("a") == "one")
            #expect(reports.reloadErrors.count == 1, "the same broken file is reported once")

            try scratch.write("checks", "/^a/ three\n", modified: start.addingTimeInterval(9))
            clock.advance(by: .seconds(2))
            #expect(try table.lookup("a") == "three")
            #expect(table.lastReloadError == nil)
        }

        @Test func removedFileKeepsTheOldContents() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("access", "key old\n", modified: start)
            let clock = ManualClock()
            let reports = TableReports()
            let table = try openTable("hash:\(path)", reports.options(clock: clock))
            try FileManager.default.removeItem(atPath: path)
            clock.advance(by: .seconds(1))
            #expect(try table.lookup("key") == "old")
            #expect(table.lastReloadError?.code == .io)
            #expect(table.lastReloadError?.description == "\(path): cannot stat: No such file or directory")
            #expect(reports.reloadErrors.count == 1)

            try scratch.write("access", "key back\n", modified: start.addingTimeInterval(30))
            clock.advance(by: .seconds(1))
            #expect(try table.lookup("key") == "back")
            #expect(table.lastReloadError == nil)
        }

        @Test func reloadWarningsAreReported() throws {
            let scratch = try TableScratch()
            let path = try scratch.write("access", "key old\n", modified: start)
            let clock = ManualClock()
            let reports = TableReports()
            let table = try openTable("texthash:\(path)", reports.options(clock: clock))
            #expect(reports.warnings.isEmpty)
            try scratch.write("access", "key new\nkey again\n", modified: start.addingTimeInterval(3))
            clock.advance(by: .seconds(1))
            #expect(try table.lookup("key") == "new")
            #expect(table.warnings.map(\.description) == ["\(path):2: duplicate entry: \"key\""])
            #expect(reports.warnings == table.warnings)
        }

        @Test func inlineTablesNeverTouchTheFileSystem() throws {
            let clock = ManualClock()
            let table = try openTable("regexp:{{/x/ y}}", TableOptions(now: clock.now))
            clock.advance(by: .seconds(60))
            #expect(try table.lookup("x") == "y")
            #expect(table.lastReloadError == nil)
        }

        @Test(arguments: ["regexp", "pcre", "cidr", "texthash"])
        func concurrentLookupsWhileTheFileChanges(type: String) async throws {
            let scratch = try TableScratch()
            let (before, after, key) = Self.versions(type)
            let path = try scratch.write("table", before, modified: start)
            let clock = ManualClock()
            let table = try openTable("\(type):\(path)", TableOptions(now: clock.now, checkInterval: .zero))
            let changed = start.addingTimeInterval(60)
            let answers = await withTaskGroup(of: [String?].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        (0..<300).map { round in
                            if worker == 0 && round == 100 {
                                try? Data(after.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                                try? FileManager.default.setAttributes([.modificationDate: changed], ofItemAtPath: path)
                            }
                            return try? table.lookup(key)
                        }
                    }
                }
                return await group.reduce(into: [String?]()) { $0 += $1 }
            }
            #expect(answers.count == 2400)
            #expect(answers.allSatisfy { $0 == "old" || $0 == "new" })
            #expect(try table.lookup(key) == "new")
        }
    }
}
