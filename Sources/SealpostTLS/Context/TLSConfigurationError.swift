/// A TLS setting that cannot be turned into a working OpenSSL context, naming the parameter (and the file, when
/// one is involved) and saying why.
///
/// Certificate, key, DH and CA *file contents* problems stay ``TLSCredentialError``s; this error wraps them with
/// the parameter that named the file (``underlying``), so that a message reads
/// `smtpd_tls_cert_file: certificate file /etc/… does not exist`.
public struct TLSConfigurationError: Error, CustomStringConvertible, Sendable {
    /// A stable short identifier of the kind of problem, for tests and `sealpost check`; raw values never change.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// A credential file (certificate, key, chain, CA, DH) could not be used; see ``TLSConfigurationError/underlying``.
        case credential = "credential"
        /// A context was asked for a service whose security level is `none`.
        case tlsNotEnabled = "tls-not-enabled"
        /// TLS is wanted but there is no server certificate (and `none` was not chosen).
        case noServerCertificate = "no-server-certificate"
        /// Client certificates are requested but the server has no certificate (anonymous TLS cannot ask for them).
        case anonymousWithClientCertificates = "anonymous-with-client-certificates"
        /// A cipher exclusion that starts with `!`, `+`, `-` or `@` (Postfix refuses those too).
        case invalidCipherExclusion = "invalid-cipher-exclusion"
        /// OpenSSL accepts no cipher from the grade's list after the exclusions.
        case noCiphers = "no-ciphers"
        /// A protocol list that OpenSSL cannot apply, or one that leaves no protocol version.
        case invalidProtocols = "invalid-protocols"
        /// A digest name OpenSSL does not know.
        case unknownDigest = "unknown-digest"
        /// The session ticket cipher is unknown or not a CBC cipher with a 16-byte IV and a 16–32-byte key.
        case invalidTicketCipher = "invalid-ticket-cipher"
        /// The ticket key file is missing, unreadable or malformed.
        case invalidTicketKeyFile = "invalid-ticket-key-file"
        /// The entropy source cannot be opened or read.
        case randomSourceUnavailable = "random-source-unavailable"
        /// A log level that is neither a number nor one of Postfix's names.
        case invalidLogLevel = "invalid-log-level"
        /// A value outside what the parameter allows (an SNI name, a match strategy, a fingerprint, a TLSA record).
        case invalidValue = "invalid-value"
        /// No key-exchange group is left for OpenSSL (every name was unknown and the defaults failed too).
        case noKeyExchangeGroups = "no-key-exchange-groups"
        /// OpenSSL refused a call that should not fail (allocation, an internal inconsistency).
        case openSSLFailure = "openssl-failure"
    }

    /// What kind of problem this is.
    public var code: Code
    /// The main.cf parameter whose value is at fault (`smtpd_tls_cert_file`); empty when none applies.
    public var parameter: String
    /// The file involved, if any.
    public var path: String
    /// The human explanation, one line, naming the parameter and file.
    public var reason: String
    /// OpenSSL's own error strings, oldest first; often empty.
    public var openSSLErrors: [String]
    /// The credential problem behind a `.credential` error.
    public var underlying: TLSCredentialError?
    /// Where in Sealpost the error arose (`fileID:line`), for bug reports.
    public var sourceLocation: String

    /// Creates an error; `sourceLocation` defaults to the caller's place in the source.
    public init(
        _ code: Code, parameter: String, path: String = "", reason: String, openSSLErrors: [String] = [],
        underlying: TLSCredentialError? = nil, fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.parameter = parameter
        self.path = path
        self.reason = reason
        self.openSSLErrors = openSSLErrors
        self.underlying = underlying
        self.sourceLocation = "\(fileID):\(line)"
    }

    /// Wraps a credential error with the parameter that named the file.
    public init(parameter: String, _ credential: TLSCredentialError, fileID: String = #fileID, line: Int = #line) {
        self.init(
            .credential, parameter: parameter, path: credential.path, reason: "\(parameter): \(credential.reason)",
            openSSLErrors: credential.openSSLErrors, underlying: credential, fileID: fileID, line: line)
    }

    /// The reason, followed by OpenSSL's error strings when there are any.
    public var description: String {
        if openSSLErrors.isEmpty { return reason }
        return "\(reason) (OpenSSL: \(openSSLErrors.joined(separator: "; ")))"
    }
}

/// Something about the TLS settings that works but deserves a line in the log (Postfix logs these as warnings
/// and carries on): an ignored obsolete parameter, a curve OpenSSL lacks, a client-certificate request that
/// cannot be honoured.
public struct TLSConfigurationWarning: Sendable, Hashable, CustomStringConvertible {
    /// The parameter concerned; empty when the warning is about the combination of several.
    public var parameter: String
    /// The warning text, in Postfix's words where Postfix has words for it.
    public var message: String

    public init(parameter: String, _ message: String) {
        self.parameter = parameter
        self.message = message
    }

    public var description: String { message }
}
