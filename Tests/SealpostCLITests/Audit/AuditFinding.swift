import Foundation

/// One result of a TLS scanner against one service, with the scanner's own severity (testssl.sh)
/// or the severity given to an sslyze result by ``SSLyzeReport``.
struct AuditFinding: Hashable {
    /// testssl.sh's severity scale, which sslyze results are mapped onto.
    enum Severity: Int, Comparable, CustomStringConvertible {
        case ok, info, low, warn, medium, high, critical

        init?(testssl text: String) {
            switch text {
            case "OK": self = .ok
            case "INFO", "DEBUG": self = .info
            case "LOW": self = .low
            case "WARN": self = .warn
            case "MEDIUM": self = .medium
            case "HIGH": self = .high
            case "CRITICAL": self = .critical
            default: return nil
            }
        }

        /// MEDIUM and above: a weakness the audit must not find unless the configuration asks for it.
        var isVulnerable: Bool { self >= .medium }

        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

        var description: String {
            switch self {
            case .ok: "OK"
            case .info: "INFO"
            case .low: "LOW"
            case .warn: "WARN"
            case .medium: "MEDIUM"
            case .high: "HIGH"
            case .critical: "CRITICAL"
            }
        }
    }

    var scanner: String
    /// smtp, submission or smtps.
    var service: String
    /// The scanner's identifier for the check (testssl.sh's `id`, a name made up for sslyze).
    var id: String
    var severity: Severity
    var detail: String
}

/// A finding the configuration under audit deliberately permits, and why.
struct PermittedFinding {
    var id: String
    /// Services it is permitted on; empty for all.
    var services: Set<String> = []
    var reason: String

    func permits(_ finding: AuditFinding) -> Bool {
        finding.id == id && (services.isEmpty || services.contains(finding.service))
    }
}

extension [AuditFinding] {
    /// Findings at MEDIUM or above that no entry of `permitted` explains.
    func vulnerabilities(permitted: [PermittedFinding]) -> [AuditFinding] {
        filter { finding in finding.severity.isVulnerable && !permitted.contains { $0.permits(finding) } }
    }

    /// A table of every finding above INFO (finding → severity), then the counts of the rest, for
    /// the closing notes.
    func summaryTable(title: String, permitted: [PermittedFinding]) -> String {
        let notable = filter { $0.severity > .info }.sorted {
            ($0.service, $0.scanner, $0.severity, $0.id) < ($1.service, $1.scanner, $1.severity, $1.id)
        }
        var lines = ["\(title)", "| service | scanner | finding | severity | note |", "|---|---|---|---|---|"]
        for finding in notable {
            let note: String
            if let permission = permitted.first(where: { $0.permits(finding) }), finding.severity.isVulnerable {
                note = "permitted: \(permission.reason)"
            } else if finding.severity.isVulnerable {
                note = "UNEXPECTED: \(finding.detail.prefix(100))"
            } else {
                note = String(finding.detail.prefix(100))
            }
            lines.append("| \(finding.service) | \(finding.scanner) | \(finding.id) | \(finding.severity) | \(note) |")
        }
        for scanner in Set(map(\.scanner)).sorted() {
            let own = filter { $0.scanner == scanner }
            let ok = own.filter { $0.severity == .ok }.count
            let info = own.filter { $0.severity == .info }.count
            lines.append("\(scanner): \(own.count) results, \(ok) OK, \(info) INFO, \(own.count - ok - info) listed above")
        }
        return lines.joined(separator: "\n")
    }
}
