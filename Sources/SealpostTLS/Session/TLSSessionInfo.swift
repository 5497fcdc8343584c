internal import COpenSSL
internal import CSealpostShims

/// How far the peer's certificate is trusted, in the words of Postfix's summary line (`tls_log_summary()`).
public enum TLSTrustLevel: String, Sendable, Hashable {
    /// No peer certificate.
    case anonymous = "Anonymous"
    /// A certificate that does not verify (or was not checked against any CA).
    case untrusted = "Untrusted"
    /// A certificate that verifies against the CA file or path.
    case trusted = "Trusted"
    /// Client only: trusted and matching the destination (name, fingerprint or TLSA record) at a level that
    /// requires a match.
    case verified = "Verified"
}

/// The certificate verification error closest to the leaf (Postfix's `update_error_state()`): its depth in the
/// chain (0 = the peer's own certificate), OpenSSL's `X509_V_ERR_*` code, and the issuer of the certificate at
/// fault in OpenSSL's one-line form (`/CN=Sealpost Test CA/O=Sealpost Tests`).
public struct TLSVerificationError: Sendable, Hashable {
    public var depth: Int
    public var code: Int
    public var issuer: String
}

/// A signature made during the handshake: the algorithm name as Postfix logs it (`RSA-PSS` for any RSA key with
/// TLS 1.3, `ECDSA`, `ED25519`), the curve or key size, and the digest.
public struct TLSHandshakeSignature: Sendable, Hashable {
    public var algorithm: String
    /// The EC curve (`prime256v1`), nil for other keys.
    public var curve: String?
    /// The key size for RSA keys, nil otherwise.
    public var bits: Int?
    /// The digest (`SHA256`), nil when there is none (Ed25519) or it is unknown.
    public var digest: String?
}

/// The key exchange of a TLS 1.3 handshake: `X25519`, `ECDHE` with its curve, `DHE` with its size.
public struct TLSKeyExchangeInfo: Sendable, Hashable {
    public var name: String
    public var curve: String?
    public var bits: Int?
}

/// What a finished handshake tells, as Postfix's `tls_server_post_accept()` / `tls_client_post_connect()` and
/// `tls_get_signature_params()` collect it.
public struct TLSSessionInfo: Sendable, Hashable {
    /// `TLSv1.3`.
    public var protocolVersion: String
    /// `TLS_AES_256_GCM_SHA384`.
    public var cipher: String
    /// The cipher's effective and algorithm bits (256/256).
    public var cipherBits: Int
    public var cipherAlgorithmBits: Int
    /// Whether the session was resumed.
    public var isResumed: Bool
    /// The key exchange; always filled in when OpenSSL tells it, though Postfix logs it for TLS 1.3 only.
    public var keyExchange: TLSKeyExchangeInfo?
    /// The server's and the client's handshake signatures (the client's only when it sent a certificate).
    public var serverSignature: TLSHandshakeSignature?
    public var clientSignature: TLSHandshakeSignature?

