import Foundation
import SealpostTestSupport
import Testing

/// A service under audit: its name, port, and whether TLS starts with STARTTLS or on connecting.
struct AuditedService {
    var name: String
    var port: Int
    var startTLS: Bool
}

/// How much of testssl.sh to run: the CI subset (protocols and vulnerabilities) or everything it
/// does by default (`SEALPOST_TLS_AUDIT=full`, used by `Scripts/audit-tls`).
enum AuditDepth {
    case focused, full

    static var fromEnvironment: AuditDepth {
        ProcessInfo.processInfo.environment["SEALPOST_TLS_AUDIT"] == "full" ? .full : .focused
    }
}

/// A scanner run in the background, its output going to a file so that many run at once.
final class ScannerProcess {
    let process = Process()
    let outputPath: String

    /// Unblocks every signal, then becomes the scanner. The test process's threads block most
    /// signals and a spawned child inherits that mask: testssl.sh ends a read that takes too long
    /// by sending SIGTERM to its `dd`, which would then never arrive and leave it waiting forever.
    private static let unblockSignals =
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, set()); os.execv(sys.argv[1], sys.argv[1:])"

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], outputPath: String) throws {
        self.outputPath = outputPath
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.unblockSignals, executable] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits for the exit and returns the status, or nil when the scanner did not finish within
    /// `timeout` seconds (it is killed then).
    func wait(timeout: Double) -> Int32? {
        guard waitUntil(timeout: timeout, { !process.isRunning }) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    deinit {
        // A failed test must not leave a scanner running.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// testssl.sh (Debian package `testssl.sh`, command `testssl`), its JSON results read as findings.
enum TestSSL {
    static func locate(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        PeerProgram.require("testssl", package: "testssl.sh", sourceLocation: sourceLocation)
    }

    /// Protocols and vulnerabilities.
    static let focusedChecks = ["--protocols", "--vulnerable"]

    /// Starts testssl.sh against `service`, writing its JSON to `jsonPath`.
    ///
    /// - Parameters:
    ///   - trustAnchor: the CA that issued the server's certificate (`--add-ca`), so the chain is judged.
    ///   - clientConfiguration: an OpenSSL configuration for testssl.sh's own openssl client, which by
    ///     default refuses TLS 1.0 and 1.1 (security level 1) and so could not check those protocols.
    static func start(
        _ executable: String, service: AuditedService, depth: AuditDepth, trustAnchor: String,
        clientConfiguration: String, jsonPath: String
    ) throws -> ScannerProcess {
        var arguments = ["--quiet", "--warnings", "off", "--color", "0", "--add-ca", trustAnchor, "--jsonfile", jsonPath]
        if service.startTLS { arguments += ["--starttls", "smtp"] }
        if depth == .focused { arguments += focusedChecks }
        arguments.append("127.0.0.1:\(service.port)")
        return try ScannerProcess(
            executable, arguments, environment: ["OPENSSL_CONF": clientConfiguration], outputPath: jsonPath + ".log")
    }

    private struct Entry: Decodable {
        var id: String
        var severity: String
        var finding: String
    }

    /// The findings of a `--jsonfile` document (an array of `{id, ip, port, severity, finding}`).
    static func findings(json: Data, service: String) throws -> [AuditFinding] {
        try JSONDecoder().decode([Entry].self, from: json).map { entry in
            guard let severity = AuditFinding.Severity(testssl: entry.severity) else {
                throw ScannerOutputError("testssl.sh: unknown severity \(entry.severity) for \(entry.id)")
            }
            return AuditFinding(scanner: "testssl.sh", service: service, id: entry.id, severity: severity, detail: entry.finding)
        }
    }
}

struct ScannerOutputError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// sslyze (PyPI `sslyze`; Debian has no package), its JSON results given testssl.sh's severities.
enum SSLyze {
    /// How CI installs it: a virtual environment, linked into /usr/local/bin.
    static let installation = "python3 -m venv /opt/sslyze && /opt/sslyze/bin/pip install sslyze && ln -s /opt/sslyze/bin/sslyze /usr/local/bin/sslyze (Debian package python3-venv)"

    static func locate(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        for directory in ["/usr/local/bin", "/usr/bin", "/opt/sslyze/bin"] {
            let candidate = "\(directory)/sslyze"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        Issue.record("sslyze is not installed (PyPI package sslyze): \(installation)", sourceLocation: sourceLocation)
        return nil
    }

    /// Every check but the HTTP headers one (an SMTP server has none).
    static let checks = [
        "--certinfo", "--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--reneg", "--compression",
        "--heartbleed", "--openssl_ccs", "--fallback", "--robot", "--elliptic_curves", "--ems", "--early_data", "--resum",
    ]

    static func start(_ executable: String, service: AuditedService, trustAnchor: String, jsonPath: String) throws -> ScannerProcess {
        var arguments = ["--quiet", "--json_out", jsonPath, "--certinfo_ca_file", trustAnchor] + checks
        if service.startTLS { arguments += ["--starttls", "smtp"] }
        arguments.append("127.0.0.1:\(service.port)")
        return try ScannerProcess(executable, arguments, outputPath: jsonPath + ".log")
    }

    /// The cipher suites sslyze saw accepted, by protocol (`tls_1_2_cipher_suites` → names).
    static func acceptedSuites(json: Data) throws -> [String: [String]] {
        let results = try scanResults(json)
        var suites: [String: [String]] = [:]
        for (command, value) in results where command.hasSuffix("_cipher_suites") {
            let accepted = ((value["result"] as? [String: Any])?["accepted_cipher_suites"] as? [[String: Any]]) ?? []
            suites[command] = accepted.compactMap { ($0["cipher_suite"] as? [String: Any])?["name"] as? String }
        }
        return suites
    }

    private static func scanResults(_ json: Data) throws -> [String: [String: Any]] {
        // Key moduli and DH primes are JSON numbers with hundreds of digits, which
        // JSONSerialization refuses; none is judged, so they become strings first.
        let text = String(decoding: json, as: UTF8.self)
        let bigNumber = try NSRegularExpression(pattern: #"([:\[,]\s*)(-?[0-9]{19,})(?=\s*[,}\]])"#)
        let quoted = bigNumber.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1\"$2\"")
        guard let document = try JSONSerialization.jsonObject(with: Data(quoted.utf8)) as? [String: Any],
            let server = (document["server_scan_results"] as? [[String: Any]])?.first
        else { throw ScannerOutputError("sslyze: no server_scan_results") }
        guard server["connectivity_status"] as? String == "COMPLETED", let results = server["scan_result"] as? [String: [String: Any]] else {
            throw ScannerOutputError("sslyze could not connect: \(server["connectivity_error_trace"] ?? "no trace")")
        }
        return results
    }

    /// The findings of a `--json_out` document. sslyze reports facts, not severities: each fact is
    /// graded as testssl.sh grades the same weakness.
    static func findings(json: Data, service: String) throws -> [AuditFinding] {
        let results = try scanResults(json)
        var findings: [AuditFinding] = []
        func add(_ id: String, _ severity: AuditFinding.Severity, _ detail: String) {
            findings.append(AuditFinding(scanner: "sslyze", service: service, id: id, severity: severity, detail: detail))
        }
        for (command, value) in results.sorted(by: { $0.key < $1.key }) {
            let status = value["status"] as? String ?? "?"
            if status == "NOT_SCHEDULED" { continue }
            guard status == "COMPLETED", let result = value["result"] as? [String: Any] else {
                add(command, .warn, "scan \(status): \(value["error_reason"] ?? "") \(String(describing: value["error_trace"] ?? "").suffix(200))")
                continue
            }
            func flag(_ key: String) -> Bool? { result[key] as? Bool }
            switch command {
            case "ssl_2_0_cipher_suites", "ssl_3_0_cipher_suites", "tls_1_0_cipher_suites", "tls_1_1_cipher_suites",
                "tls_1_2_cipher_suites", "tls_1_3_cipher_suites":
                let accepted = ((result["accepted_cipher_suites"] as? [[String: Any]]) ?? [])
                    .compactMap { ($0["cipher_suite"] as? [String: Any])?["name"] as? String }
                let protocolName = String(command.dropLast("_cipher_suites".count))
                let severity: AuditFinding.Severity =
                    if accepted.isEmpty { .ok }
                    else if protocolName == "ssl_2_0" { .critical }
                    else if protocolName == "ssl_3_0" { .high }
                    else if protocolName == "tls_1_0" || protocolName == "tls_1_1" { .low }
                    else { .info }
                add(protocolName, severity, accepted.isEmpty ? "not offered" : "\(accepted.count) suites")
                let broken = accepted.filter { name in
                    ["_RC4_", "_NULL_", "_EXPORT", "_anon_", "_DES_", "3DES", "_IDEA_", "_MD5"].contains { name.contains($0) }
                }
                if !broken.isEmpty { add("\(protocolName)_broken_ciphers", .high, broken.joined(separator: " ")) }
                let cbc = accepted.filter { $0.contains("_CBC_") }
                if !cbc.isEmpty {
                    // BEAST needs TLS 1.0 or older with CBC; LUCKY13 is CBC's padding timing in any version.
                    if protocolName == "tls_1_0" || protocolName == "ssl_3_0" { add("BEAST_\(protocolName)", .medium, cbc.joined(separator: " ")) }
                    add("LUCKY13_\(protocolName)", .low, "\(cbc.count) CBC suites")
                }
            case "heartbleed":
                add("heartbleed", flag("is_vulnerable_to_heartbleed") == false ? .ok : .critical, "\(result)")
            case "openssl_ccs_injection":
                add("CCS", flag("is_vulnerable_to_ccs_injection") == false ? .ok : .high, "\(result)")
            case "robot":
                let verdict = result["robot_result"] as? String ?? "?"
                let severity: AuditFinding.Severity =
                    verdict.hasPrefix("NOT_VULNERABLE") ? .ok : verdict.hasPrefix("VULNERABLE") ? .high : .warn
                add("ROBOT", severity, verdict)
            case "session_renegotiation":
                add("secure_renegotiation", flag("supports_secure_renegotiation") == true ? .ok : .high, "\(result)")
                add("client_renegotiation", flag("is_vulnerable_to_client_renegotiation_dos") == false ? .ok : .medium, "\(result)")
            case "tls_compression":
                add("CRIME_compression", flag("supports_compression") == false ? .ok : .high, "\(result)")
            case "tls_fallback_scsv":
                add("fallback_SCSV", flag("supports_fallback_scsv") == true ? .ok : .medium, "\(result)")
            case "tls_1_3_early_data":
                add("early_data", flag("supports_early_data") == false ? .ok : .medium, "\(result)")
            case "tls_extended_master_secret":
                add("extended_master_secret", flag("supports_ems_extension") == true ? .ok : .low, "\(result)")
            case "certificate_info":
                let deployments = (result["certificate_deployments"] as? [[String: Any]]) ?? []
                for deployment in deployments {
                    let validations = (deployment["path_validation_results"] as? [[String: Any]]) ?? []
                    let supplied = validations.first { (($0["trust_store"] as? [String: Any])?["name"] as? String) == "Supplied CA file" }
                    let trusted = supplied?["was_validation_successful"] as? Bool == true
                    add("certificate_trust", trusted ? .ok : .high, trusted ? "chains to the test CA" : "\(supplied?["validation_error"] ?? "no result")")
                    add("certificate_chain_order", deployment["received_chain_has_valid_order"] as? Bool == false ? .medium : .ok, "")
                    add("certificate_sha1", deployment["verified_chain_has_sha1_signature"] as? Bool == true ? .medium : .ok, "")
                }
            default:
                add(command, .info, "")
            }
        }
        return findings
    }
}
