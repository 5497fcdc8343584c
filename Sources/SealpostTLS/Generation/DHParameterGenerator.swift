internal import COpenSSL
internal import CSealpostShims

extension DHParameters {
    /// New PKCS#3 DH parameters with a safe prime of `bits` bits and generator 2, as `openssl dhparam`
    /// makes them; returns the PEM text (`-----BEGIN DH PARAMETERS-----`).
    ///
    /// Finding a safe prime takes seconds for 1024 bits and can take minutes for 2048 or more.
    public static func generatePEM(bits: Int) throws(TLSCredentialError) -> String {
        guard (512...8192).contains(bits) else {
            throw TLSCredentialError(.invalidArgument, path: "", reason: "DH prime size \(bits) is out of range; use 1024 to 8192 bits")
        }
        OpenSSLErrorQueue.clear()
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "DH", nil) else { throw failure(bits, "no DH support") }
        defer { EVP_PKEY_CTX_free(context) }
        // "DH" (not "DHX") generates a safe prime with a generator, the PKCS#3 form every TLS library reads.
        // Setting the type explicitly is not needed, and crashes OpenSSL 3.0's EVP_PKEY_CTX_set_dh_paramgen_type.
        guard EVP_PKEY_paramgen_init(context) == 1,
              EVP_PKEY_CTX_set_dh_paramgen_prime_len(context, Int32(bits)) == 1,
              EVP_PKEY_CTX_set_dh_paramgen_generator(context, 2) == 1
        else { throw failure(bits, "cannot set up parameter generation") }
        var generated: OpaquePointer?
        guard EVP_PKEY_paramgen(context, &generated) == 1, let generated else { throw failure(bits, "generation failed") }
        defer { EVP_PKEY_free(generated) }
        guard let bio = MemoryBIO(), PEM_write_bio_Parameters(bio.pointer, generated) == 1 else {
            throw failure(bits, "cannot encode the parameters as PEM")
        }
        return bio.text
    }

    private static func failure(_ bits: Int, _ what: String) -> TLSCredentialError {
        TLSCredentialError(
            .keyGenerationFailed, path: "", reason: "\(bits)-bit DH parameters: \(what)", openSSLErrors: OpenSSLErrorQueue.drain())
    }
}
