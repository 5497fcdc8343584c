import Foundation
import SealpostTestSupport
import Testing

/// `sealpost finger` and Postfix's posttls-finger against the same throwaway Postfix: the TLS lines they print —
/// verification failure, certificate names and fingerprints, session reuse, the summary — must be the same.
@Suite("sealpost finger beside posttls-finger", .serialized)
struct FingerPostfixComparisonTests {
    /// The lines both tools must agree on, in order.
    private static func tlsLines(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { line in
            ["TLS connection established", "verification failed", "subject_CN=", "Reusing old session", "Reconnecting after"]
                .contains { line.contains($0) }
        }
    }

    /// Runs both tools with the same arguments (the destination's port filled in by `arguments`).
    private static func compare(_ arguments: (ReferencePostfix) -> [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        guard let finger = PeerProgram.require("posttls-finger", package: "postfix", sourceLocation: sourceLocation),
              let postfix = try ReferencePostfix.start(sourceLocation: sourceLocation)
        else { return [] }
        defer { postfix.stop() }
        let reference = try PeerProgram.run(finger, arguments(postfix), environment: ["MAIL_CONFIG": postfix.configDirectory])
        let ours = try SealpostBinary.run(["finger"] + arguments(postfix), environment: ["SEALPOST_CONFIG_DIR": "/nonexistent"])
        let expected = tlsLines(reference.output)
        #expect(!expected.isEmpty, "posttls-finger printed no TLS lines: \(reference.output)", sourceLocation: sourceLocation)
        #expect(
            tlsLines(ours.standardOutput) == expected,
            "posttls-finger:\n\(reference.output)\nsealpost finger:\n\(ours.standardOutput)\(ours.standardError)",
            sourceLocation: sourceLocation)
        return tlsLines(ours.standardOutput)
    }

    @Test("STARTTLS at secure with the CA and the right name: Verified")
    func verified() throws {
        let lines = try Self.compare { ["-c", "-l", "secure", "-F", $0.hierarchy.root, "[127.0.0.1]:\($0.port)", "mail.example.com"] }
        #expect(lines.contains { $0.contains("Verified TLS connection established") }, "\(lines)")
    }

    @Test("a name the certificate does not have fails the match as in posttls-finger")
    func wrongName() throws {
        let lines = try Self.compare { ["-c", "-l", "secure", "-F", $0.hierarchy.root, "[127.0.0.1]:\($0.port)", "other.example.com"] }
        #expect(lines.contains { $0.contains("hostname mismatch") }, "\(lines)")
    }

    @Test("STARTTLS at may without a CA: Untrusted")
    func untrusted() throws {
        let lines = try Self.compare { ["-c", "-l", "may", "[127.0.0.1]:\($0.port)"] }
        #expect(lines.contains { $0.contains("Untrusted TLS connection established") }, "\(lines)")
    }

    @Test("-w against the wrapper-mode port")
    func wrapper() throws {
        let lines = try Self.compare { ["-c", "-w", "-l", "encrypt", "[127.0.0.1]:\($0.wrapperPort)"] }
        #expect(lines.contains { $0.contains("TLS connection established") }, "\(lines)")
    }

    @Test("-r 1: reconnecting reuses the session")
    func reconnect() throws {
        let lines = try Self.compare { ["-c", "-r", "1", "-l", "may", "[127.0.0.1]:\($0.port)"] }
        #expect(lines.contains { $0.contains("Reusing old session") }, "\(lines)")
    }
}
