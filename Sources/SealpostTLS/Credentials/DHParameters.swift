internal import COpenSSL

/// What a DH parameter file holds.
public struct DHParameterDetails: Sendable, Hashable {
    /// The size of the prime in bits.
    public var primeBits: Int
    /// Whether the file uses the X9.42 form (`X9.42 DH PARAMETERS`, with q) rather than PKCS#3 (`DH PARAMETERS`).
    public var isX942: Bool
}

/// Finite-field Diffie-Hellman parameters for DHE cipher suites (`smtpd_tls_dh1024_param_file`).
///
/// Immutable once loaded, hence `@unchecked Sendable`.
public final class DHParameters: @unchecked Sendable {
    /// Primes shorter than this draw a warning (weakdh.org's advice; RFC 7919's smallest group).
    public static let recommendedMinimumBits = 2048

    /// The owned `EVP_PKEY` holding only domain parameters, freed in `deinit`.
    let pointer: OpaquePointer
    /// Prime size and form.
    public let details: DHParameterDetails

    init(taking pointer: OpaquePointer, isX942: Bool) {
        self.pointer = pointer
        self.details = DHParameterDetails(primeBits: Int(EVP_PKEY_get_bits(pointer)), isX942: isX942)
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// The first `DH PARAMETERS` or `X9.42 DH PARAMETERS` object in a PEM file.
    public static func loadPEMFile(_ path: String) throws(TLSCredentialError) -> DHParameters {
        let bytes = try CredentialFile.contents(of: path, role: .dhParameters)
        let objects = try PEMReader.objects(in: bytes, path: path, role: .dhParameters)
        guard let object = objects.first(where: { $0.label == "DH PARAMETERS" || $0.label == "X9.42 DH PARAMETERS" }) else {
            let labels = Set(objects.map(\.label)).sorted().joined(separator: ", ")
            throw TLSCredentialError(
                .notDHParameters, path: path,
                reason: "DH parameter file \(path) holds no \"DH PARAMETERS\" (only \(labels)); "
                    + "make one with: openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out \(path)")
        }
        let isX942 = object.label == "X9.42 DH PARAMETERS"
        OpenSSLErrorQueue.clear()
        let decoded: OpaquePointer? = object.der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_KeyParams(isX942 ? EVP_PKEY_DHX : EVP_PKEY_DH, nil, &cursor, buffer.count)
        }
        guard let decoded else {
            throw TLSCredentialError(
                .notDHParameters, path: path,
                reason: "DH parameter file \(path): PEM object number \(object.number) (\(object.label)) does not decode",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        return DHParameters(taking: decoded, isX942: isX942)
    }
}
