/// A certificate, key or parameter file that cannot be used, naming the file and saying why.
public struct TLSCredentialError: Error, CustomStringConvertible, Sendable {
    /// A stable short identifier of the kind of problem, for tests, scripts and `sealpost check` output.
    ///
    /// The same codes label the warnings in ``CredentialFinding``; the raw values never change.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The file does not exist.
        case fileMissing = "file-missing"
        /// The file exists but cannot be read (permissions, a directory, an I/O error).
        case fileUnreadable = "file-unreadable"
        /// The file holds no PEM object at all (empty, DER, or some other format).
        case notPEM = "not-pem"
        /// A PEM object is damaged (bad base64, a missing END line).
        case invalidPEM = "invalid-pem"
        /// The file is PEM but holds no certificate.
        case noCertificate = "no-certificate"
        /// A certificate object does not decode, or has data after its end.
        case invalidCertificate = "invalid-certificate"
        /// The file is PEM but holds no private key.
        case noPrivateKey = "no-private-key"
        /// A private key object does not decode, or has data after its end.
        case invalidPrivateKey = "invalid-private-key"
        /// The private key is protected by a password, which a mail server cannot type.
        case encryptedPrivateKey = "encrypted-private-key"
        /// The private key is not the one whose public half the certificate holds.
        case keyMismatch = "key-mismatch"
        /// A certificate in a chain is not issued by the one that follows it (chains go leaf first).
        case chainOrder = "chain-order"
        /// A chain file has a certificate before any private key (`smtpd_tls_chain_files` wants the key first).
        case chainKeyNotFirst = "chain-key-not-first"
        /// A private key in a chain file is not followed by its certificate.
        case keyWithoutCertificate = "key-without-certificate"
        /// Two chains for the same key algorithm; OpenSSL keeps one per algorithm.
        case duplicateAlgorithm = "duplicate-algorithm"
        /// A certificate's notAfter time has passed.
        case certificateExpired = "certificate-expired"
        /// A certificate's notBefore time is still ahead.
        case certificateNotYetValid = "certificate-not-yet-valid"
        /// A certificate expires within the warning window (a warning, never thrown).
        case certificateExpiringSoon = "certificate-expiring-soon"
        /// A private key file that group or others may access (a warning, never thrown).
        case keyFilePermissions = "key-file-permissions"
        /// A PEM object of a type the loader does not use (a warning, never thrown).
        case ignoredPEMObject = "ignored-pem-object"
        /// A DH parameter file holds no DH parameters.
        case notDHParameters = "not-dh-parameters"
        /// DH parameters with a prime shorter than 2048 bits (a warning, never thrown).
        case weakDHParameters = "weak-dh-parameters"
        /// A CA file with no certificate in it.
        case noCACertificates = "no-ca-certificates"
        /// A CA path that is not a directory.
        case caPathNotDirectory = "ca-path-not-directory"
        /// A CA path directory without OpenSSL hash links such as `3513523f.0` (a warning, never thrown).
        case caPathWithoutHashLinks = "ca-path-no-hash-links"
        /// An argument the caller passed is not usable (an unknown curve, a bad RSA size, an odd SAN).
        case invalidArgument = "invalid-argument"
        /// OpenSSL could not generate a key.
        case keyGenerationFailed = "key-generation-failed"
        /// OpenSSL could not build or sign a certificate.
        case certificateGenerationFailed = "certificate-generation-failed"
        /// Writing a certificate or key file failed.
        case writeFailed = "write-failed"
    }

    /// What kind of problem this is.
    public var code: Code
    /// The file the problem is in (the first one, when two files disagree); empty when no file is involved.
    public var path: String
    /// The human explanation, one line, naming the file.
    public var reason: String
    /// OpenSSL's own error strings for the failure, oldest first; often empty.
    public var openSSLErrors: [String]
    /// Where in Sealpost the error arose (`fileID:line`), for bug reports.
    public var sourceLocation: String

    /// Creates an error; `sourceLocation` defaults to the caller's place in the source.
    public init(
        _ code: Code,
        path: String,
        reason: String,
        openSSLErrors: [String] = [],
        fileID: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.path = path
        self.reason = reason
        self.openSSLErrors = openSSLErrors
        self.sourceLocation = "\(fileID):\(line)"
    }

    /// The reason, followed by OpenSSL's error strings when there are any.
    public var description: String {
        if openSSLErrors.isEmpty { return reason }
        return "\(reason) (OpenSSL: \(openSSLErrors.joined(separator: "; ")))"
    }
}
