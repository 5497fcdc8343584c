import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("unix tables")
    struct UnixTables {
        @Test func passwdAnswersLikePostmap() throws {
            try Postmap.expectSameAnswers(["root", "ROOT", "nobody", "no-such-user-xyz"], reference: "unix:passwd.byname")
            let table = try openTable("proxy:unix:passwd.byname")
            #expect(try table.lookup("root")?.hasPrefix("root:") == true)
            #expect(try table.lookup("Root")?.hasPrefix("root:") == true)
            #expect(try table.lookup("no-such-user-xyz") == nil)
            #expect(!table.isPattern)
        }

        @Test func groupAnswersLikePostmap() throws {
            try Postmap.expectSameAnswers(["root", "mail", "no-such-group-xyz"], reference: "unix:group.byname")
            #expect(try openTable("unix:group.byname").lookup("root")?.hasPrefix("root:x:0:") == true)
        }

        @Test func otherUnixMapsAreErrors() throws {
            let error = try #require(openError("unix:shadow.byname"))
            #expect(error.description == "unix:shadow.byname: unknown table unix:shadow.byname; expected unix:passwd.byname or unix:group.byname")
        }
    }
}
