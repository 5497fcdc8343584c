#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SealpostConfig
import SealpostTLS

#if canImport(Glibc)
import Glibc
#endif

/// The configuration directory as `sealpost tls` sees it: main.cf values the way postfix-tls asks
/// postconf for them, file names, and the main.cf edits.
struct TLSWorkspace {
    /// Reported as `sealpost: fatal: message` and exit status 1, as postfix-tls's `$FATAL`.
    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// The settings that, all at their defaults, let `enable-client` act (postfix-tls's `client_settings`).
    static let clientSettings = [
        "smtp_use_tls", "smtp_enforce_tls", "smtp_tls_enforce_peername", "smtp_tls_security_level",
        "smtp_tls_cert_file", "smtp_tls_dcert_file", "smtp_tls_eccert_file",
    ]
    /// The settings that, all at their defaults, let `enable-server` act. postfix-tls's `server_settings`
    /// plus `smtpd_tls_chain_files`: certificates configured there are not "defaults" either.
    static let serverSettings = [
        "smtpd_use_tls", "smtpd_enforce_tls", "smtpd_tls_security_level",
        "smtpd_tls_cert_file", "smtpd_tls_dcert_file", "smtpd_tls_eccert_file", "smtpd_tls_chain_files",
    ]

    let directory: String
    let configuration: Configuration

    init(directory: String) {
        self.directory = directory
        self.configuration = Configuration.load(directory: directory)
    }

    var mainConfPath: String { directory + "/main.cf" }

    /// The names among `settings` that main.cf sets to a non-empty value (`postconf -nh name` prints something).
    func nonDefault(_ settings: [String]) -> [String] {
        settings.filter { !(configuration.main.effective[$0]?.value.isEmpty ?? true) }
    }

    /// `postconf -nxh name`: main.cf's value, expanded, or "" when main.cf does not set it.
    func explicitExpanded(_ name: String) -> String {
        guard let entry = configuration.main.effective[name] else { return "" }
        return configuration.global.scope.expand(entry.value).value
    }

    /// `myhostname`, expanded; a value starting with `/` names a file holding the name, as postfix-tls allows.
    func myhostname() throws(Failure) -> String {
        let value = configuration.global.scope.expanded("myhostname")?.value ?? ""
        guard value.hasPrefix("/") else { return value }
        guard case .success(let bytes) = readFile(value) else { throw Failure("cannot read myhostname from \(value)") }
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.split(whereSeparator: \.isWhitespace).first ?? "")
    }

    /// A file name from the command line: absolute, or relative to the configuration directory.
    func path(_ name: String) -> String {
        name.hasPrefix("/") ? name : directory + "/" + name
    }

    /// postfix-tls's `set_keyfile`: `rsa` and `ecdsa` name the deployed key (main.cf's key file
    /// parameter), `none` or an empty value name no key, anything else is a file name.
    func keyFile(_ name: String) -> String? {
        let resolved: String
        switch name {
        case "rsa": resolved = explicitExpanded(ServerKeyAlgorithm.rsa.keyParameter)
        case "ecdsa": resolved = explicitExpanded(ServerKeyAlgorithm.ecdsa.keyParameter)
        case "", "none": return nil
        default: resolved = path(name)
        }
        return resolved.isEmpty || resolved == "none" ? nil : resolved
    }

    /// Sets main.cf parameters with the editor behind `sealpost conf -e`, in one write.
    func setMainConf(_ settings: [(name: String, value: String)]) throws(Failure) {
        do {
            for warning in try MainConfEditor.edit(fileAt: mainConfPath, .set(settings)) { Terminal.warning(warning) }
        } catch {
            throw Failure(error.message)
        }
    }

    /// `YYYYMMDD-HHMMSS` in UTC, postfix-tls's file name stamp.
    static func stamp(_ date: Date = Date()) -> String {
        let (day, time) = utcDigits(date)
        return day.joined() + "-" + time.joined()
    }

    /// `2026-11-29 15:20:00 UTC`.
    static func utcText(_ date: Date) -> String {
        let (day, time) = utcDigits(date)
        return day.joined(separator: "-") + " " + time.joined(separator: ":") + " UTC"
    }

    /// Year, month, day and hour, minute, second in UTC, zero-padded.
    private static func utcDigits(_ date: Date) -> (day: [String], time: [String]) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return (["\(parts.tm_year + 1900)", two(parts.tm_mon + 1), two(parts.tm_mday)],
                [two(parts.tm_hour), two(parts.tm_min), two(parts.tm_sec)])
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
