internal import COpenSSL
internal import CSealpostShims
import SealpostConfig

/// The TLS protocol versions one `*_tls_protocols` / `*_tls_mandatory_protocols` value allows, as Postfix 3.7
/// hands them to OpenSSL.
///
/// Postfix's `tls_proto_mask_lims()` turns the list into three things, and `tls_server_init()` /
/// `tls_client_start()` apply all three: an exclusion mask (`!name`, or every known version missing from a list
/// of bare names) set as `SSL_OP_NO_*` options, and a floor (`>=`) and ceiling (`<=`) set with
/// `SSL_CTX_set_min_proto_version` / `SSL_CTX_set_max_proto_version` — 0 when absent, which OpenSSL reads as
/// "no bound", so an include list such as the seed's obsolete `TLSv1` works through the mask alone.
///
/// Postfix also sets the OpenSSL security level to 0 on its contexts (`SSL_CTX_set_security_level(ctx, 0)`,
/// "backwards compatible security as a base for opportunistic TLS"), so TLS 1.0 and 1.1 — which OpenSSL 3 refuses
/// at its default level 1 because their handshake signatures use SHA-1 — stay usable when the list allows them.
public struct TLSProtocolPolicy: Sendable, Hashable {
    /// The parameter the list came from (`smtpd_tls_mandatory_protocols`), for messages.
    public var parameter: String
    /// The parsed value.
    public var selection: TLSProtocolSelection

    public init(parameter: String, selection: TLSProtocolSelection) {
        self.parameter = parameter
        self.selection = selection
    }

    /// The versions OpenSSL 3 can still negotiate (SSLv2 and SSLv3 are not built into Debian's OpenSSL).
    public var allowedVersions: [TLSProtocolSelection.Version] {
        selection.allowedVersions.filter { $0 >= .tlsv1 }
    }

    /// The `SSL_OP_NO_*` bits for the excluded versions (Postfix's `TLS_SSL_OP_PROTOMASK`).
    var exclusionOptions: UInt64 {
        var options: UInt64 = 0
        for version in selection.excluded {
            options |= Self.option(for: version)
        }
        return options
    }

    /// All `SSL_OP_NO_*` protocol bits, for clearing a context default before a per-connection policy.
    static var allProtocolOptions: UInt64 {
        TLSProtocolSelection.Version.allCases.reduce(0) { $0 | option(for: $1) }
    }

    private static func option(for version: TLSProtocolSelection.Version) -> UInt64 {
        let name: String
        switch version {
        case .sslv2: name = "NO_SSLv2"
        case .sslv3: name = "NO_SSLv3"
        case .tlsv1: name = "NO_TLSv1"
        case .tlsv1_1: name = "NO_TLSv1_1"
        case .tlsv1_2: name = "NO_TLSv1_2"
        case .tlsv1_3: name = "NO_TLSv1_3"
        }
        return SSLOptions.bit(name)
    }

    /// Refuses a list that leaves OpenSSL nothing to negotiate (Postfix would start and fail every handshake).
    func validate() throws(TLSConfigurationError) {
        if allowedVersions.isEmpty {
            throw TLSConfigurationError(
                .invalidProtocols, parameter: parameter,
                reason: "\(parameter) = \(selection.text): no TLS protocol version is left "
                    + "(OpenSSL 3 supports TLSv1 to TLSv1.3)")
        }
    }

    /// Applies the mask and the bounds to a context; a bound OpenSSL does not know is a warning, as in Postfix.
    func apply(to context: OpaquePointer, warnings: inout [TLSConfigurationWarning]) {
        let mask = exclusionOptions
        if mask != 0 { _ = sealpost_ctx_set_options(context, mask) }
        if sealpost_ctx_set_min_proto_version(context, Int32(selection.minimumWireVersion)) != 1 {
            OpenSSLErrorQueue.clear()
            warnings.append(TLSConfigurationWarning(
                parameter: parameter, "\(parameter): error setting minimum TLS version to: "
                    + Self.hex(selection.minimumWireVersion)))
        }
        if sealpost_ctx_set_max_proto_version(context, Int32(selection.maximumWireVersion)) != 1 {
            OpenSSLErrorQueue.clear()
            warnings.append(TLSConfigurationWarning(
                parameter: parameter, "\(parameter): error setting maximum TLS version to: "
                    + Self.hex(selection.maximumWireVersion)))
        }
    }

    /// Applies the policy to one connection, replacing whatever protocol options its context set.
    func apply(toConnection ssl: OpaquePointer) -> Bool {
        _ = sealpost_ctx_ssl_clear_options(ssl, Self.allProtocolOptions)
        let mask = exclusionOptions
        if mask != 0 { _ = sealpost_ctx_ssl_set_options(ssl, mask) }
        let floor = sealpost_ctx_ssl_set_min_proto_version(ssl, Int32(selection.minimumWireVersion)) == 1
        let ceiling = sealpost_ctx_ssl_set_max_proto_version(ssl, Int32(selection.maximumWireVersion)) == 1
        OpenSSLErrorQueue.clear()
        return floor && ceiling
    }

    static func hex(_ version: Int) -> String {
        let digits = String(version, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

extension TLSProtocolSelection {
    /// The selection written back in Postfix syntax, for messages: `>=TLSv1.2`, `TLSv1` (an include list),
    /// `!SSLv2, !SSLv3`.
    public var text: String {
        if usesIncludeList {
            let included = Version.allCases.filter { !excluded.contains($0) }.map(\.name)
            return included.joined(separator: ", ")
        }
        var words: [String] = []
        if minimumWireVersion != 0 { words.append(">=" + Self.boundName(minimumWireVersion)) }
        if maximumWireVersion != 0 { words.append("<=" + Self.boundName(maximumWireVersion)) }
        words += Version.allCases.filter { excluded.contains($0) }.map { "!" + $0.name }
        return words.isEmpty ? "(empty)" : words.joined(separator: ", ")
    }

    private static func boundName(_ wire: Int) -> String {
        Version(rawValue: wire)?.name ?? TLSProtocolPolicy.hex(wire)
    }
}

/// OpenSSL's `SSL_OP_*` bits by name, through the shim (the macros are 64-bit shifts Swift cannot import).
enum SSLOptions {
    /// The bit for a known name; 0 for names OpenSSL 3 has retired (and for unknown names, which are a
    /// programming error here).
    static func bit(_ name: String) -> UInt64 {
        var found: Int32 = 0
        let value = sealpost_ctx_ssl_option(name, &found)
        assert(found == 1, "unknown SSL_OP_ name \(name)")
        return value
    }

    /// The bit for a name from a parameter (case-insensitive), or nil when OpenSSL has no such option.
    static func lookup(_ name: String) -> UInt64? {
        var found: Int32 = 0
        let value = sealpost_ctx_ssl_option(name, &found)
        return found == 1 ? value : nil
    }
}
