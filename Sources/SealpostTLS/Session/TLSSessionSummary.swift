internal import COpenSSL

/// Postfix's words for a finished handshake: the level-1 summary line (`tls_log_summary()` in `tls_misc.c`) and the
/// TLS part of smtpd's Received header (`smtpd.c`).
extension TLSSessionInfo {
    /// Whether the session was made just now or resumed from an earlier one (the summary's "established" or
    /// "reused"; Postfix's smtpd and smtp always say "established" after a handshake, resumed or not).
    public enum Usage: Sendable {
        case established, reused
    }

    /// The summary line, exactly as Postfix logs it at level 1:
    ///
    /// `Anonymous TLS connection established from host[addr]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256
    /// bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256`
    ///
    /// `peer` is `host[addr]` (server) or `host[addr]:port` (client); `sni` is a server's accepted SNI name, which
    /// Postfix appends as ` to name`. Before TLS 1.3 the line ends after the cipher bits; details OpenSSL does not
    /// know are left out.
    public func summaryLine(peer: String, usage: Usage = .established, sni: String? = nil) -> String {
        let direction = role == .client ? "to" : "from"
        let serverSNI = role == .server ? sni : nil
        var line = "\(trust.rawValue) TLS connection \(usage == .established ? "established" : "reused") \(direction) "
            + "\(peer)\(serverSNI.map { " to \($0)" } ?? ""): \(protocolVersion) with cipher \(cipher) "
            + "(\(cipherBits)/\(cipherAlgorithmBits) bits)"
        for part in detailParts() { line += " " + part }
        return line
    }

    /// The lines smtpd adds to its Received header with `smtpd_tls_received_header = yes`, each a continuation line
    /// starting with a tab:
    ///
    /// ```
    /// 	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
    /// 	 key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)
    /// 	(No client certificate requested)
    /// ```
    ///
    /// The last line is `(Client CN "…", Issuer "…" (verified OK))` or `(… (not verified))` when the client sent a
    /// certificate, `(Client did not present a certificate)` when one was asked for, else
    /// `(No client certificate requested)`. Names are sanitised as smtpd's `comment_sanitize()` does.
    public var receivedHeaderLines: [String] {
        var lines: [String] = []
        var current = "\t(using \(protocolVersion) with cipher \(cipher) (\(cipherBits)/\(cipherAlgorithmBits) bits)"
        var continued = false
        if reportsHandshakeDetails, let keyExchange {
            lines.append(current)
            current = "\t key-exchange " + Self.describe(keyExchange)
            continued = true
        }
        if reportsHandshakeDetails, let serverSignature {
            if continued {
                current += " server-signature " + Self.describe(serverSignature, side: "server")
            } else {
                lines.append(current)
                current = "\t server-signature " + Self.describe(serverSignature, side: "server")
            }
        }
        if reportsHandshakeDetails, let clientSignature {
            lines.append(current)
            current = "\t client-signature " + Self.describe(clientSignature, side: "client")
        }
        lines.append(current + ")")
        if peerCommonName != nil {
            let subject = Self.commentSanitized(peerCommonName ?? "")
            let issuer = Self.commentSanitized(issuerCommonName ?? "")
            let verdict = trust == .trusted || trust == .verified ? "verified OK" : "not verified"
            lines.append("\t(Client CN \"\(subject)\", Issuer \"\(issuer)\" (\(verdict)))")
        } else if clientCertificateRequested {
            lines.append("\t(Client did not present a certificate)")
        } else {
            lines.append("\t(No client certificate requested)")
        }
        return lines
    }

