internal import COpenSSL

/// A public-key algorithm, as a certificate or private key uses it.
public enum KeyAlgorithm: Sendable, Hashable, CustomStringConvertible {
    /// RSA (rsaEncryption).
    case rsa
    /// RSA restricted to PSS signatures (id-RSASSA-PSS).
    case rsaPSS
    /// ECDSA on a named curve; `curve` is OpenSSL's short name, such as `prime256v1` or `secp384r1`.
    case ec(curve: String)
    /// Ed25519.
    case ed25519
    /// Ed448.
    case ed448
    /// DSA.
    case dsa
    /// Anything else, by OpenSSL's type name.
    case other(String)

    /// The NIST name of an EC curve (`P-256` for `prime256v1`), nil for other algorithms or curves.
    public var nistCurveName: String? {
        guard case .ec(let curve) = self else { return nil }
        let nid = OBJ_sn2nid(curve)
        guard nid != NID_undef, let name = EC_curve_nid2nist(nid) else { return nil }
        return String(cString: name)
    }

    /// `RSA`, `EC P-256 (prime256v1)`, `Ed25519`, …
    public var description: String {
        switch self {
        case .rsa: "RSA"
        case .rsaPSS: "RSA-PSS"
        case .ec(let curve): nistCurveName.map { "EC \($0) (\(curve))" } ?? "EC \(curve)"
        case .ed25519: "Ed25519"
        case .ed448: "Ed448"
        case .dsa: "DSA"
        case .other(let name): name
        }
    }

    /// The certificate slot OpenSSL files a key under; one chain per slot fits in an `SSL_CTX`.
    var certificateSlot: String {
        switch self {
        case .rsa: "RSA"
        case .rsaPSS: "RSA-PSS"
        case .ec: "ECDSA"
        case .ed25519: "Ed25519"
        case .ed448: "Ed448"
        case .dsa: "DSA"
        case .other(let name): name
        }
    }
}

/// A key's algorithm and size: `RSA 2048`, `EC P-256 (prime256v1) 256`.
public struct KeyType: Sendable, Hashable, CustomStringConvertible {
    /// The algorithm, with the curve for EC keys.
    public var algorithm: KeyAlgorithm
    /// The size in bits as OpenSSL reports it (the modulus for RSA, the field for EC).
    public var bits: Int

    /// Creates a key type from its parts.
    public init(algorithm: KeyAlgorithm, bits: Int) {
        self.algorithm = algorithm
        self.bits = bits
    }

    /// `RSA 2048`, `EC P-256 (prime256v1)`, `Ed25519`: the size is left out where the algorithm fixes it.
    public var description: String {
        switch algorithm {
        case .rsa, .rsaPSS, .dsa, .other: "\(algorithm) \(bits)"
        case .ec, .ed25519, .ed448: "\(algorithm)"
        }
    }

    /// The type of an `EVP_PKEY` (borrowed, not freed here).
    init(evpKey key: OpaquePointer) {
        self.bits = Int(EVP_PKEY_get_bits(key))
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA: self.algorithm = .rsa
        case EVP_PKEY_RSA_PSS: self.algorithm = .rsaPSS
        case EVP_PKEY_ED25519: self.algorithm = .ed25519
        case EVP_PKEY_ED448: self.algorithm = .ed448
        case EVP_PKEY_DSA: self.algorithm = .dsa
        case EVP_PKEY_EC: self.algorithm = .ec(curve: KeyType.groupName(of: key) ?? "unknown")
        default:
            let name = EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "unknown"
            self.algorithm = name == "EC" ? .ec(curve: KeyType.groupName(of: key) ?? "unknown") : .other(name)
        }
    }

    private static func groupName(of key: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 80)
        var length = 0
        guard EVP_PKEY_get_group_name(key, &buffer, buffer.count, &length) == 1 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Digests and hex renderings shared by certificates and keys.
enum Digest {
    /// SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_Digest(bytes, bytes.count, &digest, &length, EVP_sha256(), nil) == 1 else {
            OpenSSLErrorQueue.clear()
            return []
        }
        return Array(digest.prefix(Int(length)))
    }

    /// `ab01ff…`: lowercase hex without separators, the form TLSA records use.
    static func lowercaseHex(_ bytes: [UInt8]) -> String {
        bytes.map { hexByte($0, uppercase: false) }.joined()
    }

    /// `AB:01:FF:…`: uppercase hex with colons, the form `openssl x509 -fingerprint` prints.
    static func colonHex(_ bytes: [UInt8]) -> String {
        bytes.map { hexByte($0, uppercase: true) }.joined(separator: ":")
    }

    private static func hexByte(_ byte: UInt8, uppercase: Bool) -> String {
        let digits = Array(uppercase ? "0123456789ABCDEF" : "0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }

    /// The DER SubjectPublicKeyInfo of an `EVP_PKEY` (borrowed).
    static func subjectPublicKeyInfo(of key: OpaquePointer) -> [UInt8] {
        let length = i2d_PUBKEY(key, nil)
        guard length > 0 else {
            OpenSSLErrorQueue.clear()
            return []
        }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_PUBKEY(key, &cursor)
        }
        return der
    }
}
