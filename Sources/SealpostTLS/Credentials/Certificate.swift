internal import COpenSSL
internal import CSealpostShims

/// An X.509 certificate loaded into OpenSSL, ready to be handed to a TLS context later.
///
/// Immutable once loaded; OpenSSL's `X509` is safe to read from several threads, hence `@unchecked Sendable`.
public final class Certificate: @unchecked Sendable, CustomStringConvertible {
    /// The owned `X509`, freed in `deinit`; never leaves the module.
    let pointer: OpaquePointer
    /// What the certificate says, read once at load time.
    public let details: CertificateDetails

    /// Takes ownership of an `X509` reference.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
        self.details = CertificateDetails(x509: pointer)
    }

    deinit {
        X509_free(pointer)
    }

    /// The subject and fingerprint, for logs.
    public var description: String {
        "\(details.displayName) SHA256 \(details.sha256Fingerprint)"
    }

    /// All certificates in a PEM file, in file order (for a server: leaf first, then its issuers).
    ///
    /// Other PEM objects (a private key in the same file, parameters) are skipped, as OpenSSL's
    /// `SSL_CTX_use_certificate_chain_file` skips them. Throws `noCertificate` when there is none.
    public static func loadPEMFile(_ path: String) throws(TLSCredentialError) -> [Certificate] {
        let bytes = try CredentialFile.contents(of: path, role: .certificate)
        return try certificates(inPEM: bytes, path: path, role: .certificate)
    }

    /// All certificates in PEM text; `origin` names the text in errors.
    public static func parsePEM(_ pem: String, origin: String = "PEM text") throws(TLSCredentialError) -> [Certificate] {
        try certificates(inPEM: Array(pem.utf8), path: origin, role: .certificate)
    }

    static func certificates(
        inPEM bytes: [UInt8], path: String, role: CredentialFileRole
    ) throws(TLSCredentialError) -> [Certificate] {
        let objects = try PEMReader.objects(in: bytes, path: path, role: role)
        let certificates = try objects.filter(\.isCertificate).map { (object) throws(TLSCredentialError) in
            try Certificate(decoding: object, path: path, role: role)
        }
        if certificates.isEmpty {
            let labels = Set(objects.map(\.label)).sorted().joined(separator: ", ")
            throw TLSCredentialError(
                .noCertificate, path: path, reason: "\(role.rawValue) \(path) holds no certificate (only \(labels))")
        }
        return certificates
    }

    /// Decodes one PEM certificate object, rejecting data after the certificate's end as Postfix does.
    convenience init(decoding object: PEMObject, path: String, role: CredentialFileRole) throws(TLSCredentialError) {
        OpenSSLErrorQueue.clear()
        let trusted = object.label == "TRUSTED CERTIFICATE"
        let (decoded, consumed): (OpaquePointer?, Int) = object.der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            let certificate = trusted
                ? d2i_X509_AUX(nil, &cursor, buffer.count)
                : d2i_X509(nil, &cursor, buffer.count)
            return (certificate, cursor.map { $0 - buffer.baseAddress! } ?? 0)
        }
        guard let decoded else {
            throw TLSCredentialError(
                .invalidCertificate, path: path,
                reason: "\(role.rawValue) \(path): certificate (PEM object number \(object.number)) does not decode",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        guard consumed == object.der.count else {
            X509_free(decoded)
            throw TLSCredentialError(
                .invalidCertificate, path: path,
                reason: "\(role.rawValue) \(path): certificate (PEM object number \(object.number)) has excess data after its end")
        }
        self.init(taking: decoded)
    }

    /// Whether `issuer` names this certificate's issuer and its key verifies this certificate's signature.
    public func isIssued(by issuer: Certificate) -> Bool {
        OpenSSLErrorQueue.clear()
        defer { OpenSSLErrorQueue.clear() }
        guard X509_check_issued(issuer.pointer, pointer) == X509_V_OK,
              let issuerKey = X509_get0_pubkey(issuer.pointer)
        else { return false }
        return X509_verify(pointer, issuerKey) == 1
    }

    /// The certificate in PEM form (`-----BEGIN CERTIFICATE-----` …).
    public var pemEncoded: String {
        guard let bio = MemoryBIO(), PEM_write_bio_X509(bio.pointer, pointer) == 1 else {
            OpenSSLErrorQueue.clear()
            return ""
        }
        return bio.text
    }

    /// The DER encoding of the certificate.
    public var derEncoded: [UInt8] {
        let length = i2d_X509(pointer, nil)
        guard length > 0 else { return [] }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(pointer, &cursor)
        }
        return der
    }
}
