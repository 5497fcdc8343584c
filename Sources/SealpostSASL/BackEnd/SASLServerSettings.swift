import SealpostConfig

/// A SASL parameter whose value Sealpost cannot use, with the parameter, the value and what is
/// expected.
public struct SASLConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var parameter: String
    public var value: String
    public var reason: String

    public init(parameter: String, value: String, _ reason: String) {
        self.parameter = parameter
        self.value = value
        self.reason = reason
    }

    /// `smtpd_sasl_type = cyrus: Sealpost has no Cyrus SASL back end; …`
    public var description: String { "\(parameter) = \(value): \(reason)" }
}

/// Where Dovecot's auth server listens (`smtpd_sasl_path` with `smtpd_sasl_type = dovecot`).
public enum DovecotEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A UNIX socket, e.g. `/var/spool/postfix/private/auth`.
    case unix(path: String)
    /// `inet:host:port`.
    case inet(host: String, port: Int)

    // xsasl_dovecot_server_connect: "inet:" is a TCP endpoint, "unix:" (optional) a socket path.
    // Postfix's smtpd runs in the queue directory, so a relative path such as "private/auth" is
    // relative to it.
    /// Parses `smtpd_sasl_path`; a relative socket path is taken relative to `queueDirectory`.
    public init(parsing value: String, queueDirectory: String) throws(SASLConfigurationError) {
        let expected = "expected a UNIX socket path (relative to queue_directory), unix:path, or inet:host:port"
        if value.hasPrefix("inet:") {
            let hostPort = value.dropFirst(5)
            var host: Substring
            var portText: Substring
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]"), hostPort[hostPort.index(after: close)...].hasPrefix(":") else {
                    throw SASLConfigurationError(parameter: "smtpd_sasl_path", value: value, expected)
                }
                host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
                portText = hostPort[hostPort.index(close, offsetBy: 2)...]
            } else {
                guard let colon = hostPort.lastIndex(of: ":") else {
                    throw SASLConfigurationError(parameter: "smtpd_sasl_path", value: value, expected)
                }
                host = hostPort[..<colon]
                portText = hostPort[hostPort.index(after: colon)...]
            }
            if host.isEmpty { host = "localhost" }
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw SASLConfigurationError(parameter: "smtpd_sasl_path", value: value, "\(expected); the port must be 1 to 65535")
            }
            self = .inet(host: String(host), port: port)
            return
        }
        let path = value.hasPrefix("unix:") ? String(value.dropFirst(5)) : value
        guard !path.isEmpty else { throw SASLConfigurationError(parameter: "smtpd_sasl_path", value: value, expected) }
        self = .unix(path: path.hasPrefix("/") ? path : Self.join(queueDirectory, path))
    }

    public var description: String {
        switch self {
        case .unix(let path): path
        case .inet(let host, let port): host.contains(":") ? "inet:[\(host)]:\(port)" : "inet:\(host):\(port)"
        }
    }

    static func join(_ directory: String, _ path: String) -> String {
        directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}

/// The back end `smtpd_sasl_type` and `smtpd_sasl_path` select.
public enum SASLBackEndKind: Sendable, Hashable {
    /// `smtpd_sasl_type = dovecot`: Dovecot's auth server.
    case dovecot(DovecotEndpoint)
    /// `smtpd_sasl_type = passwd-file` (a Sealpost extension): the built-in back end reading a
    /// Dovecot-format passwd-file.
    case passwdFile(path: String)
}

/// Everything the SASL layer takes from one service's configuration.
public struct SASLServerSettings: Sendable {
    /// The value of `smtpd_sasl_type` that selects the built-in back end.
    public static let passwdFileType = "passwd-file"

    public var backEnd: SASLBackEndKind
    /// `smtpd_sasl_service`: the service name sent to Dovecot.
    public var service: String
    /// `smtpd_sasl_security_options`: what an unencrypted session requires.
    public var securityOptions: SASLSecurityOptions
    /// `smtpd_sasl_tls_security_options`: what an encrypted session requires.
    public var tlsSecurityOptions: SASLSecurityOptions
    /// `smtpd_sasl_mechanism_filter`.
    public var mechanismFilter: SASLMechanismFilter
    /// `smtpd_sasl_response_limit`: the longest response line accepted.
    public var responseLimit: Int

