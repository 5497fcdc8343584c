#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SealpostConfig

extension SASLServerSettings {
    /// What `sealpost check` and start-up can tell about the back end without using it: the
    /// passwd-file's findings (an unreadable file is an error, unusable lines are errors, clear-text
    /// passwords and loose permissions warnings), or whether Dovecot's socket is there (a warning
    /// when it is not: Dovecot may simply start later).
    public func backEndDiagnostics() -> [ConfigurationDiagnostic] {
        switch backEnd {
        case .passwdFile(let path):
            do {
                return try PasswdFile.load(path: path).diagnostics
            } catch {
                return [.error(SourceLocation(file: path), "smtpd_sasl_path: \(error.reason)", code: "passwd-file")]
            }
        case .dovecot(.unix(let path)):
            var status = stat()
            guard stat(path, &status) == 0 else {
                return [
                    .warning(
                        SourceLocation(file: path),
                        "smtpd_sasl_path: Dovecot's auth socket is not there (\(PasswdFileIO.errorText())); "
                            + "AUTH fails with 454 until Dovecot listens on it", code: "sasl-socket")
                ]
            }
            if status.st_mode & S_IFMT != S_IFSOCK {
                return [.error(SourceLocation(file: path), "smtpd_sasl_path: not a UNIX socket", code: "sasl-socket")]
            }
            return []
        case .dovecot(.inet):
            return []
        }
    }
}
