import SealpostTLS

/// What postfix-tls's `new_server_cert` and `deploy_server_cert` do: make a key (or copy the deployed one)
/// and a self-signed certificate under Postfix's file names, check a certificate and key pair, and
/// point main.cf at it.
struct ServerCertificateTool {
    let workspace: TLSWorkspace

    /// postfix-tls's self-signed certificates are valid for about 100 years: their purpose is
    /// opportunistic TLS and DANE "3 1 1", where nobody checks the dates.
    static let selfSignedValidityDays = 36_525

    enum Deployment { case none, enable }

    /// Writes `key-STAMP.pem` (mode 0600) and `cert-STAMP.pem` (or `eckey-`/`eccert-`), copying the key
    /// from `existingKeyFile` when given, and tells the admin what to do next; with `.enable`, also
    /// deploys them with opportunistic TLS settings.
    func newServerCertificate(
        algorithm: ServerKeyAlgorithm, keySpec: KeySpec, existingKeyFile: String?,
        deployment: Deployment, hostnames: [String]
    ) throws(TLSWorkspace.Failure) {
        let stamp = TLSWorkspace.stamp()
        let keyFile = "\(workspace.directory)/\(algorithm.keyFilePrefix)-\(stamp).pem"
        let certificateFile = "\(workspace.directory)/\(algorithm.certificateFilePrefix)-\(stamp).pem"
        if TLSWorkspace.exists(keyFile) { throw .init("New private key file already exists: \(keyFile)") }
        if TLSWorkspace.exists(certificateFile) { throw .init("New certificate file already exists: \(certificateFile)") }

        let names = hostnames.isEmpty ? [try workspace.myhostname()] : hostnames
        let key: PrivateKey
        do {
            if let existingKeyFile {
                key = try PrivateKey.loadPEMFile(existingKeyFile)
                guard ServerKeyAlgorithm(key.details.keyType.algorithm) == algorithm else {
                    throw TLSWorkspace.Failure(
                        "Key algorithm '\(key.details.keyType.algorithm)' of '\(existingKeyFile)' is not '\(algorithm)'")
                }
            } else {
                key = try PrivateKey.generate(keySpec)
            }
            let certificate = try SelfSignedCertificate.certificatePEM(
                for: key, commonName: names[0], subjectAlternativeNames: names,
                validityDays: Self.selfSignedValidityDays)
            try SelfSignedCertificate.write(
                certificatePEM: certificate, toCertificateFile: certificateFile,
                privateKeyPEM: key.pemEncoded, toKeyFile: keyFile)
        } catch let failure as TLSWorkspace.Failure {
            throw failure
        } catch {
            throw .init("error generating the new key and self-signed certificate: \(error)")
        }

        if deployment == .enable {
            try deploy(certificateFile: certificateFile, keyFile: keyFile, enable: true)
            Terminal.out("Enabled opportunistic TLS in the Sealpost SMTP server\n")
            Terminal.out(Self.deployedNotice)
        } else {
            Terminal.out("""
                New private key and self-signed certificate created. To deploy run:
                  # sealpost tls -c \(workspace.directory) deploy-server-cert \(certificateFile) \(keyFile)

                """)
        }
        Terminal.out("""
            To generate a CSR run:
              # sealpost tls -c \(workspace.directory) output-server-csr -k \(keyFile) [<hostname> ...]
            Save the signed certificate chain in \(certificateFile)\(deployment == .none ? ", and deploy as above." : ".")
            To generate TLSA records run:
              # sealpost tls -c \(workspace.directory) output-server-tlsa [-h <hostname>] \(keyFile)

            """)
        if existingKeyFile == nil {
            Terminal.out(
                deployment == .enable
                    ? "(If you have DANE TLSA RRs, update them as soon as possible to match\nthe newly deployed keys).\n"
                    : "(deploy after updating the DNS and waiting for stale RRs to expire).\n")
        }
    }

    static let deployedNotice = """
        New TLS private key and certificate deployed.
        Reload Sealpost (SIGHUP to `sealpost run`) or restart it for the new settings to take effect.

        """

    /// Checks that the key is readable, unencrypted and belongs to the certificate (and that the chain
    /// has no errors), then sets the key and certificate parameters of the key's algorithm in main.cf;
    /// `enable` adds postfix-tls's opportunistic TLS settings. main.cf is not touched when a check fails.
    func deploy(certificateFile: String, keyFile: String, enable: Bool) throws(TLSWorkspace.Failure) {
        let certified: CertifiedKey
        do throws(TLSCredentialError) {
            certified = try CertifiedKey.load(certificateFile: certificateFile, keyFile: keyFile)
        } catch {
            throw .init(error.reason)
        }
        guard let algorithm = ServerKeyAlgorithm(certified.privateKey.details.keyType.algorithm) else {
            throw .init("\(keyFile): a \(certified.privateKey.details.keyType) key; only RSA and ECDSA keys can be deployed")
        }
        let findings = CredentialInspector.inspectServerCredentials(certificateFile: certificateFile, keyFile: keyFile)
        for finding in findings where finding.severity != .error { Terminal.warning(finding.message) }
        if let error = findings.first(where: { $0.severity == .error }) { throw .init(error.message) }

        var settings: [(name: String, value: String)] = [
            (algorithm.keyParameter, keyFile), (algorithm.certificateParameter, certificateFile),
        ]
        if enable {
            settings += [("smtpd_tls_security_level", "may"), ("smtpd_tls_received_header", "yes"), ("smtpd_tls_loglevel", "1")]
        }
        try workspace.setMainConf(settings)
    }
}
