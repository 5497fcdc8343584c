internal import COpenSSL
internal import CSealpostShims
import SealpostConfig

/// The keys and certificate chains one side presents, loaded from `<prefix>_tls_chain_files` or the legacy
/// `<prefix>_tls_cert_file`/`key_file` (RSA), `eccert_file`/`eckey_file` (ECDSA) and `dcert_file`/`dkey_file`
/// (DSA) pairs, as Postfix's `tls_set_my_certificate_key_info()` does: chain files, when set, override the legacy
/// parameters; otherwise each non-empty certificate parameter is loaded with its key (the same file holding both
/// is read once).
public struct TLSCertificateSettings: Sendable {
    /// One chain per key algorithm, in load order.
    public var certifiedKeys: [CertifiedKey]
    /// `<prefix>_tls_cert_file = none` (server only): no certificate, anonymous ciphers only.
    public var isExplicitlyNone: Bool
    /// The parameter(s) the chains came from, for messages.
    public var origin: String

    /// Nothing to present.
    public static let empty = TLSCertificateSettings(certifiedKeys: [], isExplicitlyNone: false, origin: "")

    public init(certifiedKeys: [CertifiedKey], isExplicitlyNone: Bool, origin: String) {
        self.certifiedKeys = certifiedKeys
        self.isExplicitlyNone = isExplicitlyNone
        self.origin = origin
    }

    /// Loads the files named by the `<prefix>_tls_*` parameters.
    init(
        _ configuration: ServiceConfiguration, prefix: String, allowNone: Bool,
        warnings: inout [TLSConfigurationWarning]
    ) throws(TLSConfigurationError) {
        let chainParameter = "\(prefix)_tls_chain_files"
        let chainFiles = configuration.list(chainParameter)
        var certificateFile = configuration.string("\(prefix)_tls_cert_file")
        var none = false
        if allowNone && certificateFile.lowercased() == "none" {
            none = true
            certificateFile = ""
        }
        let pairs: [(algorithm: String, certificate: String, key: String, parameter: String)] = [
            ("RSA", certificateFile, configuration.string("\(prefix)_tls_key_file"), "\(prefix)_tls_cert_file"),
            ("DSA", configuration.string("\(prefix)_tls_dcert_file"), configuration.string("\(prefix)_tls_dkey_file"),
             "\(prefix)_tls_dcert_file"),
            ("ECDSA", configuration.string("\(prefix)_tls_eccert_file"), configuration.string("\(prefix)_tls_eckey_file"),
             "\(prefix)_tls_eccert_file"),
        ]
        let legacy = pairs.filter { !$0.certificate.isEmpty }

        if !chainFiles.isEmpty {
            if !legacy.isEmpty {
                warnings.append(TLSConfigurationWarning(
                    parameter: chainParameter,
                    "Both \(chainParameter) and one or more of the legacy \(prefix)_tls_cert_file, "
                        + "\(prefix)_tls_eccert_file or \(prefix)_tls_dcert_file are non-empty; "
                        + "the legacy parameters will be ignored"))
            }
            do {
                let contents = try CertifiedKey.loadChainFiles(chainFiles)
                warnings += contents.warnings.map { TLSConfigurationWarning(parameter: chainParameter, $0.message) }
                self.init(certifiedKeys: contents.certifiedKeys, isExplicitlyNone: false, origin: chainParameter)
            } catch {
                throw TLSConfigurationError(parameter: chainParameter, error)
            }
            return
        }

        var keys: [CertifiedKey] = []
        for pair in legacy {
            let keyFile = pair.key.isEmpty ? pair.certificate : pair.key
            do {
                keys.append(try CertifiedKey.load(certificateFile: pair.certificate, keyFile: keyFile))
            } catch {
                throw TLSConfigurationError(parameter: pair.parameter, error)
            }
        }
        self.init(
            certifiedKeys: keys, isExplicitlyNone: none,
            origin: legacy.map(\.parameter).joined(separator: ", "))
    }

    /// Installs every chain into the context (`SSL_CTX_use_cert_and_key`, one slot per key algorithm, as
    /// Postfix's `use_chain()` does); a second chain for the same algorithm is an error, not a silent replacement.
    func apply(to context: OpaquePointer) throws(TLSConfigurationError) {
        for certified in certifiedKeys {
            guard let chain = sealpost_ctx_sk_X509_new_null() else {
                throw TLSConfigurationError(.openSSLFailure, parameter: origin, reason: "\(origin): out of memory")
            }
            defer { sealpost_ctx_sk_X509_free_all(chain) }
            for issuer in certified.chain.dropFirst() {
                guard sealpost_ctx_sk_X509_push_ref(chain, issuer.pointer) > 0 else {
                    throw TLSConfigurationError(.openSSLFailure, parameter: origin, reason: "\(origin): out of memory")
                }
            }
            OpenSSLErrorQueue.clear()
            guard SSL_CTX_use_cert_and_key(context, certified.leaf.pointer, certified.privateKey.pointer, chain, 0) == 1
            else {
                throw TLSConfigurationError(
                    .credential, parameter: origin, path: certified.certificateFile,
                    reason: "\(origin): OpenSSL refuses the key in \(certified.keyFile) with the certificate "
                        + "\(certified.leaf.details.displayName) from \(certified.certificateFile)",
                    openSSLErrors: OpenSSLErrorQueue.drain())
            }
        }
    }
}

