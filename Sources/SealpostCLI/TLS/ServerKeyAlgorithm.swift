import ArgumentParser
import SealpostTLS

/// The two server key algorithms postfix-tls knows, with their main.cf parameters and file names.
enum ServerKeyAlgorithm: String, CaseIterable, ExpressibleByArgument {
    case rsa, ecdsa

    /// postfix-tls's defaults: 2048-bit RSA, the P-256 curve.
    var defaultSize: String {
        switch self {
        case .rsa: "2048"
        case .ecdsa: "secp256r1"
        }
    }

    var keyParameter: String { self == .rsa ? "smtpd_tls_key_file" : "smtpd_tls_eckey_file" }
    var certificateParameter: String { self == .rsa ? "smtpd_tls_cert_file" : "smtpd_tls_eccert_file" }
    /// `key-` / `eckey-` before the time stamp.
    var keyFilePrefix: String { self == .rsa ? "key" : "eckey" }
    var certificateFilePrefix: String { self == .rsa ? "cert" : "eccert" }

    /// The key to generate for `-b` (bits for RSA, a curve name for ECDSA); nil `size` takes the default.
    func keySpec(size: String?) throws(ValidationError) -> KeySpec {
        let size = size ?? defaultSize
        switch self {
        case .rsa:
            guard let bits = Int(size) else { throw ValidationError("-b \(size): RSA key size must be a number of bits") }
            return .rsa(bits: bits)
        case .ecdsa:
            return .ecdsa(curve: size)
        }
    }

    /// The algorithm of a loaded key, or nil for one postfix-tls cannot deploy (Ed25519, DSA, ...).
    init?(_ algorithm: KeyAlgorithm) {
        switch algorithm {
        case .rsa: self = .rsa
        case .ec: self = .ecdsa
        default: return nil
        }
    }
}
