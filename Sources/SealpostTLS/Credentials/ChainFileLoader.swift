/// Postfix's PEM chain state machine (`tls_certkey.c`), producing Swift values instead of loading an `SSL_CTX`.
struct ChainFileLoader {
    enum Mode {
        /// `smtpd_tls_chain_files`: key first, then its chain, then the next key.
        case chainFiles
        /// `smtpd_tls_cert_file` equal to `smtpd_tls_key_file`: one key anywhere, certificates leaf first.
        case singleCombinedFile
    }

    /// Postfix's PEM_LOAD_STATE_*: what the last object seen was.
    private enum State {
        case initial, key, certificate, keyAndCertificate
    }

    private struct PendingKey {
        let key: PrivateKey
        let file: String
        let number: Int
    }

    let mode: Mode
    /// All file names, for "no PEM data in …" messages.
    let origin: String
    private var state = State.initial
    private var pendingKey: PendingKey?
    private var pendingChain: [(certificate: Certificate, file: String)] = []
    private var completed: [CertifiedKey] = []
    private var warnings: [CredentialFinding] = []
    private var keyFiles: [String] = []

    init(mode: Mode, origin: String) {
        self.mode = mode
        self.origin = origin
    }

    private var role: CredentialFileRole {
        mode == .chainFiles ? .chain : .certificateAndKey
    }

    /// Feeds every PEM object of one file through the state machine.
    mutating func read(file: String) throws(TLSCredentialError) {
        let bytes = try CredentialFile.contents(of: file, role: role)
        let objects: [PEMObject]
        do {
            objects = try PEMReader.objects(in: bytes, path: file, role: role)
        } catch where error.code == .notPEM && mode == .chainFiles {
            // An empty file in a list is no error by itself; "no PEM data" is judged over all files in finish().
            return
        }
        for object in objects {
            if object.isCertificate {
                try consumeCertificate(object, file: file)
            } else if object.privateKeyEncoding != nil {
                try consumeKey(object, file: file)
            } else if mode == .chainFiles {
                warnings.append(CredentialFinding(
                    severity: .warning, code: .ignoredPEMObject, path: file,
                    message: "chain file \(file): ignoring PEM object number \(object.number) of type \"\(object.label)\""))
            }
        }
    }

    private mutating func consumeCertificate(_ object: PEMObject, file: String) throws(TLSCredentialError) {
        if mode == .chainFiles && state == .initial {
            throw TLSCredentialError(
                .chainKeyNotFirst, path: file,
                reason: "chain file \(file): certificate (PEM object number \(object.number)) comes before any private key; "
                    + "each chain must be: private key, its certificate, then the issuer certificates")
        }
        let certificate = try Certificate(decoding: object, path: file, role: role)
        switch state {
        case .key:
            pendingChain = [(certificate, file)]
            state = mode == .singleCombinedFile ? .keyAndCertificate : .certificate
        case .initial:
            pendingChain = [(certificate, file)]
            state = .certificate
        case .certificate, .keyAndCertificate:
            pendingChain.append((certificate, file))
        }
    }

    private mutating func consumeKey(_ object: PEMObject, file: String) throws(TLSCredentialError) {
        switch state {
        case .key, .keyAndCertificate:
            if mode == .singleCombinedFile, let first = pendingKey {
                warnings.append(CredentialFinding(
                    severity: .warning, code: .ignoredPEMObject, path: file,
                    message: "\(role.rawValue) \(file): ignoring a second private key (PEM object number \(object.number)) "
                        + "after the first (PEM object number \(first.number))"))
                return
            }
            if let first = pendingKey {
                throw TLSCredentialError(
                    .keyWithoutCertificate, path: first.file,
                    reason: "chain file \(first.file): private key (PEM object number \(first.number)) is not followed by a certificate")
            }
        case .certificate:
            if mode == .chainFiles {
                try completeChain()
            }
        case .initial:
            break
        }
        let key = try PrivateKey(decoding: object, path: file, role: role)
        pendingKey = PendingKey(key: key, file: file, number: object.number)
        if !keyFiles.contains(file) { keyFiles.append(file) }
        switch (state, mode) {
        case (.initial, _): state = .key
        case (_, .singleCombinedFile): state = .keyAndCertificate
        default: state = .key
        }
    }

    /// Pairs the pending key with the pending chain, as Postfix's `use_chain` hands them to OpenSSL.
    private mutating func completeChain() throws(TLSCredentialError) {
        guard let pending = pendingKey, let leaf = pendingChain.first else { return }
        guard pending.key.matches(leaf.certificate) else {
            throw TLSCredentialError(
                .keyMismatch, path: pending.file,
                reason: "\(role.rawValue) \(pending.file): private key (PEM object number \(pending.number), "
                    + "\(pending.key.details.keyType)) does not match the certificate that follows it "
                    + "(\(leaf.certificate.details.displayName) in \(leaf.file), \(leaf.certificate.details.publicKey))")
        }
        let slot = leaf.certificate.details.publicKey.algorithm.certificateSlot
        if let earlier = completed.first(where: { $0.leaf.details.publicKey.algorithm.certificateSlot == slot }) {
            throw TLSCredentialError(
                .duplicateAlgorithm, path: pending.file,
                reason: "chain file \(pending.file): a second \(slot) key (PEM object number \(pending.number)); "
                    + "the \(slot) chain was already loaded from \(earlier.keyFile) (PEM object number "
                    + "\(earlier.keyObjectNumber)) and OpenSSL holds one chain per key algorithm")
        }
        completed.append(CertifiedKey(
            privateKey: pending.key, chain: pendingChain.map(\.certificate), keyFile: pending.file,
            keyObjectNumber: pending.number, certificateFile: leaf.file))
        pendingKey = nil
        pendingChain = []
    }

    /// Completes the last chain and returns everything, or says what was missing at the end.
    mutating func finish() throws(TLSCredentialError) -> ChainFileContents {
        switch state {
        case .initial:
            throw TLSCredentialError(
                .notPEM, path: origin, reason: "\(role.rawValue) \(origin) holds no PEM data (no private key, no certificate)")
        case .key:
            let pending = pendingKey!
            throw TLSCredentialError(
                .keyWithoutCertificate, path: pending.file,
                reason: "\(role.rawValue) \(pending.file): no certificate for the private key (PEM object number \(pending.number))")
        case .certificate where mode == .singleCombinedFile:
            throw TLSCredentialError(
                .noPrivateKey, path: origin, reason: "\(role.rawValue) \(origin) holds certificates but no private key")
        case .certificate, .keyAndCertificate:
            try completeChain()
        }
        return ChainFileContents(certifiedKeys: completed, warnings: warnings, keyFiles: keyFiles)
    }
}