/// The trust anchors for verifying the peer: `<prefix>_tls_CAfile`, `<prefix>_tls_CApath` and
/// `tls_append_default_CA`.
public struct TLSTrustSettings: Sendable, Hashable {
    public var caFile: String
    public var caPath: String
    /// Whether the system's default CAs are added; as in Postfix's `tls_set_ca_certificate_info()` this only has
    /// an effect when a CA file or CA path is configured.
    public var appendDefaultCA: Bool
    public var caFileParameter: String
    public var caPathParameter: String

    public init(caFile: String, caPath: String, appendDefaultCA: Bool, prefix: String) {
        self.caFile = caFile
        self.caPath = caPath
        self.appendDefaultCA = appendDefaultCA
        self.caFileParameter = "\(prefix)_tls_CAfile"
        self.caPathParameter = "\(prefix)_tls_CApath"
    }

    init(_ configuration: ServiceConfiguration, prefix: String) throws(TLSConfigurationError) {
        self.init(
            caFile: configuration.string("\(prefix)_tls_CAfile"), caPath: configuration.string("\(prefix)_tls_CApath"),
            appendDefaultCA: configuration.bool("tls_append_default_CA"), prefix: prefix)
        // Read the files now, so that a bad CA file is reported with its parameter at start-up.
        if !caFile.isEmpty {
            do { _ = try CertificateAuthorities.loadCAFile(caFile) } catch {
                throw TLSConfigurationError(parameter: caFileParameter, error)
            }
        }
        if !caPath.isEmpty {
            do { _ = try CertificateAuthorities.hashLinks(inCAPath: caPath) } catch {
                throw TLSConfigurationError(parameter: caPathParameter, error)
            }
        }
    }

    /// `SSL_CTX_load_verify_locations`, then the default paths when asked for.
    func apply(to context: OpaquePointer) throws(TLSConfigurationError) {
        guard !caFile.isEmpty || !caPath.isEmpty else { return }
        OpenSSLErrorQueue.clear()
        let loaded = SSL_CTX_load_verify_locations(
            context, caFile.isEmpty ? nil : caFile, caPath.isEmpty ? nil : caPath)
        guard loaded == 1 else {
            let parameter = caFile.isEmpty ? caPathParameter : caFileParameter
            throw TLSConfigurationError(
                .credential, parameter: parameter, path: caFile.isEmpty ? caPath : caFile,
                reason: "cannot load Certification Authority data, \(Self.describe(caFile, caPath))",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        if appendDefaultCA && SSL_CTX_set_default_verify_paths(context) != 1 {
            throw TLSConfigurationError(
                .openSSLFailure, parameter: "tls_append_default_CA",
                reason: "cannot set default OpenSSL certificate verification paths",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
    }

    private static func describe(_ caFile: String, _ caPath: String) -> String {
        var parts: [String] = []
        if !caFile.isEmpty { parts.append("CAfile=\"\(caFile)\"") }
        if !caPath.isEmpty { parts.append("CApath=\"\(caPath)\"") }
        return parts.joined(separator: ", ")
    }
}

/// A digest for certificate and public-key fingerprints (`smtpd_tls_fingerprint_digest`).
public struct TLSFingerprintDigest: Sendable, Hashable, CustomStringConvertible {
    /// The name as configured (`sha256`).
    public let name: String

    /// Checks that OpenSSL can compute the digest (Postfix's `tls_validate_digest()`).
    public init(_ name: String, parameter: String) throws(TLSConfigurationError) {
        guard let md = EVP_get_digestbyname(name), let context = EVP_MD_CTX_new() else {
            throw TLSConfigurationError(
                .unknownDigest, parameter: parameter, reason: "\(parameter): Digest algorithm \"\(name)\" not found")
        }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, md, nil) == 1 else {
            OpenSSLErrorQueue.clear()
            throw TLSConfigurationError(
                .unknownDigest, parameter: parameter,
                reason: "\(parameter): Digest algorithm \"\(name)\" is not available in this OpenSSL")
        }
        self.name = name
    }

    public var description: String { name }

    var evp: OpaquePointer? { EVP_get_digestbyname(name) }

    /// The digest of `bytes`, in Postfix's fingerprint form: uppercase hex pairs joined by colons.
    func fingerprint(of bytes: [UInt8]) -> String {
        Digest.colonHex(digest(of: bytes))
    }

    func digest(of bytes: [UInt8]) -> [UInt8] {
        guard let md = evp else { return [] }
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_Digest(bytes, bytes.count, &output, &length, md, nil) == 1 else {
            OpenSSLErrorQueue.clear()
            return []
        }
        return Array(output.prefix(Int(length)))
    }
}