    public init(
        backEnd: SASLBackEndKind, service: String = "smtp", securityOptions: SASLSecurityOptions = .noAnonymous,
        tlsSecurityOptions: SASLSecurityOptions = .noAnonymous, mechanismFilter: SASLMechanismFilter = .postfixDefault,
        responseLimit: Int = 12288
    ) {
        self.backEnd = backEnd
        self.service = service
        self.securityOptions = securityOptions
        self.tlsSecurityOptions = tlsSecurityOptions
        self.mechanismFilter = mechanismFilter
        self.responseLimit = responseLimit
    }

    /// The settings of a service. Throws for a back end Sealpost does not have (`cyrus`), an
    /// unusable `smtpd_sasl_path`, or an unknown security option.
    public init(configuration: ServiceConfiguration) throws(SASLConfigurationError) {
        let type = configuration.string("smtpd_sasl_type")
        let path = configuration.string("smtpd_sasl_path")
        switch type {
        case "dovecot":
            backEnd = .dovecot(try DovecotEndpoint(parsing: path, queueDirectory: configuration.string("queue_directory")))
        case Self.passwdFileType:
            guard !path.isEmpty else {
                throw SASLConfigurationError(parameter: "smtpd_sasl_path", value: path, "expected the path of a passwd-file")
            }
            backEnd = .passwdFile(path: Self.passwdFilePath(path, configDirectory: configuration.string("config_directory")))
        case "cyrus":
            throw SASLConfigurationError(
                parameter: "smtpd_sasl_type", value: type,
                "Sealpost has no Cyrus SASL back end; use dovecot (with smtpd_sasl_path naming Dovecot's auth socket) "
                    + "or passwd-file (with smtpd_sasl_path naming a Dovecot-format passwd-file)")
        default:
            throw SASLConfigurationError(parameter: "smtpd_sasl_type", value: type, "expected dovecot or passwd-file")
        }
        service = configuration.string("smtpd_sasl_service")
        securityOptions = try SASLSecurityOptions(
            parsing: configuration.list("smtpd_sasl_security_options"), parameter: "smtpd_sasl_security_options")
        tlsSecurityOptions = try SASLSecurityOptions(
            parsing: configuration.list("smtpd_sasl_tls_security_options"), parameter: "smtpd_sasl_tls_security_options")
        mechanismFilter = try SASLMechanismFilter(parsing: configuration.list("smtpd_sasl_mechanism_filter"))
        responseLimit = configuration.integer("smtpd_sasl_response_limit")
    }

    /// The passwd-file a service uses, when its `smtpd_sasl_type` is `passwd-file`: for
    /// `sealpost passwd`. Reads the expanded text of the parameters, so it also works while the
    /// type is not a catalogued choice.
    public static func passwdFilePath(of configuration: ServiceConfiguration) -> String? {
        let scope = configuration.scope
        guard let type = scope.expanded("smtpd_sasl_type")?.value, PostfixList.trimmed(type).lowercased() == passwdFileType,
            let path = scope.expanded("smtpd_sasl_path").map({ PostfixList.trimmed($0.value) }), !path.isEmpty
        else { return nil }
        let configDirectory = scope.expanded("config_directory")?.value ?? Configuration.defaultDirectory
        return passwdFilePath(path, configDirectory: configDirectory)
    }

    // Sealpost's choice: a passwd-file is configuration, so a relative path is relative to the
    // configuration directory (Dovecot's socket, being run-time state, is relative to the queue).
    static func passwdFilePath(_ path: String, configDirectory: String) -> String {
        path.hasPrefix("/") ? path : DovecotEndpoint.join(configDirectory, path)
    }

    /// The security options for a session.
    public func securityOptions(encrypted: Bool) -> SASLSecurityOptions {
        encrypted ? tlsSecurityOptions : securityOptions
    }
}
