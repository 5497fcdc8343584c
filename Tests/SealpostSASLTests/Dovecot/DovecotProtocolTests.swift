import Testing
@testable import SealpostSASL

@Suite struct DovecotProtocolTests {
    func lines(_ text: String) -> [[UInt8]] {
        text.split(separator: "\n").map { Array($0.utf8) }
    }

    @Test func handshakeOfDovecot2_3() {
        var parser = DovecotHandshakeParser()
        let handshake = "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nMECH\tANONYMOUS\tanonymous\n"
            + "MECH\tSCRAM-SHA-256\tmutual-auth\tdictionary\nMECH\tX-PRIVATE\tprivate\nSPID\t19471\nCUID\t1\nCOOKIE\t637ac0aa\nDONE"
        var outcome = DovecotHandshakeParser.Outcome.needMoreLines
        for line in lines(handshake) { outcome = parser.receive(line) }
        #expect(outcome == .done([
            SASLMechanismDescription(name: .plain, properties: .plaintext),
            SASLMechanismDescription(name: .login, properties: .plaintext),
            SASLMechanismDescription(name: SASLMechanismName("ANONYMOUS")!, properties: .anonymous),
            SASLMechanismDescription(name: SASLMechanismName("SCRAM-SHA-256")!, properties: [.mutualAuthentication, .dictionary]),
        ]))
    }

    @Test func wrongVersionAndWrongSocket() {
        var version = DovecotHandshakeParser()
        #expect(version.receive(Array("VERSION\t2\t0".utf8)) == .failed("SASL: Protocol version mismatch (2 vs. 1)"))
        var garbage = DovecotHandshakeParser()
        #expect(garbage.receive(Array("VERSION\tx".utf8)) == .failed("SASL: Protocol version error"))
        // auth-master and auth-userdb send VERSION and SPID, and no MECH.
        var master = DovecotHandshakeParser()
        #expect(master.receive(Array("VERSION\t1\t2".utf8)) == .needMoreLines)
        #expect(master.receive(Array("SPID\t42".utf8)) == .failed("SASL: Connected to wrong auth socket (auth-master instead of auth-client)"))
        var unknown = DovecotHandshakeParser()
        #expect(unknown.receive(Array("FUTURE\tthing".utf8)) == .needMoreLines)
        #expect(unknown.receive(Array("DONE".utf8)) == .done([]))
    }

    @Test func replies() {
        #expect(DovecotServerReply.parse(Array("OK\t1\tuser=alice".utf8))?.step == .success(username: "alice"))
        #expect(DovecotServerReply.parse(Array("OK\t13\tuser=alice\toriginal_user=ALICE".utf8))?.id == 13)
        #expect(DovecotServerReply.parse(Array("OK\t1".utf8))?.step == .failure(reason: "Authentication backend error", username: nil))
        #expect(DovecotServerReply.parse(Array("CONT\t8\tVXNlcm5hbWU6".utf8))?.step == .challenge(Array("Username:".utf8)))
        #expect(DovecotServerReply.parse(Array("CONT\t6\t".utf8))?.step == .challenge([]))
        #expect(DovecotServerReply.parse(Array("CONT\t6".utf8))?.step == .failure(reason: "Authentication backend error", username: nil))
        #expect(DovecotServerReply.parse(Array("FAIL\t2\tuser=alice".utf8))?.step == .failure(reason: nil, username: "alice"))
        #expect(DovecotServerReply.parse(Array("FAIL\t5".utf8))?.step == .failure(reason: nil, username: nil))
        #expect(DovecotServerReply.parse(Array("FAIL\t10\tcode=invalid_base64\treason=Invalid base64 data in initial response".utf8))?.step
            == .failure(reason: "Invalid base64 data in initial response", username: nil))
        #expect(DovecotServerReply.parse(Array("FAIL\t3\tuser=bob\ttemp".utf8))?.step
            == .temporaryFailure(reason: "(reason unavailable)"))
        #expect(DovecotServerReply.parse(Array("FAIL\t3\tcode=temp_fail\treason=LDAP down".utf8))?.step
            == .temporaryFailure(reason: "LDAP down"))
        #expect(DovecotServerReply.parse(Array("SPID\t1".utf8)) == nil)
        #expect(DovecotServerReply.parse(Array("OK\tnot-a-number".utf8)) == nil)
    }

    @Test func escapedAndHostileValuesArePrintable() {
        // \001 escapes decode, then control characters become "?" before they reach a reply.
        let reply = DovecotServerReply.parse(Array("FAIL\t16\tuser=al\u{1}1ce\treason=bad\u{1}r\u{1}n250 ok".utf8))
        #expect(reply?.step == .failure(reason: "bad??250 ok", username: "al?ce"))
        #expect(DovecotTabEscaping.escape("a\tb\nc\u{1}") == "a\u{1}tb\u{1}nc\u{1}1")
        #expect(DovecotTabEscaping.unescape(Array("a\u{1}tb\u{1}0".utf8)) == Array("a\tb\0".utf8))
    }

    @Test func requestLines() {
        let session = SASLSessionInfo(clientAddress: "192.0.2.1", clientPort: 50000, serverAddress: "192.0.2.25", serverPort: 587, isEncrypted: true)
        #expect(DovecotRequest.auth(id: 7, mechanism: .plain, service: "smtp", session: session, initialResponse: Array("\0a\0b".utf8))
            == "AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=192.0.2.25\trip=192.0.2.1\tlport=587\trport=50000\tsecured\tresp=AGEAYg==\n")
        let plain = SASLSessionInfo(clientAddress: "", serverAddress: "", isEncrypted: false)
        #expect(DovecotRequest.auth(id: 1, mechanism: .login, service: "smtp", session: plain, initialResponse: nil)
            == "AUTH\t1\tLOGIN\tservice=smtp\tnologin\tlip=\trip=\n")
        // An empty initial response is "resp==": Dovecot reads a bare "resp=" as none at all.
        #expect(DovecotRequest.auth(id: 1, mechanism: .plain, service: "smtp", session: plain, initialResponse: [])
            .hasSuffix("\tresp==\n"))
        #expect(DovecotRequest.cont(id: 9, response: Array("pw".utf8)) == "CONT\t9\tcHc=\n")
        #expect(DovecotRequest.cont(id: 9, response: []) == "CONT\t9\t\n")
        #expect(DovecotRequest.handshake(processID: 4242) == "VERSION\t1\t0\nCPID\t4242\n")
    }
}
