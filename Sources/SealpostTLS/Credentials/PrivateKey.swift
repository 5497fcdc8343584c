#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
internal import COpenSSL
internal import CSealpostShims

/// What a private key is, without its secret.
public struct PrivateKeyDetails: Sendable, Hashable {
    /// The algorithm and size.
    public var keyType: KeyType
    /// SHA-256 of the DER SubjectPublicKeyInfo of its public half, lowercase hex (TLSA `3 1 1` data).
    public var subjectPublicKeyInfoSHA256: String
}

/// An unencrypted private key loaded into OpenSSL.
///
/// Immutable once loaded; OpenSSL's `EVP_PKEY` is safe to use from several threads, hence `@unchecked Sendable`.
public final class PrivateKey: @unchecked Sendable, CustomStringConvertible {
    /// The owned `EVP_PKEY`, freed in `deinit`; never leaves the module.
    let pointer: OpaquePointer
    /// The algorithm, size and public-key hash.
    public let details: PrivateKeyDetails

    /// Takes ownership of an `EVP_PKEY` reference.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
        self.details = PrivateKeyDetails(
            keyType: KeyType(evpKey: pointer),
            subjectPublicKeyInfoSHA256: Digest.lowercaseHex(Digest.sha256(Digest.subjectPublicKeyInfo(of: pointer))))
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// The key type and public-key hash; never the secret.
    public var description: String {
        "\(details.keyType) private key, SPKI SHA256 \(details.subjectPublicKeyInfoSHA256)"
    }

    /// The first private key in a PEM file (certificates in the same file are skipped, as OpenSSL does).
    ///
    /// Never asks for a password: an encrypted key (PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional key
    /// with `Proc-Type: 4,ENCRYPTED`) fails with `encryptedPrivateKey`.
    public static func loadPEMFile(_ path: String) throws(TLSCredentialError) -> PrivateKey {
        let bytes = try CredentialFile.contents(of: path, role: .privateKey)
        return try firstKey(inPEM: bytes, path: path, role: .privateKey)
    }

    /// The first private key in PEM text; `origin` names the text in errors.
    public static func parsePEM(_ pem: String, origin: String = "PEM text") throws(TLSCredentialError) -> PrivateKey {
        try firstKey(inPEM: Array(pem.utf8), path: origin, role: .privateKey)
    }

    /// Whether the first private key in a PEM file is encrypted; reads the file, never decrypts.
    public static func isEncryptedPEMFile(_ path: String) throws(TLSCredentialError) -> Bool {
        let bytes = try CredentialFile.contents(of: path, role: .privateKey)
        let objects = try PEMReader.objects(in: bytes, path: path, role: .privateKey)
        return objects.lazy.compactMap(\.privateKeyEncoding).first == .encrypted
    }

    static func firstKey(
        inPEM bytes: [UInt8], path: String, role: CredentialFileRole
    ) throws(TLSCredentialError) -> PrivateKey {
        let objects = try PEMReader.objects(in: bytes, path: path, role: role)
        guard let object = objects.first(where: { $0.privateKeyEncoding != nil }) else {
            let labels = Set(objects.map(\.label)).sorted().joined(separator: ", ")
            throw TLSCredentialError(
                .noPrivateKey, path: path, reason: "\(role.rawValue) \(path) holds no private key (only \(labels))")
        }
        return try PrivateKey(decoding: object, path: path, role: role)
    }

    /// The refusal OpenSSL gets whenever it wants a password: -1 is failure (0 would mean "the empty password").
    private static let refusePassword: @convention(c) (
        UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?
    ) -> Int32 = { _, _, _, _ in -1 }

    /// Decodes one PEM private key object; an encrypted one is reported, never decrypted.
    convenience init(decoding object: PEMObject, path: String, role: CredentialFileRole) throws(TLSCredentialError) {
        let structure: String?
        let keyType: String?
        switch object.privateKeyEncoding {
        case .pkcs8?:
            structure = "PrivateKeyInfo"
            keyType = nil
        case .typeSpecific(let type)?:
            structure = "type-specific"
            keyType = type
        case .encrypted?:
            throw TLSCredentialError(
                .encryptedPrivateKey, path: path,
                reason: "\(role.rawValue) \(path): the private key (PEM object number \(object.number)) is encrypted; "
                    + "Sealpost needs an unencrypted key (the private key must not be encrypted) — "
                    + "decrypt it with: openssl pkey -in \(path) -out \(path).plain")
        case .unsupported?, nil:
            throw TLSCredentialError(
                .invalidPrivateKey, path: path,
                reason: "\(role.rawValue) \(path): PEM object number \(object.number) is a \"\(object.label)\", "
                    + "which OpenSSL cannot use; convert it to PKCS#8 (\"PRIVATE KEY\")")
        }

        // The decoder keeps these pointers until it is freed, so they must outlive it: no temporary
        // C strings bridged from Swift Strings here.
        let inputType = strdup("DER")
        let structureName = structure.flatMap { strdup($0) }
        let keyTypeName = keyType.flatMap { strdup($0) }
        defer {
            free(inputType)
            free(structureName)
            free(keyTypeName)
        }

        OpenSSLErrorQueue.clear()
        var key: OpaquePointer?
        guard let decoder = OSSL_DECODER_CTX_new_for_pkey(
            &key, inputType, structureName, keyTypeName, sealpost_evp_pkey_keypair_selection(), nil, nil)
        else {
            throw TLSCredentialError(
                .invalidPrivateKey, path: path,
                reason: "\(role.rawValue) \(path): no OpenSSL decoder for the private key (PEM object number \(object.number))",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        defer { OSSL_DECODER_CTX_free(decoder) }
        // A safety net only: encrypted objects were turned away above, so this should never be asked.
        _ = OSSL_DECODER_CTX_set_pem_password_cb(decoder, PrivateKey.refusePassword, nil)

        let (decoded, remaining): (Bool, Int) = object.der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            var remaining = buffer.count
            let ok = OSSL_DECODER_from_data(decoder, &cursor, &remaining) == 1
            return (ok, remaining)
        }
        guard decoded, let key else {
            throw TLSCredentialError(
                .invalidPrivateKey, path: path,
                reason: "\(role.rawValue) \(path): the private key (PEM object number \(object.number)) does not decode",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        guard remaining == 0 else {
            EVP_PKEY_free(key)
            throw TLSCredentialError(
                .invalidPrivateKey, path: path,
                reason: "\(role.rawValue) \(path): the private key (PEM object number \(object.number)) has excess data after its end")
        }
        OpenSSLErrorQueue.clear()
        self.init(taking: key)
    }

    /// Whether this key is the private half of the certificate's public key (`X509_check_private_key`).
    public func matches(_ certificate: Certificate) -> Bool {
        OpenSSLErrorQueue.clear()
        defer { OpenSSLErrorQueue.clear() }
        return X509_check_private_key(certificate.pointer, pointer) == 1
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    public var pemEncoded: String {
        OpenSSLErrorQueue.clear()
        guard let bio = MemoryBIO(), PEM_write_bio_PrivateKey(bio.pointer, pointer, nil, nil, 0, nil, nil) == 1 else {
            OpenSSLErrorQueue.clear()
            return ""
        }
        return bio.text
    }
}
