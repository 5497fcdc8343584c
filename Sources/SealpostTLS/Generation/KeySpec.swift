internal import COpenSSL
internal import CSealpostShims

/// Which kind of private key to generate.
public enum KeySpec: Sendable, Hashable, CustomStringConvertible {
    /// RSA with a modulus of `bits` bits (2048 to 16384).
    case rsa(bits: Int)
    /// ECDSA on a named curve, by OpenSSL short name (`prime256v1`, `secp384r1`) or NIST name (`P-256`).
    case ecdsa(curve: String)

    /// `RSA 2048`, `ECDSA prime256v1`.
    public var description: String {
        switch self {
        case .rsa(let bits): "RSA \(bits)"
        case .ecdsa(let curve): "ECDSA \(curve)"
        }
    }
}

extension PrivateKey {
    /// A fresh private key from OpenSSL's default random generator.
    public static func generate(_ spec: KeySpec) throws(TLSCredentialError) -> PrivateKey {
        OpenSSLErrorQueue.clear()
        let generated: OpaquePointer?
        switch spec {
        case .rsa(let bits):
            guard (2048...16384).contains(bits) else {
                throw TLSCredentialError(
                    .invalidArgument, path: "", reason: "RSA key size \(bits) is out of range; use 2048 to 16384 bits")
            }
            generated = sealpost_evp_rsa_gen(UInt32(bits))
        case .ecdsa(let curve):
            var nid = OBJ_sn2nid(curve)
            if nid == NID_undef { nid = EC_curve_nist2nid(curve) }
            // The SECG name of P-256, which `openssl ecparam` and postfix-tls (its default) accept.
            if nid == NID_undef && curve == "secp256r1" { nid = NID_X9_62_prime256v1 }
            guard nid != NID_undef, let shortName = OBJ_nid2sn(nid) else {
                throw TLSCredentialError(
                    .invalidArgument, path: "", reason: "unknown elliptic curve \"\(curve)\"; use prime256v1 (P-256) or secp384r1 (P-384)")
            }
            generated = sealpost_evp_ec_gen(shortName)
        }
        guard let generated else {
            throw TLSCredentialError(
                .keyGenerationFailed, path: "", reason: "OpenSSL could not generate a \(spec) key",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        return PrivateKey(taking: generated)
    }
}