    /// The peer certificate's subject CN (a verified DNS name when it has no CN), issuer CN (or O), fingerprint
    /// and public-key fingerprint in the configured digest; all nil without a peer certificate.
    public var peerCommonName: String?
    public var issuerCommonName: String?
    public var peerFingerprint: String?
    public var peerPublicKeyFingerprint: String?
    /// The peer's certificate chain as it sent it, leaf first (empty when none).
    public var peerCertificates: [Certificate]
    /// OpenSSL's verification result code (`X509_V_OK` = 0) and its text; nil without a peer certificate.
    public var verifyResult: Int?
    public var verifyResultText: String?
    /// The first verification error by chain depth, nil when the certificate verified (or none was sent).
    public var verificationError: TLSVerificationError?
    /// The SNI name the client sent (a server's view) or sent itself (a client's view).
    public var serverName: String?
    /// Server: the SNI name `tls_server_sni_maps` matched, whose chain was presented (Postfix's `peer_sni`); nil when
    /// the default chain was.
    public var acceptedServerName: String?
    /// Client: whether the peer matched the destination's names, fingerprints or TLSA records.
    public var matched: Bool
    /// Anonymous, Untrusted, Trusted or Verified, as Postfix decides.
    public var trust: TLSTrustLevel
    /// The role of the side that made this record.
    public var role: TLSContext.Role
    /// Server: whether a client certificate was requested (the Received header says which it was).
    public var clientCertificateRequested: Bool

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.protocolVersion == rhs.protocolVersion && lhs.cipher == rhs.cipher && lhs.cipherBits == rhs.cipherBits
            && lhs.cipherAlgorithmBits == rhs.cipherAlgorithmBits && lhs.isResumed == rhs.isResumed
            && lhs.keyExchange == rhs.keyExchange && lhs.serverSignature == rhs.serverSignature
            && lhs.clientSignature == rhs.clientSignature && lhs.peerCommonName == rhs.peerCommonName
            && lhs.issuerCommonName == rhs.issuerCommonName && lhs.peerFingerprint == rhs.peerFingerprint
            && lhs.peerPublicKeyFingerprint == rhs.peerPublicKeyFingerprint && lhs.verifyResult == rhs.verifyResult
            && lhs.matched == rhs.matched && lhs.trust == rhs.trust && lhs.role == rhs.role
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(protocolVersion)
        hasher.combine(cipher)
        hasher.combine(peerFingerprint)
        hasher.combine(isResumed)
    }

    /// Whether Postfix adds the key-exchange and signature details to its lines: only for TLS 1.3
    /// (`tls_get_signature_params()` returns early for older versions).
    public var reportsHandshakeDetails: Bool { protocolVersion == "TLSv1.3" }
}

extension TLSSessionInfo {
    /// Reads a finished handshake. `digest` is the fingerprint digest (`smtpd_tls_fingerprint_digest`).
    init(ssl: OpaquePointer, context: TLSContext, digest: TLSFingerprintDigest) {
        let isServer = SSL_is_server(ssl) == 1
        role = isServer ? .server : .client
        protocolVersion = String(cString: SSL_get_version(ssl))
        if let current = SSL_get_current_cipher(ssl) {
            cipher = String(cString: SSL_CIPHER_get_name(current))
            var algorithmBits: Int32 = 0
            cipherBits = Int(SSL_CIPHER_get_bits(current, &algorithmBits))
            cipherAlgorithmBits = Int(algorithmBits)
        } else {
            cipher = ""
            cipherBits = 0
            cipherAlgorithmBits = 0
        }
        isResumed = SSL_session_reused(ssl) == 1
        serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        acceptedServerName = isServer ? TLSConnectionState.of(ssl)?.serverName : nil
        keyExchange = Self.keyExchange(ssl)
        clientCertificateRequested = isServer && context.state.asksForClientCertificate

        let local = Self.localSignature(ssl, isServer: isServer)
        let peerCertificate = SSL_get0_peer_certificate(ssl)
        let peer = peerCertificate.flatMap { Self.peerSignature(ssl, certificate: $0) }
        serverSignature = isServer ? local : peer
        clientSignature = isServer ? peer : local

        peerCertificates = Self.peerChain(ssl, isServer: isServer, leaf: peerCertificate)
        var trust = TLSTrustLevel.anonymous
        matched = false
        if let peerCertificate {
            let certificate = Certificate(retaining: peerCertificate)
            peerCommonName = X509Text.firstCommonName(X509_get_subject_name(peerCertificate)).map(Self.printable)
                ?? SSL_get0_peername(ssl).map { String(cString: $0) } ?? ""
            let issuer = X509_get_issuer_name(peerCertificate)
            issuerCommonName = (X509Text.firstCommonName(issuer) ?? X509Text.firstEntry(issuer, nid: NID_organizationName))
                .map(Self.printable) ?? ""
            peerFingerprint = TLSFingerprints.certificate(certificate, digest: digest)
            peerPublicKeyFingerprint = TLSFingerprints.publicKey(certificate, digest: digest)
            let result = SSL_get_verify_result(ssl)
            verifyResult = Int(result)
            verifyResultText = String(cString: X509_verify_cert_error_string(result))
            verificationError = result == X509_V_OK ? nil
                : TLSConnectionState.of(ssl)?.verificationError
                    ?? TLSVerificationError(depth: 0, code: Int(result), issuer: X509Text.oneline(issuer))
            trust = .untrusted
            if result == X509_V_OK {
                trust = .trusted
                let connection = TLSConnectionState.of(ssl)
                if !isServer, let connection, connection.mustMatch {
                    matched = true
                    if !connection.neverSecured { trust = .verified }
                }
            }
        } else {
            peerCommonName = nil
            issuerCommonName = nil
            peerFingerprint = nil
            peerPublicKeyFingerprint = nil
            verifyResult = nil
            verifyResultText = nil
            verificationError = nil
        }
        self.trust = trust
    }

