import Foundation
import Testing

@testable import SealpostTLS

@Suite("Resource use")
struct LeakTests {
    /// Resident set size in bytes, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Every load path once, good files and bad: whatever it allocates in OpenSSL must be freed again.
    static func cycle(_ files: Files) throws {
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: files.fullchain, keyFile: files.leafKey).isEmpty)
        #expect(try CertifiedKey.loadChainFiles([files.chainFile]).certifiedKeys.count == 1)
        #expect(try DHParameters.loadPEMFile(files.dh).details.primeBits == 2048)
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: files.fullchain, keyFile: files.encryptedKey)
            .errorCodes == [.encryptedPrivateKey])
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: files.reversed, keyFile: files.leafKey)
            .errorCodes.count == 2)
        #expect(CredentialInspector.inspectCAFile(files.garbage).errorCodes == [.invalidCertificate])
        let generated = try SelfSignedCertificate.generate(commonName: "leak.example", subjectAlternativeNames: ["leak.example", "192.0.2.1"])
        #expect(try Certificate.parsePEM(generated.certificatePEM).first?.details.subjectAlternativeNames.count == 2)
    }

    struct Files {
        let fullchain: String, leafKey: String, chainFile: String, dh: String
        let encryptedKey: String, reversed: String, garbage: String
    }

    /// Runs every load path many times and prints how the resident size moved. The figure is
    /// reported, not asserted: other suites run in parallel in this process and move the resident
    /// size by megabytes. `Benchmarks/tls-leak-check` measures it alone and under valgrind.
    @Test("2000 load and inspect cycles stay correct")
    func repeatedLoadsDoNotLeak() throws {
        let fixtures = try Fixtures()
        let hierarchy = try fixtures.hierarchy(leafKey: .rsa)
        try fixtures.openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem")
        try fixtures.openssl("pkey", "-in", "leaf.key", "-aes256", "-passout", "pass:x", "-out", "encrypted.key")
        let files = Files(
            fullchain: hierarchy.fullchain, leafKey: hierarchy.leafKey,
            chainFile: try fixtures.concatenate(["leaf.key", "leaf.pem", "intermediate.pem"], into: "chain.pem"),
            dh: fixtures.path("dh.pem"), encryptedKey: fixtures.path("encrypted.key"),
            reversed: try fixtures.concatenate(["intermediate.pem", "leaf.pem"], into: "reversed.pem"),
            garbage: try fixtures.write("garbage.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))

        // SEALPOST_LEAK_CYCLES shortens the loop for a run under valgrind.
        let cycles = ProcessInfo.processInfo.environment["SEALPOST_LEAK_CYCLES"].flatMap(Int.init) ?? 2000
        for _ in 0..<max(1, cycles / 10) { try Self.cycle(files) }
        // The resident size every quarter of the loop. Tests in other suites run in parallel at first and
        // move it, so the verdict rests on the second half, when they are long done.
        var checkpoints = [Self.residentBytes()]
        for _ in 1...4 {
            for _ in 0..<(cycles / 4) { try Self.cycle(files) }
            checkpoints.append(Self.residentBytes())
        }
        let total = checkpoints[4] - checkpoints[0]
        let secondHalf = checkpoints[4] - checkpoints[2]
        print("SealpostTLS leak check: RSS \(checkpoints.map { "\($0 / 1024)" }.joined(separator: " -> ")) KiB "
            + "over \(cycles) cycles (\(total / 1024) KiB in all, \(secondHalf / 1024) KiB in the second half, "
            + "\(secondHalf / max(1, cycles / 2)) bytes per cycle)")
    }
}
