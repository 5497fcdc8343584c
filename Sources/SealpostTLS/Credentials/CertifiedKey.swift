/// A private key with the certificate chain that goes with it: what a TLS server presents for one algorithm.
public struct CertifiedKey: Sendable {
    /// The private key.
    public let privateKey: PrivateKey
    /// The certificates, leaf first, then each certificate's issuer; never empty.
    public let chain: [Certificate]
    /// The file the key came from.
    public let keyFile: String
    /// The key's PEM object number in `keyFile` (1 for a key file of its own).
    public let keyObjectNumber: Int
    /// The file the leaf certificate came from.
    public let certificateFile: String

    /// The certificate whose public key belongs to `privateKey`.
    public var leaf: Certificate { chain[0] }

    /// Loads a certificate file and a key file as `smtpd_tls_cert_file` / `smtpd_tls_key_file` name them.
    ///
    /// As in Postfix, when both name the same file it is read once and may hold the key anywhere, with
    /// the first certificate as the leaf; otherwise the certificate file gives the chain (leaf first) and
    /// the key file its first private key. Throws `keyMismatch` when the key does not belong to the leaf.
    /// The value `none` (no certificate, anonymous ciphers only) is the caller's business, not a file name.
    public static func load(certificateFile: String, keyFile: String) throws(TLSCredentialError) -> CertifiedKey {
        if certificateFile == keyFile {
            return try loadCombinedFile(certificateFile).certifiedKeys[0]
        }
        let chain = try Certificate.loadPEMFile(certificateFile)
        let key = try PrivateKey.loadPEMFile(keyFile)
        guard key.matches(chain[0]) else {
            throw mismatch(key: key, keyFile: keyFile, leaf: chain[0], certificateFile: certificateFile)
        }
        return CertifiedKey(
            privateKey: key, chain: chain, keyFile: keyFile, keyObjectNumber: 1, certificateFile: certificateFile)
    }

    /// Loads one file holding a key and its chain, the key anywhere (Postfix's "mixed" mode for a
    /// certificate file that is also the key file); a second key is ignored with a warning.
    static func loadCombinedFile(_ file: String) throws(TLSCredentialError) -> ChainFileContents {
        var loader = ChainFileLoader(mode: .singleCombinedFile, origin: file)
        try loader.read(file: file)
        return try loader.finish()
    }

    /// Loads `smtpd_tls_chain_files`: one or more files of (key, certificate, issuers…) sequences.
    ///
    /// Follows Postfix's `tls_certkey.c`: the files are read in order as one stream; each private key must
    /// come first and is followed by its leaf certificate and then that certificate's issuers; the next key
    /// starts the next chain (a chain may continue into the next file). One chain per key algorithm
    /// (RSA, ECDSA, Ed25519, …). PEM objects of other types are skipped with a warning.
    public static func loadChainFiles(_ files: [String]) throws(TLSCredentialError) -> ChainFileContents {
        guard !files.isEmpty else {
            throw TLSCredentialError(.invalidArgument, path: "", reason: "no chain files given")
        }
        var loader = ChainFileLoader(mode: .chainFiles, origin: files.joined(separator: ", "))
        for file in files {
            try loader.read(file: file)
        }
        return try loader.finish()
    }

    /// The `keyMismatch` error for a separate key file and certificate file, naming both.
    static func mismatch(
        key: PrivateKey, keyFile: String, leaf: Certificate, certificateFile: String
    ) -> TLSCredentialError {
        TLSCredentialError(
            .keyMismatch, path: keyFile,
            reason: "private key in \(keyFile) (\(key.details.keyType)) does not match the public key of certificate "
                + "\(leaf.details.displayName) in \(certificateFile) (\(leaf.details.publicKey))")
    }
}
