internal import COpenSSL
internal import CSealpostShims
import SealpostConfig

/// `smtpd_tls_eecdh_grade`.
///
/// Postfix ≥ 3.6 ignores this parameter and always behaves as `auto`; Postfix 3.2–3.5 used the one
/// `tls_eecdh_strong_curve` / `tls_eecdh_ultra_curve` for `strong` / `ultra`. Sealpost gives the grades their
/// documented meaning (the seed sets `strong` and describes it): `auto` offers `tls_eecdh_auto_curves`, `strong`
/// and `ultra` offer only their one curve, `none` offers no elliptic curve (ECDHE suites cannot be negotiated).
/// `tls_ffdhe_auto_groups` is offered after the curves in every grade (it is finite-field, not EECDH).
public enum TLSEECDHGrade: String, Sendable, Hashable, CaseIterable {
    case none, strong, ultra, auto
}

/// Key-exchange settings: the curve and FFDHE group lists, and the DHE parameters for TLS 1.2 `DHE-*` suites.
public struct TLSKeyExchangeSettings: Sendable {
    public var eecdhGrade: TLSEECDHGrade
    /// `tls_eecdh_auto_curves`.
    public var autoCurves: [String]
    /// `tls_eecdh_strong_curve`, `tls_eecdh_ultra_curve`.
    public var strongCurve: String
    public var ultraCurve: String
    /// `tls_ffdhe_auto_groups` (a Postfix 3.8 parameter; 3.7 has no FFDHE groups for TLS 1.3).
    public var ffdheGroups: [String]
    /// The parameters from `smtpd_tls_dh1024_param_file`; nil when it is empty or `auto`, which lets OpenSSL pick
    /// the group by the certificate's strength (`SSL_CTX_set_dh_auto`), as Postfix 3.7 does with OpenSSL 3:
    /// 2048 bits with an RSA-2048 certificate, 3072 with RSA-3072, 1024 for anonymous suites.
    public var dhParameters: DHParameters?
    /// The file the parameters came from (empty when none).
    public var dhParameterFile: String

    /// The group names the grade selects, in preference order.
    public var groupNames: [String] {
        let curves: [String]
        switch eecdhGrade {
        case .auto: curves = autoCurves
        case .strong: curves = [strongCurve]
        case .ultra: curves = [ultraCurve]
        case .none: curves = []
        }
        return curves + ffdheGroups
    }

    /// The settings from the `tls_*` parameters plus the service's grade and DH file parameters.
    init(
        _ configuration: ServiceConfiguration, gradeParameter: String?, dhParameter: String?,
        warnings: inout [TLSConfigurationWarning]
    ) throws(TLSConfigurationError) {
        self.eecdhGrade = gradeParameter.flatMap { TLSEECDHGrade(rawValue: configuration.string($0)) } ?? .auto
        self.autoCurves = configuration.list("tls_eecdh_auto_curves")
        self.strongCurve = configuration.string("tls_eecdh_strong_curve")
        self.ultraCurve = configuration.string("tls_eecdh_ultra_curve")
        self.ffdheGroups = configuration.list("tls_ffdhe_auto_groups")
        let file = dhParameter.map { configuration.string($0) } ?? ""
        self.dhParameterFile = file
        if let dhParameter, !file.isEmpty, file != "auto" {
            do {
                let parameters = try DHParameters.loadPEMFile(file)
                if parameters.details.primeBits < DHParameters.recommendedMinimumBits {
                    warnings.append(TLSConfigurationWarning(
                        parameter: dhParameter,
                        "\(dhParameter): the DH parameters in \(file) have a \(parameters.details.primeBits)-bit prime; "
                            + "2048 bits is the best-practice size"))
                }
                self.dhParameters = parameters
            } catch {
                throw TLSConfigurationError(parameter: dhParameter, error)
            }
        } else {
            self.dhParameters = nil
        }
    }

