import Foundation
import SealpostConfig
import SealpostPolicy
import SealpostRouting
import SealpostSASL
import SealpostTLS

/// Everything start-up checks beyond the configuration text: certificate, key, CA and DH files,
/// lookup tables, and the queue, data and log locations. `sealpost check`, `sealpost run` and
/// every reload use it, so a problem that `check` reports also stops start-up and is refused on
/// reload.
public enum StartupChecks {
    /// The configuration's own diagnostics plus the findings about the files it names.
    public static func diagnostics(
        for configuration: Configuration, now: Date = Date(), expiryWarningDays: Int = CredentialInspector.defaultExpiryWarningDays
    ) -> [ConfigurationDiagnostic] {
        var findings = configuration.diagnostics
        var checker = FileChecker(configuration: configuration, now: now, expiryWarningDays: expiryWarningDays)
        checker.checkOpenSSLConfiguration()
        for view in [configuration.global] + configuration.services {
            checker.checkTLSFiles(in: view)
            checker.checkTables(in: view)
        }
        for service in configuration.services where service.service?.type == .inet && service.service?.command == "smtpd" {
            checker.checkServerCertificatePresence(in: service)
            checker.checkServiceComponents(service)
        }
        checker.checkDirectories(configuration.global)
        findings += checker.findings
        var seen: Set<ConfigurationDiagnostic> = []
        return findings.filter { seen.insert($0).inserted }.sorted { $0.severity < $1.severity }
    }
}

/// Runs the file checks of one configuration, remembering what it already looked at.
private struct FileChecker {
    let configuration: Configuration
    let now: Date
    let expiryWarningDays: Int
    var findings: [ConfigurationDiagnostic] = []
    private var checked: Set<String> = []

    init(configuration: Configuration, now: Date, expiryWarningDays: Int) {
        self.configuration = configuration
        self.now = now
        self.expiryWarningDays = expiryWarningDays
    }

    /// The certificate/key parameter pairs, server and client side.
    private static let certificatePairs = [
        ("smtpd_tls_cert_file", "smtpd_tls_key_file"), ("smtpd_tls_eccert_file", "smtpd_tls_eckey_file"),
        ("smtpd_tls_dcert_file", "smtpd_tls_dkey_file"), ("smtp_tls_cert_file", "smtp_tls_key_file"),
        ("smtp_tls_eccert_file", "smtp_tls_eckey_file"), ("smtp_tls_dcert_file", "smtp_tls_dkey_file"),
        ("lmtp_tls_cert_file", "lmtp_tls_key_file"), ("lmtp_tls_eccert_file", "lmtp_tls_eckey_file"),
        ("lmtp_tls_dcert_file", "lmtp_tls_dkey_file"),
    ]

    /// Loads OpenSSL's configuration (`tls_config_file`, `tls_config_name`); this must come before
    /// anything else uses OpenSSL, which is why it is the first check.
    mutating func checkOpenSSLConfiguration() {
        let view = configuration.global
        let file = view.string("tls_config_file"), name = view.string("tls_config_name")
        do {
            let outcome = try TLSLibrary.initialize(configuration: view)
            if case .alreadyInitialized(let loadedFile, let loadedName) = outcome, loadedFile != file || loadedName != name {
                report(.warning, view, "tls_config_file", file,
                    "OpenSSL reads its configuration once per process; \"\(loadedFile)\" (name \"\(loadedName)\") stays in use until Sealpost is restarted",
                    code: "restart-required")
            }
        } catch {
            let detail = error.openSSLErrors.isEmpty ? "" : " (" + error.openSSLErrors.joined(separator: "; ") + ")"
            report(.error, view, error.parameter, file, error.reason + detail + "; expected \"default\", \"none\" or the absolute path of an OpenSSL configuration file", code: error.code.rawValue)
        }
    }

