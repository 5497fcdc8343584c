extension TLSARecord {
    /// The "3 1 1" record for `key`: DANE-EE, SubjectPublicKeyInfo, SHA-256 (RFC 7671 section 5.1).
    ///
    /// "3 1 1" pins the key rather than the certificate, so it stays valid while the certificate is
    /// renewed with the same key.
    public init(daneEEFor key: PrivateKey) {
        self.init(usage: 3, selector: 1, matchingType: 1, data: Digest.sha256(Digest.subjectPublicKeyInfo(of: key.pointer)))
    }

    /// The record in zone-file form for an SMTP server on `port` of `hostname`, as
    /// `postfix tls output-server-tlsa` prints it: `_25._tcp.HOST. IN TLSA 3 1 1 HEX`.
    public func zoneLine(hostname: String, port: Int = 25) -> String {
        let owner = hostname.hasSuffix(".") ? hostname : hostname + "."
        return "_\(port)._tcp.\(owner) IN TLSA \(description)"
    }
}
