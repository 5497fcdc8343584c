import Foundation
import Testing

@testable import SealpostConfig
import SealpostTestSupport

@Suite struct MainConfEditorTests {
    let original = """
        # Sealpost main.cf — comments and spacing must survive edits.
        myhostname   =   mx.example.com

        smtpd_tls_exclude_ciphers = aNULL, MD5,
            3DES
        # between continuation lines
            RC4
        smtpd_tls_loglevel = 0\t# not a comment: part of the value
        relayhost =
        """ + "\n"

    func apply(_ edit: MainConfEditor.Edit, to text: String) -> (String, [String]) {
        let (bytes, warnings) = MainConfEditor.apply(edit, to: Array(text.utf8))
        return (String(decoding: bytes, as: UTF8.self), warnings)
    }

    @Test func setReplacesOneEntryAndLeavesEverythingElseByteIdentical() {
        let (edited, warnings) = apply(.set([("smtpd_tls_exclude_ciphers", "aNULL")]), to: original)
        #expect(warnings.isEmpty)
        #expect(edited == """
            # Sealpost main.cf — comments and spacing must survive edits.
            myhostname   =   mx.example.com

            smtpd_tls_exclude_ciphers = aNULL
            # between continuation lines
            smtpd_tls_loglevel = 0\t# not a comment: part of the value
            relayhost =
            """ + "\n")
    }

    @Test func setAppendsNewNamesSorted() {
        let (edited, _) = apply(.set([("tls_preempt_cipherlist", "yes"), ("smtp_tls_security_level", "may")]), to: original)
        #expect(edited == original + "smtp_tls_security_level = may\ntls_preempt_cipherlist = yes\n")
    }

    @Test func setAddsANewlineWhenTheFileLacksOne() {
        let (edited, _) = apply(.set([("b", "2")]), to: "a = 1")
        #expect(edited == "a = 1\nb = 2\n")
    }

    @Test func commentOutPrefixesEveryLineOfTheEntry() {
        let (edited, _) = apply(.commentOut(["smtpd_tls_exclude_ciphers"]), to: original)
        #expect(edited.contains("#smtpd_tls_exclude_ciphers = aNULL, MD5,\n#    3DES\n# between continuation lines\n#    RC4\n"))
        #expect(edited.contains("myhostname   =   mx.example.com\n"))
    }

    @Test func removeDropsTheEntry() {
        let (edited, _) = apply(.remove(["myhostname", "relayhost"]), to: original)
        #expect(!edited.contains("myhostname") && !edited.contains("relayhost"))
        #expect(edited.contains("# Sealpost main.cf"))
    }

    @Test func duplicateEntriesAreAllReplacedWithAWarning() {
        let (edited, warnings) = apply(.set([("a", "3")]), to: "a = 1\nb = 2\na = 2\n")
        #expect(edited == "a = 3\nb = 2\na = 3\n")
        #expect(warnings == ["multiple entries for \"a\""])
    }

    @Test func argumentsAreCheckedLikePostconf() {
        guard case .failure(let error) = MainConfEditor.parseAssignments(["novalue"]) else {
            Issue.record("accepted an argument without =")
            return
        }
        #expect(error.message == "missing '=' after attribute name: \"novalue\"")
        guard case .failure = MainConfEditor.parseAssignments(["# a = b"]) else {
            Issue.record("accepted a comment")
            return
        }
        guard case .failure = MainConfEditor.parseNames(["a=b"]) else {
            Issue.record("-# accepted a value")
            return
        }
    }

    @Test func editingAFileIsAtomicAndKeepsItsMode() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("main.cf", original)
        chmod(path, 0o640)
        try MainConfEditor.edit(fileAt: path, .set([("relayhost", "[smtp.example.net]:587")]))
        #expect(try directory.read("main.cf") == original.replacingOccurrences(of: "relayhost =\n", with: "relayhost = [smtp.example.net]:587\n"))
        var status = stat()
        stat(path, &status)
        #expect(status.st_mode & 0o777 == 0o640)
        #expect(access(path + ".sealpost-tmp", F_OK) != 0)
    }
}
