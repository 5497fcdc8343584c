internal import COpenSSL
internal import CSealpostShims

/// Makes PKCS#10 certificate signing requests for a server key, as `postfix tls output-server-csr` does.
public enum CertificateSigningRequest {
    /// A CSR for `key`, signed by it with SHA-256, as PEM (`-----BEGIN CERTIFICATE REQUEST-----`).
    ///
    /// Like postfix-tls, the subject is empty and the names go in the requested extensions: a
    /// subjectAltName with each of `names` (DNS names; IP addresses as such), a subject key identifier,
    /// and the extended key usages serverAuth and clientAuth. A CA takes the names from there.
    public static func generate(key: PrivateKey, names: [String]) throws(TLSCredentialError) -> String {
        guard !names.isEmpty else {
            throw TLSCredentialError(.invalidArgument, path: "", reason: "a certificate signing request needs at least one name")
        }
        for name in names where !SelfSignedCertificate.isUsableSubjectAlternativeName(name) {
            throw TLSCredentialError(.invalidArgument, path: "", reason: "\"\(name)\" is neither a DNS name nor an IP address")
        }

        OpenSSLErrorQueue.clear()
        guard let request = X509_REQ_new() else { throw failure("out of memory") }
        defer { X509_REQ_free(request) }
        guard X509_REQ_set_version(request, 0) == 1 else { throw failure("cannot set the version") }
        guard let subject = X509_NAME_new() else { throw failure("out of memory") }
        defer { X509_NAME_free(subject) }
        guard X509_REQ_set_subject_name(request, subject) == 1 else { throw failure("cannot set the empty subject") }
        // The subject key identifier is computed from the request's public key, so it must be set first.
        guard X509_REQ_set_pubkey(request, key.pointer) == 1 else { throw failure("cannot set the public key") }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, nil, nil, request, nil, 0)
        let alternativeNames = names.map { CertificateBuilder.ipAddressBytes($0) == nil ? "DNS:\($0)" : "IP:\($0)" }
        guard let extensions = OPENSSL_sk_new_null() else { throw failure("out of memory") }
        defer {
            while OPENSSL_sk_num(extensions) > 0 {
                X509_EXTENSION_free(OpaquePointer(OPENSSL_sk_pop(extensions)))
            }
            OPENSSL_sk_free(extensions)
        }
        for (nid, value) in [
            (NID_subject_key_identifier, "hash"),
            (NID_ext_key_usage, "serverAuth,clientAuth"),
            (NID_subject_alt_name, alternativeNames.joined(separator: ",")),
        ] {
            guard let made = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw failure("cannot make the extension \(String(cString: OBJ_nid2sn(nid))) = \(value)")
            }
            guard OPENSSL_sk_push(extensions, UnsafeRawPointer(made)) > 0 else {
                X509_EXTENSION_free(made)
                throw failure("out of memory")
            }
        }
        guard X509_REQ_add_extensions(request, extensions) == 1 else { throw failure("cannot add the extensions") }
        guard X509_REQ_sign(request, key.pointer, EVP_sha256()) > 0 else { throw failure("cannot sign the request") }

        guard let bio = MemoryBIO(), PEM_write_bio_X509_REQ(bio.pointer, request) == 1 else {
            throw failure("cannot encode the request as PEM")
        }
        return bio.text
    }

    private static func failure(_ what: String) -> TLSCredentialError {
        TLSCredentialError(
            .certificateGenerationFailed, path: "", reason: "certificate signing request: \(what)",
            openSSLErrors: OpenSSLErrorQueue.drain())
    }
}