    /// Postfix's `tls_text_name()` refuses names with control characters; Sealpost keeps the name but replaces
    /// them, so that a log line stays one line.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }

    private static func keyExchange(_ ssl: OpaquePointer) -> TLSKeyExchangeInfo? {
        var key: OpaquePointer?
        guard sealpost_session_get_peer_tmp_key(ssl, &key) == 1, let key else {
            // A TLS 1.2 server frees the peer's key share once the secret is derived; the group is still known.
            OpenSSLErrorQueue.clear()
            return keyExchange(negotiatedGroup: sealpost_session_get_negotiated_group(ssl))
        }
        defer { EVP_PKEY_free(key) }
        let id = EVP_PKEY_get_id(key)
        switch id {
        case EVP_PKEY_DH:
            return TLSKeyExchangeInfo(name: "DHE", curve: nil, bits: Int(EVP_PKEY_get_bits(key)))
        case EVP_PKEY_EC:
            return TLSKeyExchangeInfo(name: "ECDHE", curve: groupName(key), bits: nil)
        default:
            let name = OBJ_nid2sn(EVP_PKEY_type(id)).map { String(cString: $0) } ?? "unknown"
            return TLSKeyExchangeInfo(name: name, curve: nil, bits: nil)
        }
    }

    /// The key exchange named by a group NID alone (`X25519`, `ECDHE (secp384r1)`, `DHE (2048 bits)`).
    private static func keyExchange(negotiatedGroup nid: Int32) -> TLSKeyExchangeInfo? {
        guard nid != NID_undef, let shortName = OBJ_nid2sn(nid).map({ String(cString: $0) }) else { return nil }
        if nid == NID_X25519 || nid == NID_X448 {
            return TLSKeyExchangeInfo(name: shortName, curve: nil, bits: nil)
        }
        if shortName.hasPrefix("ffdhe"), let bits = Int(shortName.dropFirst(5)) {
            return TLSKeyExchangeInfo(name: "DHE", curve: nil, bits: bits)
        }
        return TLSKeyExchangeInfo(name: "ECDHE", curve: shortName, bits: nil)
    }

    /// The curve of an EC key, as `EVP_PKEY_get_group_name` names it (Postfix's `ec_curve_name()`).
    private static func groupName(_ key: OpaquePointer) -> String? {
        if case .ec(let curve) = KeyType(evpKey: key).algorithm, curve != "unknown" { return curve }
        return nil
    }

