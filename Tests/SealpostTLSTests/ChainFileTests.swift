import Foundation
import Testing

@testable import SealpostTLS

/// `smtpd_tls_chain_files`, read the way Postfix's `tls_certkey.c` reads them.
@Suite("Chain files")
struct ChainFileTests {
    @Test("RSA and ECDSA chains in one file or in several load as (key, chain) pairs")
    func twoAlgorithms() throws {
        let fixtures = try Fixtures()
        _ = try fixtures.hierarchy(leafKey: .rsa, leafName: "rsa")
        try fixtures.ecKey("ec.key")
        try fixtures.openssl("req", "-new", "-key", "ec.key", "-subj", "/CN=mail.example.com", "-out", "ec.csr")
        try fixtures.openssl(
            "x509", "-req", "-in", "ec.csr", "-CA", "intermediate.pem", "-CAkey", "intermediate.key", "-set_serial", "7",
            "-days", "100", "-extfile", "ca.ext", "-extensions", "leaf", "-out", "ec.pem")

        let rsaChain = try fixtures.concatenate(["rsa.key", "rsa.pem", "intermediate.pem"], into: "rsa-chain.pem")
        let ecChain = try fixtures.concatenate(["ec.key", "ec.pem", "intermediate.pem"], into: "ec-chain.pem")
        let contents = try CertifiedKey.loadChainFiles([rsaChain, ecChain])
        #expect(contents.certifiedKeys.count == 2)
        #expect(contents.certifiedKeys.map(\.leaf.details.publicKey.algorithm) == [.rsa, .ec(curve: "prime256v1")])
        #expect(contents.certifiedKeys.allSatisfy { $0.chain.count == 2 && $0.privateKey.matches($0.leaf) })
        #expect(contents.keyFiles == [rsaChain, ecChain])
        #expect(contents.warnings.isEmpty)
        #expect(CredentialInspector.inspectChainFiles([rsaChain, ecChain]).isEmpty)

        let oneFile = try fixtures.concatenate(["rsa-chain.pem", "ec-chain.pem"], into: "all.pem")
        let single = try CertifiedKey.loadChainFiles([oneFile])
        #expect(single.certifiedKeys.map(\.keyObjectNumber) == [1, 4])
        #expect(single.certifiedKeys.map(\.chain.count) == [2, 2])

        // As in Postfix, the files are one stream: a chain may continue into the next file.
        let keyOnly = try fixtures.concatenate(["ec.key"], into: "part1.pem")
        let certsOnly = try fixtures.concatenate(["ec.pem", "intermediate.pem"], into: "part2.pem")
        let split = try CertifiedKey.loadChainFiles([keyOnly, certsOnly])
        #expect(split.certifiedKeys.count == 1)
        #expect(split.certifiedKeys[0].keyFile == keyOnly && split.certifiedKeys[0].certificateFile == certsOnly)
    }

    @Test("a certificate before any key is an error: the key must come first")
    func keyNotFirst() throws {
        let fixtures = try Fixtures()
        _ = try fixtures.hierarchy()
        let file = try fixtures.concatenate(["leaf.pem", "leaf.key", "intermediate.pem"], into: "cert-first.pem")
        let error = credentialError { try CertifiedKey.loadChainFiles([file]) }
        #expect(error?.code == .chainKeyNotFirst)
        #expect(error?.reason.contains(file) == true)
        #expect(CredentialInspector.inspectChainFiles([file]).errorCodes == [.chainKeyNotFirst])
    }

    @Test("a key without a certificate, back to back or at the end, is an error")
    func keyWithoutCertificate() throws {
        let fixtures = try Fixtures()
        _ = try fixtures.hierarchy()
        let backToBack = try fixtures.concatenate(["leaf.key", "root.key", "leaf.pem"], into: "two-keys.pem")
        let first = credentialError { try CertifiedKey.loadChainFiles([backToBack]) }
        #expect(first?.code == .keyWithoutCertificate)
        #expect(first?.reason.contains("PEM object number 1") == true)

        let atEnd = try fixtures.concatenate(["leaf.key", "leaf.pem", "root.key"], into: "trailing-key.pem")
        let second = credentialError { try CertifiedKey.loadChainFiles([atEnd]) }
        #expect(second?.code == .keyWithoutCertificate)
        #expect(second?.reason.contains("PEM object number 3") == true)
    }

