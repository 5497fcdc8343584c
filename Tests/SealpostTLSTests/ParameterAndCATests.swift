import Foundation
import Testing

@testable import SealpostTLS

@Suite("DH parameters, CA file and CA path")
struct ParameterAndCATests {
    @Test("RFC 7919 ffdhe2048 parameters load as 2048 bits without findings")
    func ffdhe2048() throws {
        let fixtures = try Fixtures()
        try fixtures.openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem")
        let parameters = try DHParameters.loadPEMFile(fixtures.path("dh.pem"))
        #expect(parameters.details == DHParameterDetails(primeBits: 2048, isX942: false))
        #expect(CredentialInspector.inspectDHParameterFile(fixtures.path("dh.pem")).isEmpty)
    }

    @Test("X9.42 parameters load; a 1024-bit prime is a warning")
    func x942AndWeak() throws {
        let fixtures = try Fixtures()
        try fixtures.openssl("genpkey", "-genparam", "-algorithm", "DHX", "-pkeyopt", "dh_rfc5114:2", "-out", "dhx.pem")
        #expect(try fixtures.read("dhx.pem").hasPrefix("-----BEGIN X9.42 DH PARAMETERS-----"))
        #expect(try DHParameters.loadPEMFile(fixtures.path("dhx.pem")).details == DHParameterDetails(primeBits: 2048, isX942: true))

        try fixtures.openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "dh_rfc5114:1", "-out", "dh1024.pem")
        let findings = CredentialInspector.inspectDHParameterFile(fixtures.path("dh1024.pem"))
        #expect(findings.warningCodes == [.weakDHParameters])
        #expect(findings[0].message.contains("1024 bits") && findings[0].message.contains(fixtures.path("dh1024.pem")))
    }

    @Test("a file without DH parameters, a missing file and text are errors")
    func notDH() throws {
        let fixtures = try Fixtures()
        try fixtures.openssl("genpkey", "-genparam", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec-params.pem")
        let ecFindings = CredentialInspector.inspectDHParameterFile(fixtures.path("ec-params.pem"))
        #expect(ecFindings.errorCodes == [.notDHParameters])
        #expect(ecFindings[0].message.contains("EC PARAMETERS"))
        #expect(CredentialInspector.inspectDHParameterFile(fixtures.path("missing.dh")).errorCodes == [.fileMissing])
        let text = try fixtures.write("text.dh", "2048\n")
        #expect(CredentialInspector.inspectDHParameterFile(text).errorCodes == [.notPEM])
        let damaged = try fixtures.write("damaged.dh", "-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n")
        #expect(CredentialInspector.inspectDHParameterFile(damaged).errorCodes == [.notDHParameters])
    }

    @Test("a CA file needs at least one certificate")
    func caFile() throws {
        let fixtures = try Fixtures()
        let hierarchy = try fixtures.hierarchy()
        let bundle = try fixtures.concatenate(["root.pem", "intermediate.pem"], into: "bundle.pem")
        #expect(try CertificateAuthorities.loadCAFile(bundle).count == 2)
        #expect(CredentialInspector.inspectCAFile(bundle).isEmpty)
        #expect(CredentialInspector.inspectCAFile(hierarchy.rootKey).errorCodes == [.noCACertificates])
        let empty = try fixtures.write("empty.pem", "")
        let findings = CredentialInspector.inspectCAFile(empty)
        #expect(findings.errorCodes == [.noCACertificates])
        #expect(findings[0].message.contains(empty))
        #expect(CredentialInspector.inspectCAFile(fixtures.path("missing.pem")).errorCodes == [.fileMissing])
    }

    @Test("a CA path must be a directory; one without hash links draws a warning")
    func caPath() throws {
        let fixtures = try Fixtures()
        _ = try fixtures.hierarchy()
        let directory = fixtures.path("certs")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let empty = CredentialInspector.inspectCAPath(directory)
        #expect(empty.warningCodes == [.caPathWithoutHashLinks])
        #expect(empty[0].message.contains("openssl rehash \(directory)"))

        try FileManager.default.copyItem(atPath: fixtures.path("root.pem"), toPath: "\(directory)/root.pem")
        try fixtures.openssl("rehash", directory)
        #expect(try CertificateAuthorities.hashLinks(inCAPath: directory).count == 1)
        #expect(CredentialInspector.inspectCAPath(directory).isEmpty)

        #expect(CredentialInspector.inspectCAPath(fixtures.path("root.pem")).errorCodes == [.caPathNotDirectory])
        #expect(CredentialInspector.inspectCAPath(fixtures.path("nowhere")).errorCodes == [.fileMissing])
        #expect(CertificateAuthorities.isHashLinkName("3513523f.0"))
        #expect(CertificateAuthorities.isHashLinkName("3513523f.r12"))
        #expect(!CertificateAuthorities.isHashLinkName("root.pem"))
        #expect(!CertificateAuthorities.isHashLinkName("3513523g.0"))
    }
}