    mutating func checkTLSFiles(in view: ServiceConfiguration) {
        for (certificateParameter, keyParameter) in Self.certificatePairs {
            let certificate = view.string(certificateParameter)
            let key = view.string(keyParameter)
            if certificate.isEmpty && key.isEmpty { continue }
            if certificate == "none" || key == "none" {
                if certificate != key {
                    report(.error, view, keyParameter, key, "use \"none\" for both \(certificateParameter) and \(keyParameter) (no certificate: anonymous TLS), or name both files")
                }
                continue
            }
            if certificate.isEmpty {
                report(.error, view, keyParameter, key, "the key has no certificate: \(certificateParameter) is empty; expected the certificate file as well")
                continue
            }
            guard once("pair \(certificate) \(key)") else { continue }
            for finding in CredentialInspector.inspectServerCredentials(
                certificateFile: certificate, keyFile: key, now: now, expiryWarningDays: expiryWarningDays)
            {
                let parameter = finding.path == key && finding.path != certificate ? keyParameter : certificateParameter
                report(finding, view, parameter)
            }
        }
        for parameter in ["smtpd_tls_chain_files", "smtp_tls_chain_files", "lmtp_tls_chain_files"] {
            let files = view.list(parameter)
            guard !files.isEmpty, once("chain \(files)") else { continue }
            for finding in CredentialInspector.inspectChainFiles(files, now: now, expiryWarningDays: expiryWarningDays) {
                report(finding, view, parameter)
            }
        }
        for parameter in ["smtpd_tls_CAfile", "smtp_tls_CAfile", "lmtp_tls_CAfile"] {
            let file = view.string(parameter)
            guard !file.isEmpty, once("cafile \(file)") else { continue }
            for finding in CredentialInspector.inspectCAFile(file) { report(finding, view, parameter) }
        }
        for parameter in ["smtpd_tls_CApath", "smtp_tls_CApath", "lmtp_tls_CApath"] {
            let directory = view.string(parameter)
            guard !directory.isEmpty, once("capath \(directory)") else { continue }
            for finding in CredentialInspector.inspectCAPath(directory) { report(finding, view, parameter) }
        }
        let dhFile = view.string("smtpd_tls_dh1024_param_file")
        if !dhFile.isEmpty, once("dh \(dhFile)") {
            for finding in CredentialInspector.inspectDHParameterFile(dhFile) {
                report(finding, view, "smtpd_tls_dh1024_param_file")
            }
        }
    }

    /// An SMTP server that must or may offer TLS needs a certificate (or `none`, for anonymous
    /// ciphers only), as Postfix's smtpd decides at start-up.
    mutating func checkServerCertificatePresence(in view: ServiceConfiguration) {
        let certificateParameters = ["smtpd_tls_cert_file", "smtpd_tls_eccert_file", "smtpd_tls_dcert_file", "smtpd_tls_chain_files"]
        let hasCertificate = certificateParameters.contains { !expandedText(view, $0).isEmpty }
        guard !hasCertificate, let service = view.service else { return }
        let level = view.string("smtpd_tls_security_level")
        let wrapper = view.bool("smtpd_tls_wrappermode")
        let location = SourceLocation(file: configuration.master.path, line: service.line)
        if wrapper || level == "encrypt" {
            findings.append(
                .error(
                    location,
                    "service \(service.key): \(wrapper ? "smtpd_tls_wrappermode = yes" : "smtpd_tls_security_level = encrypt") "
                        + "needs a server certificate; expected smtpd_tls_cert_file and smtpd_tls_key_file (or \"none\" for "
                        + "anonymous TLS only)",
                    code: "no-server-certificate"))
        } else if level == "may" {
            findings.append(
                .warning(
                    location,
                    "service \(service.key): smtpd_tls_security_level = may without a server certificate; STARTTLS will not be offered",
                    code: "no-server-certificate"))
        }
    }

    /// Builds the service's policy, TLS context, SASL settings and lists as start-up will, and
    /// reports what fails with the parameter it comes from.
    mutating func checkServiceComponents(_ view: ServiceConfiguration) {
        guard !configuration.diagnostics.hasErrors, let service = view.service else { return }
        do {
            let parts = try MailServices.components(for: view, configuration: configuration, log: nil)
            for warning in parts.tlsWarnings {
                findings.append(.warning(.init(file: configuration.master.path, line: service.line), "service \(service.key): \(warning)", code: "tls"))
            }
            for warning in parts.policy.startupWarnings {
                findings.append(.warning(.init(file: configuration.master.path, line: service.line), "service \(service.key): \(warning.message)", code: "policy"))
            }
        } catch {
            let (parameter, message) = Self.describe(error)
            if let parameter {
                report(.error, view, parameter, expandedText(view, parameter), message, code: "service")
            } else {
                findings.append(.error(.init(file: configuration.master.path, line: service.line), "service \(service.key): \(message)", code: "service"))
            }
        }
    }