    @Test("a key followed by someone else's certificate is a mismatch naming the key's position")
    func mismatch() throws {
        let fixtures = try Fixtures()
        _ = try fixtures.hierarchy()
        let file = try fixtures.concatenate(["root.key", "leaf.pem"], into: "mismatch.pem")
        let error = credentialError { try CertifiedKey.loadChainFiles([file]) }
        #expect(error?.code == .keyMismatch)
        #expect(error?.reason.contains("\(file): private key (PEM object number 1") == true)
    }

    @Test("two chains for the same algorithm are refused, as OpenSSL keeps one per algorithm")
    func duplicateAlgorithm() throws {
        let fixtures = try Fixtures()
        _ = try fixtures.hierarchy()
        try fixtures.ecKey("other.key")
        try fixtures.selfSigned("other.pem", key: "other.key")
        let first = try fixtures.concatenate(["leaf.key", "leaf.pem"], into: "first.pem")
        let second = try fixtures.concatenate(["other.key", "other.pem"], into: "second.pem")
        let error = credentialError { try CertifiedKey.loadChainFiles([first, second]) }
        #expect(error?.code == .duplicateAlgorithm)
        #expect(error?.reason.contains(second) == true && error?.reason.contains(first) == true)
    }

    @Test("other PEM objects are skipped with a warning; encrypted keys and empty input are errors")
    func otherObjects() throws {
        let fixtures = try Fixtures()
        _ = try fixtures.hierarchy()
        try fixtures.openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem")
        let file = try fixtures.concatenate(["leaf.key", "leaf.pem", "dh.pem", "intermediate.pem"], into: "with-dh.pem")
        let contents = try CertifiedKey.loadChainFiles([file])
        #expect(contents.certifiedKeys.first?.chain.count == 2)
        #expect(contents.warnings.codes == [.ignoredPEMObject])
        #expect(contents.warnings[0].message.contains("PEM object number 3 of type \"DH PARAMETERS\""))
        #expect(CredentialInspector.inspectChainFiles([file]).warningCodes == [.ignoredPEMObject])

        try fixtures.openssl(
            "pkey", "-in", "leaf.key", "-aes256", "-passout", "pass:x", "-out", "leaf-encrypted.key")
        let encrypted = try fixtures.concatenate(["leaf-encrypted.key", "leaf.pem"], into: "encrypted-chain.pem")
        #expect(credentialError { try CertifiedKey.loadChainFiles([encrypted]) }?.code == .encryptedPrivateKey)

        let empty = try fixtures.write("empty.pem", "")
        #expect(credentialError { try CertifiedKey.loadChainFiles([empty]) }?.code == .notPEM)
        #expect(credentialError { try CertifiedKey.loadChainFiles([fixtures.path("missing.pem")]) }?.code == .fileMissing)
        #expect(credentialError { try CertifiedKey.loadChainFiles([]) }?.code == .invalidArgument)
    }

    @Test("inspection adds chain order, validity and key file mode checks per chain")
    func inspection() throws {
        let fixtures = try Fixtures()
        _ = try fixtures.hierarchy()
        let reversed = try fixtures.concatenate(["leaf.key", "leaf.pem", "root.pem", "intermediate.pem"], into: "bad-order.pem")
        chmod(reversed, 0o644)
        let findings = CredentialInspector.inspectChainFiles([reversed])
        // The leaf is not issued by the root, and the root not by the intermediate: two positions, two errors.
        #expect(findings.errorCodes == [.chainOrder, .chainOrder])
        #expect(findings[1].message.contains("certificate 1 (CN=mail.example.com) is not issued by certificate 2 (CN=Sealpost Test Root)"))
        #expect(findings[2].message.contains("certificate 2 (CN=Sealpost Test Root) is not issued by certificate 3"))
        #expect(findings[2].message.contains("the other way round"))
        #expect(findings.warningCodes == [.keyFilePermissions])
    }
}
