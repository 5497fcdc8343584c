internal import COpenSSL
import SealpostConfig
import Synchronization

/// Process-wide OpenSSL start-up: which OpenSSL configuration file is loaded (`tls_config_file`,
/// `tls_config_name`), as Postfix's `tls_library_init()` does.
///
/// OpenSSL reads its configuration once per process, at its first use. ``initialize(configuration:)``
/// therefore runs before anything else touches OpenSSL (`sealpost run` and `sealpost check` call it
/// right after reading main.cf); a later call, or a reload with other values, changes nothing and
/// says so through ``Outcome/alreadyInitialized``.
public enum TLSLibrary {
    /// What ``initialize(configuration:)`` did.
    public enum Outcome: Equatable, Sendable {
        /// The configuration was applied now.
        case initialized
        /// OpenSSL had already been set up by an earlier call in this process; the settings it used stay.
        case alreadyInitialized(file: String, name: String)
    }

    private static let state = Mutex<(file: String, name: String)?>(nil)

    /// Loads the OpenSSL configuration that `tls_config_file` and `tls_config_name` name:
    /// `default` is OpenSSL's own file (`openssl version -d`), `none` loads nothing, anything
    /// else is the path of a file that must exist. `tls_config_name` selects the application
    /// section (`openssl_conf` when empty).
    public static func initialize(configuration: ServiceConfiguration) throws(TLSConfigurationError) -> Outcome {
        let file = configuration.string("tls_config_file").trimmingWhitespace()
        let name = configuration.string("tls_config_name").trimmingWhitespace()
        return try initialize(file: file, name: name)
    }

    static func initialize(file: String, name: String) throws(TLSConfigurationError) -> Outcome {
        try state.withLock { (current) throws(TLSConfigurationError) -> Outcome in
            if let current { return .alreadyInitialized(file: current.file, name: current.name) }
            OpenSSLErrorQueue.clear()
            let loaded: Bool
            switch file {
            case "none":
                loaded = OPENSSL_init_ssl(UInt64(OPENSSL_INIT_NO_LOAD_CONFIG), nil) == 1
            case "default", "":
                loaded = load(path: nil, name: name)
            default:
                guard file.hasPrefix("/") else {
                    throw TLSConfigurationError(
                        .invalidValue, parameter: "tls_config_file", path: file,
                        reason: "tls_config_file: \"\(file)\" is not \"default\", \"none\" or an absolute path")
                }
                loaded = load(path: file, name: name)
            }
            guard loaded else {
                let source = file == "none" ? "" : " from \(file == "default" || file.isEmpty ? "the default" : file) OpenSSL configuration"
                throw TLSConfigurationError(
                    .openSSLFailure, parameter: "tls_config_file", path: file == "default" ? "" : file,
                    reason: "tls_config_file: cannot load the \"\(name.isEmpty ? "openssl_conf" : name)\" settings\(source)",
                    openSSLErrors: OpenSSLErrorQueue.drain())
            }
            current = (file, name)
            return .initialized
        }
    }

    /// `OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG)` with a file and application name; unlike
    /// OpenSSL's implicit start-up, a named file that is missing or broken is an error.
    private static func load(path: String?, name: String) -> Bool {
        guard let settings = OPENSSL_INIT_new() else { return false }
        defer { OPENSSL_INIT_free(settings) }
        if let path, OPENSSL_INIT_set_config_filename(settings, path) != 1 { return false }
        if !name.isEmpty, OPENSSL_INIT_set_config_appname(settings, name) != 1 { return false }
        // A missing default file is fine (OpenSSL's own behaviour); a named one must be there.
        OPENSSL_INIT_set_config_file_flags(settings, path == nil ? UInt(CONF_MFLAGS_IGNORE_MISSING_FILE) : 0)
        return OPENSSL_init_ssl(UInt64(OPENSSL_INIT_LOAD_CONFIG), settings) == 1
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