    /// The algorithm, curve or size of a public key as Postfix names it for signatures.
    private static func signature(publicKey: OpaquePointer, digestNID: Int32?) -> TLSHandshakeSignature? {
        let nid = EVP_PKEY_type(EVP_PKEY_get_id(publicKey))
        guard nid != NID_undef else { return nil }
        var signature: TLSHandshakeSignature
        switch nid {
        case EVP_PKEY_RSA:
            signature = TLSHandshakeSignature(algorithm: "RSA-PSS", curve: nil, bits: Int(EVP_PKEY_get_bits(publicKey)))
        case EVP_PKEY_EC:
            signature = TLSHandshakeSignature(algorithm: "ECDSA", curve: groupName(publicKey), bits: nil)
        default:
            signature = TLSHandshakeSignature(
                algorithm: OBJ_nid2sn(nid).map { String(cString: $0) } ?? "unknown", curve: nil, bits: nil)
        }
        if let digestNID, digestNID != NID_undef, let name = OBJ_nid2sn(digestNID) {
            signature.digest = String(cString: name)
        }
        return signature
    }

    private static func localSignature(_ ssl: OpaquePointer, isServer: Bool) -> TLSHandshakeSignature? {
        var nid: Int32 = NID_undef
        let haveNID = sealpost_session_get_signature_nid(ssl, &nid) == 1
        OpenSSLErrorQueue.clear()
        // A client's certificate may be configured but unused; only a signature proves it was sent.
        guard isServer || haveNID, let certificate = SSL_get_certificate(ssl),
              let key = X509_get0_pubkey(certificate)
        else { return nil }
        return signature(publicKey: key, digestNID: haveNID ? nid : nil)
    }

    private static func peerSignature(_ ssl: OpaquePointer, certificate: OpaquePointer) -> TLSHandshakeSignature? {
        guard let key = X509_get0_pubkey(certificate) else { return nil }
        var nid: Int32 = NID_undef
        let haveNID = sealpost_session_get_peer_signature_nid(ssl, &nid) == 1
        OpenSSLErrorQueue.clear()
        return signature(publicKey: key, digestNID: haveNID ? nid : nil)
    }

    /// The chain as the peer sent it (OpenSSL's server-side chain lacks the leaf, its client-side chain has it).
    private static func peerChain(_ ssl: OpaquePointer, isServer: Bool, leaf: OpaquePointer?) -> [Certificate] {
        var result: [Certificate] = []
        if isServer, let leaf { result.append(Certificate(retaining: leaf)) }
        if let chain = SSL_get_peer_cert_chain(ssl) {
            for index in 0..<sealpost_ctx_sk_X509_num(chain) {
                if let certificate = sealpost_ctx_sk_X509_value(chain, index) {
                    result.append(Certificate(retaining: certificate))
                }
            }
        }
        return result
    }
}

extension Certificate {
    /// Wraps an `X509` that OpenSSL owns, taking a reference of our own.
    convenience init(retaining pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.init(taking: pointer)
    }
}

extension X509Text {
    /// `X509_NAME_oneline`: `/CN=…/O=…`, with non-printable characters as `?` (Postfix's `printable(buf, '?')`).
    static func oneline(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        var buffer = [CChar](repeating: 0, count: 256)
        guard X509_NAME_oneline(name, &buffer, Int32(buffer.count)) != nil else { return "" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    /// The first entry of a kind in an `X509_NAME`, as UTF-8.
    static func firstEntry(_ name: OpaquePointer?, nid: Int32) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, nid, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index),
              let value = X509_NAME_ENTRY_get_data(entry)
        else { return nil }
        return utf8(value)
    }
}

extension TLSContext {
    /// What the finished handshake on `ssl` (made from this context) tells. Servers fingerprint with
    /// `smtpd_tls_fingerprint_digest`; clients with `smtp_tls_fingerprint_digest`.
    func sessionInfo(for ssl: OpaquePointer, digest: TLSFingerprintDigest? = nil) -> TLSSessionInfo {
        let chosen = digest ?? state.fingerprintDigest ?? (try? TLSFingerprintDigest("sha256", parameter: ""))
        return TLSSessionInfo(ssl: ssl, context: self, digest: chosen!)
    }
}