    /// The parameter an error of a service part names, and its message.
    static func describe(_ error: Error) -> (String?, String) {
        switch error {
        case let error as PolicyConfigurationError: (error.parameter, error.message)
        case let error as TLSConfigurationError: (error.parameter.isEmpty ? nil : error.parameter, error.reason)
        case let error as SASLConfigurationError: (error.parameter, error.reason)
        case let error as MatchListError: (error.parameter, error.message)
        default: (nil, "\(error)")
        }
    }

    /// Opens every lookup table an explicitly set parameter names.
    mutating func checkTables(in view: ServiceConfiguration) {
        for definition in ParameterCatalogue.definitions where definition.kind == .tables {
            guard let (_, source) = view.scope.raw(definition.name), source.isExplicit else { continue }
            for reference in view.tables(definition.name) {
                guard once("table \(reference)") else { continue }
                do {
                    _ = try reference.open()
                } catch {
                    report(.error, view, definition.name, expandedText(view, definition.name), error.description)
                }
            }
        }
    }

    mutating func checkDirectories(_ view: ServiceConfiguration) {
        for parameter in ["queue_directory", "data_directory"] {
            let path = view.string(parameter)
            var status = stat()
            if stat(path, &status) != 0 {
                if errno != ENOENT {
                    report(.error, view, parameter, path, "cannot inspect: \(String(cString: strerror(errno)))")
                }
                continue  // created at start-up
            }
            if (status.st_mode & S_IFMT) != S_IFDIR {
                report(.error, view, parameter, path, "not a directory; expected a directory Sealpost can write")
            } else if access(path, W_OK | X_OK) != 0 {
                report(.error, view, parameter, path, "not writable: \(String(cString: strerror(errno)))")
            }
        }
        let logFile = view.string("maillog_file")
        if !logFile.isEmpty && !logFile.hasPrefix("/dev/") {
            let prefixes = view.list("maillog_file_prefixes")
            if !prefixes.contains(where: { logFile.hasPrefix($0) }) {
                report(.error, view, "maillog_file", logFile, "does not start with one of maillog_file_prefixes (\(prefixes.joined(separator: ", ")))")
            }
            let parent = String(logFile[..<(logFile.lastIndex(of: "/") ?? logFile.startIndex)])
            if access(logFile, F_OK) == 0 {
                // An existing log (after a privilege drop, the directory may be root's).
                if access(logFile, W_OK) != 0 {
                    report(.error, view, "maillog_file", logFile, "not writable: \(String(cString: strerror(errno)))")
                }
            } else if !parent.isEmpty && access(parent, W_OK | X_OK) != 0 {
                report(.error, view, "maillog_file", logFile, "its directory \(parent) is not writable: \(String(cString: strerror(errno)))")
            }
        }
    }

    // MARK: - Reporting

    private func expandedText(_ view: ServiceConfiguration, _ parameter: String) -> String {
        view.scope.expanded(parameter)?.value ?? ""
    }

    private mutating func once(_ key: String) -> Bool {
        checked.insert(key).inserted
    }

    private mutating func report(_ finding: CredentialFinding, _ view: ServiceConfiguration, _ parameter: String) {
        let severity: ConfigurationDiagnostic.Severity = finding.severity == .error ? .error : .warning
        report(severity, view, parameter, expandedText(view, parameter), finding.message, code: finding.code.rawValue)
    }

    private mutating func report(
        _ severity: ConfigurationDiagnostic.Severity, _ view: ServiceConfiguration, _ parameter: String, _ value: String,
        _ message: String, code: String = "file"
    ) {
        let source = view.scope.raw(parameter)?.source
        var location: SourceLocation?
        switch source {
        case .mainConf(let line): location = SourceLocation(file: configuration.main.path, line: line)
        case .serviceOverride(_, let line): location = SourceLocation(file: configuration.master.path, line: line)
        default: location = nil
        }
        findings.append(.init(severity: severity, location: location, code: code, message: "\(parameter) = \(value): \(message)"))
    }
}