    /// Postfix's line about a peer certificate that did not verify (`tls_log_verify_error()`), logged when the
    /// certificate is not trusted and untrusted certificates are logged (a required client certificate, a client
    /// level that must match, or the `untrusted` log feature); nil when there was no error. `peer` as in
    /// ``summaryLine(peer:usage:sni:)``.
    public func verificationFailureLine(peer: String) -> String? {
        guard let error = verificationError, error.code != Int(X509_V_OK) else { return nil }
        let purpose = error.depth > 0 ? "CA" : role == .server ? "client" : "server"
        switch Int32(error.code) {
        case X509_V_ERR_CERT_UNTRUSTED:
            return "certificate verification failed for \(peer): not trusted by local or TLSA policy"
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            return "certificate verification failed for \(peer): self-signed certificate"
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return "certificate verification failed for \(peer): untrusted issuer \(error.issuer)"
        case X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
            return "\(purpose) certificate verification failed for \(peer): certificate not yet valid"
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
            return "\(purpose) certificate verification failed for \(peer): certificate has expired"
        case X509_V_ERR_INVALID_PURPOSE:
            return "certificate verification failed for \(peer): not designated for use as a \(purpose) certificate"
        case X509_V_ERR_CERT_CHAIN_TOO_LONG:
            return "certificate verification failed for \(peer): certificate chain longer than limit(\(error.depth - 1))"
        default:
            let text = String(cString: X509_verify_cert_error_string(error.code))
            return "\(purpose) certificate verification failed for \(peer): num=\(error.code):\(text)"
        }
    }

    /// Postfix's level-2 line about the peer certificate: `host[addr]: subject_CN=…, issuer=…, fingerprint=…,
    /// pkey_fingerprint=…` (a client writes `issuer_CN=`); nil without a peer certificate.
    public func peerCertificateLine(peer: String) -> String? {
        guard let subject = peerCommonName else { return nil }
        let issuerLabel = role == .server ? "issuer" : "issuer_CN"
        return "\(peer): subject_CN=\(subject), \(issuerLabel)=\(issuerCommonName ?? ""), "
            + "fingerprint=\(peerFingerprint ?? ""), pkey_fingerprint=\(peerPublicKeyFingerprint ?? "")"
    }

    /// ` key-exchange …`, ` server-signature …`, ` client-signature …` for TLS 1.3.
    private func detailParts() -> [String] {
        guard reportsHandshakeDetails else { return [] }
        var parts: [String] = []
        if let keyExchange { parts.append("key-exchange " + Self.describe(keyExchange)) }
        if let serverSignature { parts.append("server-signature " + Self.describe(serverSignature, side: "server")) }
        if let clientSignature { parts.append("client-signature " + Self.describe(clientSignature, side: "client")) }
        return parts
    }

    private static func describe(_ exchange: TLSKeyExchangeInfo) -> String {
        var text = exchange.name
        if let curve = exchange.curve, !curve.isEmpty {
            text += " (\(curve))"
        } else if let bits = exchange.bits, bits > 0 {
            text += " (\(bits) bits)"
        }
        return text
    }

    private static func describe(_ signature: TLSHandshakeSignature, side: String) -> String {
        var text = signature.algorithm
        if let curve = signature.curve, !curve.isEmpty {
            text += " (\(curve))"
        } else if let bits = signature.bits, bits > 0 {
            text += " (\(bits) bits)"
        }
        if let digest = signature.digest, !digest.isEmpty {
            text += " \(side)-digest \(digest)"
        }
        return text
    }

    /// smtpd's `comment_sanitize()`: non-ASCII, non-printable characters and backslashes become `?`, an unbalanced
    /// `)` becomes `?`, and missing `)` are appended.
    static func commentSanitized(_ text: String) -> String {
        var output: [UInt8] = []
        var open = 0
        for byte in text.utf8 {
            if byte >= 0x80 || byte < 0x20 || byte == 0x7f || byte == UInt8(ascii: "\\") {
                output.append(UInt8(ascii: "?"))
            } else if byte == UInt8(ascii: "(") {
                open += 1
                output.append(byte)
            } else if byte == UInt8(ascii: ")") {
                if open > 0 {
                    open -= 1
                    output.append(byte)
                } else {
                    output.append(UInt8(ascii: "?"))
                }
            } else {
                output.append(byte)
            }
        }
        output += [UInt8](repeating: UInt8(ascii: ")"), count: open)
        return String(decoding: output, as: UTF8.self)
    }
}
