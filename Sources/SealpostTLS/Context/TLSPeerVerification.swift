internal import COpenSSL
internal import CSealpostShims

/// Name checks on a server certificate, as Postfix's `add_namechecks()` sets them up for OpenSSL.
public enum TLSPeerNames {
    /// `X509_CHECK_FLAG_*` for host checks: never partial-label wildcards (`foo*bar.example.com`, RFC 6125 for
    /// SMTP), and — with `tls_wildcard_matches_multiple_labels = yes` — a leading `*` may stand for several labels
    /// (`*.example.net` matches `example.com.mx1.example.net`).
    public static func hostFlags(wildcardMatchesMultipleLabels: Bool) -> UInt32 {
        var flags = UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)
        if wildcardMatchesMultipleLabels { flags |= UInt32(X509_CHECK_FLAG_MULTI_LABEL_WILDCARDS) }
        return flags
    }

    /// The names a certificate must match, from the strategies and patterns of `smtp_tls_verify_cert_match` or
    /// `smtp_tls_secure_cert_match`: `nexthop` → the next-hop domain, `dot-nexthop` → its sub-domains (a leading
    /// dot), `hostname` → the MX host name, `.example.com` → sub-domains of example.com, anything else literally.
    /// A lone `.` is skipped (Postfix: "ignoring invalid match name").
    public static func expectedNames(strategies: [String], nexthop: String, hostname: String) -> [String] {
        var names: [String] = []
        for strategy in strategies {
            let name: String
            switch strategy.lowercased() {
            case "nexthop": name = nexthop
            case "dot-nexthop": name = "." + nexthop
            case "hostname": name = hostname
            default:
                guard strategy != "." else { continue }
                name = strategy
            }
            if !name.isEmpty && name != "." && !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// The first of `names` the certificate matches (a name starting with `.` matches any sub-domain), or nil.
    public static func match(_ certificate: Certificate, names: [String], wildcardMatchesMultipleLabels: Bool) -> String? {
        let flags = hostFlags(wildcardMatchesMultipleLabels: wildcardMatchesMultipleLabels)
        for name in names {
            OpenSSLErrorQueue.clear()
            if X509_check_host(certificate.pointer, name, name.utf8.count, flags, nil) == 1 { return name }
        }
        OpenSSLErrorQueue.clear()
        return nil
    }

    /// A DNS host name as SNI wants it: letters, digits and hyphens in dot-separated labels of 1–63 characters,
    /// 255 in all, no label starting or ending with a hyphen, not all-numeric.
    public static func isValidHostname(_ name: String) -> Bool {
        var text = Substring(name)
        if text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty, text.utf8.count <= 255 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                  label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { return false }
        }
        return !labels.allSatisfy { $0.allSatisfy(\.isNumber) }
    }
}

/// Certificate and public-key fingerprints, as Postfix's `tls_cert_fprint()` / `tls_pkey_fprint()` compute them
/// for `check_ccert_access`, `permit_tls_clientcerts` and the `fingerprint` level.
public enum TLSFingerprints {
    /// The digest of the DER certificate: `AB:CD:…`.
    public static func certificate(_ certificate: Certificate, digest: TLSFingerprintDigest) -> String {
        digest.fingerprint(of: certificate.derEncoded)
    }

    /// The digest of the DER SubjectPublicKeyInfo.
    public static func publicKey(_ certificate: Certificate, digest: TLSFingerprintDigest) -> String {
        guard let key = X509_get0_pubkey(certificate.pointer) else { return "" }
        return digest.fingerprint(of: Digest.subjectPublicKeyInfo(of: key))
    }

    /// Whether any of `fingerprints` (hex, colons optional, any case) is the certificate's or its public key's
    /// digest — at the `fingerprint` level the two are interchangeable, as in Postfix.
    public static func matches(_ certificate: Certificate, fingerprints: [String], digest: TLSFingerprintDigest) -> Bool {
        let wanted = Set(fingerprints.map { $0.filter { $0 != ":" }.uppercased() })
        let candidates = [Self.certificate(certificate, digest: digest), publicKey(certificate, digest: digest)]
            .map { $0.filter { $0 != ":" } }
        return candidates.contains { wanted.contains($0) }
    }
}

