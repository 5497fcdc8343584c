internal import COpenSSL
internal import CSealpostShims

/// One `-----BEGIN label-----` … `-----END label-----` block of a PEM file, base64 already decoded.
struct PEMObject: Sendable {
    /// The label between BEGIN and the dashes: `CERTIFICATE`, `PRIVATE KEY`, `DH PARAMETERS`, …
    let label: String
    /// RFC 1421 header lines (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`); empty for most objects.
    let headers: String
    /// The DER bytes.
    let der: [UInt8]
    /// Its position in the file, counting every object from 1, as Postfix counts them in its messages.
    let number: Int

    /// How a private key object is encoded, when it is one.
    enum PrivateKeyEncoding: Equatable {
        /// PKCS#8 `PRIVATE KEY`, any algorithm.
        case pkcs8
        /// A traditional per-algorithm structure (`RSA PRIVATE KEY`, …), with OpenSSL's key type name.
        case typeSpecific(String)
        /// PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional key with `Proc-Type: 4,ENCRYPTED`.
        case encrypted
        /// A label that ends in PRIVATE KEY but that OpenSSL cannot load (`OPENSSH PRIVATE KEY`, …).
        case unsupported
    }

    /// Whether this is a certificate OpenSSL reads as one (`CERTIFICATE`, `X509 CERTIFICATE`, `TRUSTED CERTIFICATE`).
    var isCertificate: Bool {
        label == "CERTIFICATE" || label == "X509 CERTIFICATE" || label == "TRUSTED CERTIFICATE"
    }

    /// The private key encoding, or nil when this object is not a private key.
    var privateKeyEncoding: PrivateKeyEncoding? {
        guard label.hasSuffix("PRIVATE KEY") else { return nil }
        if label == "ENCRYPTED PRIVATE KEY" || headers.contains("ENCRYPTED") {
            return .encrypted
        }
        switch label {
        case "PRIVATE KEY": return .pkcs8
        case "RSA PRIVATE KEY": return .typeSpecific("RSA")
        case "EC PRIVATE KEY": return .typeSpecific("EC")
        case "DSA PRIVATE KEY": return .typeSpecific("DSA")
        default: return .unsupported
        }
    }
}

/// Splits PEM text into its objects with OpenSSL's own reader (`PEM_read_bio`), which skips text between them.
enum PEMReader {
    /// Every PEM object in `bytes`, in order; throws `notPEM` when there is none and `invalidPEM` for a damaged one.
    static func objects(
        in bytes: [UInt8], path: String, role: CredentialFileRole
    ) throws(TLSCredentialError) -> [PEMObject] {
        guard let bio = MemoryBIO(reading: bytes) else {
            throw TLSCredentialError(
                .fileUnreadable, path: path, reason: "cannot read \(role.rawValue) \(path): out of memory",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        var objects: [PEMObject] = []
        OpenSSLErrorQueue.clear()
        while true {
            var name: UnsafeMutablePointer<CChar>?
            var header: UnsafeMutablePointer<CChar>?
            var data: UnsafeMutablePointer<UInt8>?
            var length: Int = 0
            let ok = PEM_read_bio(bio.pointer, &name, &header, &data, &length)
            defer {
                sealpost_openssl_free(name)
                sealpost_openssl_free(header)
                sealpost_openssl_free(data)
            }
            if ok == 0 {
                if OpenSSLErrorQueue.peekLastReason() == PEM_R_NO_START_LINE {
                    OpenSSLErrorQueue.clear()
                    break
                }
                throw TLSCredentialError(
                    .invalidPEM, path: path,
                    reason: "\(role.rawValue) \(path): PEM object number \(objects.count + 1) is damaged",
                    openSSLErrors: OpenSSLErrorQueue.drain())
            }
            let der = data.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
            objects.append(PEMObject(
                label: name.map { String(cString: $0) } ?? "",
                headers: header.map { String(cString: $0) } ?? "",
                der: der,
                number: objects.count + 1))
        }
        if objects.isEmpty {
            throw TLSCredentialError(
                .notPEM, path: path,
                reason: "\(role.rawValue) \(path) holds no PEM data (expected \"-----BEGIN …-----\" blocks)")
        }
        return objects
    }
}
