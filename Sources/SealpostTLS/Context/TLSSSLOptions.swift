internal import CSealpostShims
import SealpostConfig

/// The `SSL_OP_*` options Postfix's `tls_bug_bits()` computes from `tls_disable_workarounds` and
/// `tls_ssl_options`: all of OpenSSL's bug work-arounds (`SSL_OP_ALL`) minus the disabled ones, plus the enabled
/// optional behaviours — never the bits other parameters manage (server cipher preference, protocol exclusions).
public struct TLSSSLOptions: Sendable, Hashable {
    /// The options to set on a context (before the ones Sealpost manages itself).
    public var bits: UInt64

    /// `tls_disable_workarounds` names (Postfix's `ssl_bug_tweaks` table).
    static let workaroundNames = [
        "MICROSOFT_SESS_ID_BUG", "NETSCAPE_CHALLENGE_BUG", "LEGACY_SERVER_CONNECT", "NETSCAPE_REUSE_CIPHER_CHANGE_BUG",
        "CVE-2010-4180", "SSLREF2_REUSE_CERT_TYPE_BUG", "MICROSOFT_BIG_SSLV3_BUFFER", "MSIE_SSLV2_RSA_PADDING",
        "CVE-2005-2969", "SSLEAY_080_CLIENT_DH_BUG", "TLS_D5_BUG", "TLS_BLOCK_PADDING_BUG", "TLS_ROLLBACK_BUG",
        "DONT_INSERT_EMPTY_FRAGMENTS", "CRYPTOPRO_TLSEXT_BUG", "TLSEXT_PADDING",
    ]
    /// `tls_ssl_options` names (Postfix's `ssl_op_tweaks` table).
    static let optionNames = [
        "LEGACY_SERVER_CONNECT", "NO_TICKET", "NO_COMPRESSION", "NO_RENEGOTIATION",
        "NO_SESSION_RESUMPTION_ON_RENEGOTIATION", "PRIORITIZE_CHACHA", "ENABLE_MIDDLEBOX_COMPAT",
    ]

    public init(disabledWorkarounds: [String], enabledOptions: [String], warnings: inout [TLSConfigurationWarning]) {
        let all = sealpost_ctx_ssl_op_all()
        var bits = all
        if !disabledWorkarounds.isEmpty {
            bits &= ~Self.mask(disabledWorkarounds, names: Self.workaroundNames, parameter: "tls_disable_workarounds",
                               warnings: &warnings)
            bits &= ~SSLOptions.bit("SAFARI_ECDHE_ECDSA_BUG")
        }
        if !enabledOptions.isEmpty {
            let managed = SSLOptions.bit("CIPHER_SERVER_PREFERENCE") | SSLOptions.bit("IGNORE_UNEXPECTED_EOF")
                | TLSProtocolPolicy.allProtocolOptions
            let enable = Self.mask(enabledOptions, names: Self.optionNames, parameter: "tls_ssl_options", warnings: &warnings)
            bits |= enable & ~(all | managed)
        }
        self.bits = bits
    }

    init(_ configuration: ServiceConfiguration, warnings: inout [TLSConfigurationWarning]) {
        self.init(
            disabledWorkarounds: configuration.list("tls_disable_workarounds"),
            enabledOptions: configuration.list("tls_ssl_options"), warnings: &warnings)
    }

    /// Names (any case) or `0x…` hexadecimal masks; an unknown name is a warning, as with Postfix's NAME_MASK_WARN.
    private static func mask(
        _ words: [String], names: [String], parameter: String, warnings: inout [TLSConfigurationWarning]
    ) -> UInt64 {
        var mask: UInt64 = 0
        for word in words {
            if word.lowercased().hasPrefix("0x"), let value = UInt64(word.dropFirst(2), radix: 16) {
                mask |= value
            } else if let name = names.first(where: { $0.lowercased() == word.lowercased() }) {
                mask |= SSLOptions.lookup(name) ?? 0
            } else {
                warnings.append(TLSConfigurationWarning(parameter: parameter, "\(parameter): unknown name \"\(word)\""))
            }
        }
        return mask
    }
}