    /// Offers the groups to OpenSSL, as Postfix 3.8's `tls_auto_groups()` does: names OpenSSL does not know are
    /// skipped with a warning, names it knows but cannot use are skipped silently; when nothing is left, the
    /// Postfix defaults are tried, then OpenSSL's own defaults are kept (with a warning each time).
    func applyGroups(
        to context: OpaquePointer, parameter: String, warnings: inout [TLSConfigurationWarning]
    ) throws(TLSConfigurationError) {
        let configured = groupNames
        if eecdhGrade == .none && configured.isEmpty {
            throw TLSConfigurationError(
                .noKeyExchangeGroups, parameter: parameter,
                reason: "\(parameter) = none with an empty tls_ffdhe_auto_groups leaves no key exchange group, "
                    + "and TLS 1.3 cannot work without one")
        }
        if Self.setGroups(configured, on: context, origin: "configured", warnings: &warnings) { return }
        let defaults = Self.postfixDefaultCurves + Self.postfixDefaultFFDHEGroups
        if configured != defaults {
            warnings.append(TLSConfigurationWarning(parameter: parameter, "using Postfix default key exchange groups instead"))
            if Self.setGroups(defaults, on: context, origin: "Postfix default", warnings: &warnings) { return }
        }
        warnings.append(TLSConfigurationWarning(parameter: parameter, "using OpenSSL default key exchange groups instead"))
    }

    static let postfixDefaultCurves = ["X25519", "X448", "prime256v1", "secp521r1", "secp384r1"]
    static let postfixDefaultFFDHEGroups = ["ffdhe2048", "ffdhe3072"]

    private static func setGroups(
        _ names: [String], on context: OpaquePointer, origin: String, warnings: inout [TLSConfigurationWarning]
    ) -> Bool {
        guard !names.isEmpty else {
            warnings.append(TLSConfigurationWarning(
                parameter: "tls_eecdh_auto_curves", "no \(origin) key exchange group - OpenSSL requires at least one"))
            return false
        }
        let nids = usableGroupNIDs(names, warnings: &warnings)
        guard !nids.isEmpty else {
            warnings.append(TLSConfigurationWarning(
                parameter: "tls_eecdh_auto_curves", "none of the \(origin) key exchange groups are supported"))
            return false
        }
        OpenSSLErrorQueue.clear()
        guard sealpost_ctx_set1_groups(context, nids, Int32(nids.count)) == 1 else {
            warnings.append(TLSConfigurationWarning(
                parameter: "tls_eecdh_auto_curves", "failed to set up the \(origin) key exchange groups"))
            OpenSSLErrorQueue.clear()
            return false
        }
        return true
    }

    /// The NIDs of the names this OpenSSL can use for key exchange, in order, without duplicates.
    static func usableGroupNIDs(_ names: [String], warnings: inout [TLSConfigurationWarning]) -> [Int32] {
        guard let probe = SSL_CTX_new(TLS_method()) else { return [] }
        defer { SSL_CTX_free(probe) }
        var nids: [Int32] = []
        for name in names {
            var nid = EC_curve_nist2nid(name)
            if nid == NID_undef { nid = OBJ_sn2nid(name) }
            if nid == NID_undef { nid = OBJ_ln2nid(name) }
            if nid == NID_undef {
                warnings.append(TLSConfigurationWarning(
                    parameter: "tls_eecdh_auto_curves", "ignoring unknown key exchange group \"\(name)\""))
                continue
            }
            var single = nid
            OpenSSLErrorQueue.clear()
            if sealpost_ctx_set1_groups(probe, &single, 1) != 1 {
                OpenSSLErrorQueue.clear()
                continue
            }
            if !nids.contains(nid) { nids.append(nid) }
        }
        return nids
    }

    /// The DHE parameters: the file's, or OpenSSL's automatic choice.
    func applyDH(to context: OpaquePointer, parameter: String) throws(TLSConfigurationError) {
        OpenSSLErrorQueue.clear()
        if let dhParameters {
            guard let copy = EVP_PKEY_dup(dhParameters.pointer) else {
                throw TLSConfigurationError(
                    .openSSLFailure, parameter: parameter, path: dhParameterFile,
                    reason: "\(parameter): cannot copy the DH parameters from \(dhParameterFile)",
                    openSSLErrors: OpenSSLErrorQueue.drain())
            }
            guard SSL_CTX_set0_tmp_dh_pkey(context, copy) == 1 else {
                EVP_PKEY_free(copy)
                throw TLSConfigurationError(
                    .credential, parameter: parameter, path: dhParameterFile,
                    reason: "\(parameter): OpenSSL refuses the DH parameters in \(dhParameterFile)",
                    openSSLErrors: OpenSSLErrorQueue.drain())
            }
        } else if sealpost_ctx_set_dh_auto(context, 1) != 1 {
            throw TLSConfigurationError(
                .openSSLFailure, parameter: parameter, reason: "error configuring auto DH parameters",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
    }
}