/// A DNS TLSA record (RFC 6698): certificate usage, selector, matching type and association data.
public struct TLSARecord: Sendable, Hashable, CustomStringConvertible {
    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// `3 1 1 ab01…` as a zone file writes it (hex may have spaces).
    public init?(_ text: String) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count >= 4, let usage = UInt8(words[0]), let selector = UInt8(words[1]),
              let matchingType = UInt8(words[2]),
              let data = TLSSessionTicketKeyFile.hexBytes(words[3...].joined()), !data.isEmpty
        else { return nil }
        self.init(usage: usage, selector: selector, matchingType: matchingType, data: data)
    }

    public var description: String {
        "\(usage) \(selector) \(matchingType) \(Digest.lowercaseHex(data))"
    }
}

/// OpenSSL's DANE verification, used by the `fingerprint` level and kept here for the DANE work (module-internal,
/// since its arguments are `SSL` pointers): the client context is enabled once (`SSL_CTX_dane_enable`, matching
/// types 1 = SHA-256, 2 = SHA-512 and Postfix's private 255 = the fingerprint digest), each connection gets its base
/// domain (`SSL_dane_enable`) and records (`SSL_dane_tlsa_add`). ``TLSClientDestination/tlsaRecords`` with a DANE
/// level is the public way in.
public enum TLSDANE {
    /// The private-use matching type Postfix maps to `smtp_tls_fingerprint_digest`.
    public static let fingerprintMatchingType: UInt8 = 255

    /// Enables DANE on a client context with the digest behind matching type 255.
    static func enable(context: OpaquePointer, fingerprintDigest: TLSFingerprintDigest) -> Bool {
        OpenSSLErrorQueue.clear()
        guard SSL_CTX_dane_enable(context) > 0 else { return false }
        // Postfix's tls_dane_digest_init() with the default tls_dane_digests "sha512 sha256": OpenSSL prefers higher
        // ordinals, so sha512 gets 2, sha256 1, and the fingerprint type 3.
        _ = SSL_CTX_dane_mtype_set(context, EVP_sha256(), 1, 1)
        _ = SSL_CTX_dane_mtype_set(context, EVP_sha512(), 2, 2)
        if let md = fingerprintDigest.evp {
            _ = SSL_CTX_dane_mtype_set(context, md, fingerprintMatchingType, 3)
        }
        OpenSSLErrorQueue.clear()
        return true
    }

    /// Turns DANE on for one connection; `baseDomain` is the TLSA base domain (also a reference identifier for
    /// name checks of DANE-TA records). Returns false when OpenSSL refuses (DANE not enabled on the context).
    static func enable(ssl: OpaquePointer, baseDomain: String?) -> Bool {
        OpenSSLErrorQueue.clear()
        let result = baseDomain.map { SSL_dane_enable(ssl, $0) } ?? SSL_dane_enable(ssl, nil)
        OpenSSLErrorQueue.clear()
        guard result > 0 else { return false }
        // RFC 7672 section 3.1.1: no name checks for DANE-EE(3) records.
        _ = SSL_dane_set_flags(ssl, UInt(DANE_FLAG_NO_DANE_EE_NAMECHECKS))
        return true
    }

    /// The outcome of adding one record.
    public enum AddResult: Sendable, Hashable {
        case usable
        /// OpenSSL cannot use it (an unsupported matching type, say); it is ignored.
        case unusable
        /// Malformed (wrong digest length, bad usage).
        case malformed
    }

    /// Adds a TLSA record to a DANE-enabled connection.
    @discardableResult
    static func add(ssl: OpaquePointer, record: TLSARecord) -> AddResult {
        OpenSSLErrorQueue.clear()
        let result = record.data.withUnsafeBufferPointer { buffer in
            SSL_dane_tlsa_add(ssl, record.usage, record.selector, record.matchingType, buffer.baseAddress, buffer.count)
        }
        OpenSSLErrorQueue.clear()
        return result > 0 ? .usable : result == 0 ? .unusable : .malformed
    }

    /// After the handshake: whether a TLSA record authenticated the peer, and at which depth its match was
    /// (`SSL_get0_dane_authority`); nil when DANE did not authenticate it.
    static func authorityDepth(ssl: OpaquePointer) -> Int? {
        let depth = SSL_get0_dane_authority(ssl, nil, nil)
        return depth >= 0 ? Int(depth) : nil
    }
}
