import ArgumentParser
import SealpostTLS

#if canImport(Glibc)
import Glibc
#endif

/// `sealpost tls [-c DIR] SUBCOMMAND`: `postfix tls` (postfix-tls(1)) for Sealpost, plus `status` and `dhparam`.
struct TLSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Create and deploy server keys and certificates, and enable TLS, like `postfix tls`.",
        subcommands: [
            EnableClient.self, EnableServer.self, NewServerKey.self, NewServerCert.self, DeployServerCert.self,
            OutputServerCSR.self, OutputServerTLSA.self, AllDefaultClient.self, AllDefaultServer.self,
            Status.self, DHParam.self,
        ])

    @OptionGroup var config: ConfigDirectoryOption

    var workspace: TLSWorkspace { TLSWorkspace(directory: config.resolved) }

    /// Runs `body`, turning a failure into `sealpost: fatal: …` and exit status 1.
    static func reporting(_ body: () throws(TLSWorkspace.Failure) -> Void) throws(ExitCode) {
        do {
            try body()
        } catch {
            Terminal.fatal(error.message)
            throw ExitCode(1)
        }
    }

    /// `-a` and `-b` of the commands that make keys.
    struct KeyOptions: ParsableArguments {
        @Option(name: .customShort("a"), help: "The key algorithm: rsa or ecdsa.")
        var algorithm: ServerKeyAlgorithm = .rsa
        @Option(name: .customShort("b"), help: "RSA key bits (default 2048) or ECDSA curve (default secp256r1).")
        var size: String?

        func keySpec() throws(ValidationError) -> KeySpec { try algorithm.keySpec(size: size) }
    }

    struct EnableServer: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enable-server",
            abstract: "Create a key and self-signed certificate and enable opportunistic TLS in the SMTP server.",
            discussion: "Changes nothing, and prints the typical settings, unless every SMTP server TLS setting is at its default.")
        @ParentCommand var tls: TLSCommand
        @OptionGroup var key: KeyOptions
        @Argument(help: "Names for the certificate; the first is its common name. Default: $myhostname.")
        var hostnames: [String] = []

        func validate() throws { _ = try key.keySpec() }

        func run() throws {
            let workspace = tls.workspace
            guard workspace.nonDefault(TLSWorkspace.serverSettings).isEmpty else {
                Terminal.out("""
                    *** Non-default SMTP server TLS settings detected, no changes made.
                    For opportunistic TLS in the Sealpost SMTP server, the below settings
                    are typical:
                      smtpd_tls_security_level = may
                      smtpd_tls_loglevel = 1
                    You can use "sealpost tls new-server-cert" to create a new certificate.
                    Or, "sealpost tls new-server-key" to also force a new private key.
                    If you publish DANE TLSA records, see:
                      https://tools.ietf.org/html/rfc7671#section-8
                      https://tools.ietf.org/html/rfc7671#section-5.1
                      https://tools.ietf.org/html/rfc7671#section-5.2

                    """)
                return
            }
            let keySpec = try key.keySpec()
            try TLSCommand.reporting { () throws(TLSWorkspace.Failure) in
                try ServerCertificateTool(workspace: workspace).newServerCertificate(
                    algorithm: key.algorithm, keySpec: keySpec, existingKeyFile: nil, deployment: .enable, hostnames: hostnames)
            }
        }
    }

    struct NewServerKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-server-key",
            abstract: "Create a new private key and a self-signed certificate for it (not deployed).")
        @ParentCommand var tls: TLSCommand
        @OptionGroup var key: KeyOptions
        @Argument(help: "Names for the certificate; the first is its common name. Default: $myhostname.")
        var hostnames: [String] = []

        func validate() throws { _ = try key.keySpec() }

        func run() throws {
            let workspace = tls.workspace
            let keySpec = try key.keySpec()
            try TLSCommand.reporting { () throws(TLSWorkspace.Failure) in
                try ServerCertificateTool(workspace: workspace).newServerCertificate(
                    algorithm: key.algorithm, keySpec: keySpec, existingKeyFile: nil, deployment: .none, hostnames: hostnames)
            }
        }
    }

    struct NewServerCert: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-server-cert",
            abstract: "Create a new self-signed certificate for the deployed key (not deployed).",
            discussion: """
                Keeping the key keeps published DANE "3 1 1" TLSA records valid. Without a deployed key \
                of the algorithm, a new key is made.
                """)
        @ParentCommand var tls: TLSCommand
        @OptionGroup var key: KeyOptions
        @Argument(help: "Names for the certificate; the first is its common name. Default: $myhostname.")
        var hostnames: [String] = []

        func validate() throws { _ = try key.keySpec() }

        func run() throws {
            let workspace = tls.workspace
            let keySpec = try key.keySpec()
            var existing = workspace.keyFile(key.algorithm.rawValue)
            if let file = existing, !TLSWorkspace.exists(file) {
                Terminal.warning("Key file: \(file) not found, creating new keys")
                existing = nil
            }
            try TLSCommand.reporting { () throws(TLSWorkspace.Failure) in
                try ServerCertificateTool(workspace: workspace).newServerCertificate(
                    algorithm: key.algorithm, keySpec: keySpec, existingKeyFile: existing, deployment: .none, hostnames: hostnames)
            }
        }
    }

    struct DeployServerCert: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deploy-server-cert",
            abstract: "Check a certificate and its key, then use them in the SMTP server (main.cf).",
            discussion: "Relative file names are relative to the configuration directory.")
        @ParentCommand var tls: TLSCommand
        @Argument(help: "The certificate chain file (PEM, leaf first).") var certificateFile: String
        @Argument(help: "The private key file (PEM, not encrypted).") var keyFile: String

        func run() throws {
            let workspace = tls.workspace
            try TLSCommand.reporting { () throws(TLSWorkspace.Failure) in
                try ServerCertificateTool(workspace: workspace).deploy(
                    certificateFile: workspace.path(certificateFile), keyFile: workspace.path(keyFile), enable: false)
            }
            Terminal.out(ServerCertificateTool.deployedNotice)
        }
    }

    struct OutputServerCSR: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "output-server-csr",
            abstract: "Write a certificate signing request for a key to standard output.",
            discussion: """
                -k takes a file name (relative ones are relative to the configuration directory), or rsa or \
                ecdsa for the deployed key of that algorithm. Default: the deployed RSA key, else the ECDSA one.
                """)
        @ParentCommand var tls: TLSCommand
        @Option(name: .customShort("k"), help: "The key file, or rsa or ecdsa.") var key: String?
        @Argument(help: "Names to request. Default: $myhostname.") var hostnames: [String] = []

        func run() throws {
            let workspace = tls.workspace
            try TLSCommand.reporting { () throws(TLSWorkspace.Failure) in
                let keyFile = key.map { workspace.keyFile($0) } ?? (workspace.keyFile("rsa") ?? workspace.keyFile("ecdsa"))
                guard let keyFile, access(keyFile, R_OK) == 0 else { throw .init("No usable keyfile specified or configured") }
                let names = hostnames.isEmpty ? [try workspace.myhostname()] : hostnames
                do throws(TLSCredentialError) {
                    let privateKey = try PrivateKey.loadPEMFile(keyFile)
                    Terminal.out(try CertificateSigningRequest.generate(key: privateKey, names: names))
                } catch {
                    throw .init(error.reason)
                }
            }
        }
    }

    struct OutputServerTLSA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "output-server-tlsa",
            abstract: "Write DANE \"3 1 1\" TLSA records for port 25 with the keys' SHA-256 SPKI digests.",
            discussion: """
                Each key is a file name (relative ones are relative to the configuration directory), or rsa \
                or ecdsa for the deployed key of that algorithm. Default: rsa ecdsa.
                """,
            helpNames: [.long])
        @ParentCommand var tls: TLSCommand
        @Option(name: .customShort("h"), help: "The host name of the records. Default: $myhostname.") var hostname: String?
        @Argument(help: "Key files, or rsa or ecdsa.") var keys: [String] = []

        func run() throws {
            let workspace = tls.workspace
            try TLSCommand.reporting { () throws(TLSWorkspace.Failure) in
                let owner: String
                if let hostname { owner = hostname } else { owner = try workspace.myhostname() }
                var found = false
                for name in keys.isEmpty ? ["rsa", "ecdsa"] : keys {
                    guard let keyFile = workspace.keyFile(name) else { continue }
                    let privateKey: PrivateKey
                    do throws(TLSCredentialError) {
                        privateKey = try PrivateKey.loadPEMFile(keyFile)
                    } catch {
                        throw .init("no private key found in file: \(keyFile): \(error.reason)")
                    }
                    Terminal.out("; \(keyFile)\n")
                    Terminal.out(TLSARecord(daneEEFor: privateKey).zoneLine(hostname: owner) + "\n")
                    found = true
                }
                if !found { throw .init("No usable keyfiles specified or configured") }
            }
        }
    }

    struct EnableClient: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enable-client",
            abstract: "Enable opportunistic TLS in the SMTP client.",
            discussion: "Changes nothing, and prints the typical settings, unless every SMTP client TLS setting is at its default.")
        @ParentCommand var tls: TLSCommand

        func run() throws {
            let workspace = tls.workspace
            guard workspace.nonDefault(TLSWorkspace.clientSettings).isEmpty else {
                Terminal.out("""
                    *** Non-default SMTP client TLS settings detected, no changes made.
                    For opportunistic TLS in the Sealpost SMTP client, the below settings
                    are typical:
                      smtp_tls_security_level = may
                      smtp_tls_loglevel = 1

                    """)
                return
            }
            try TLSCommand.reporting { () throws(TLSWorkspace.Failure) in
                try workspace.setMainConf([("smtp_tls_security_level", "may"), ("smtp_tls_loglevel", "1")])
            }
            Terminal.out("""
                Enabled opportunistic TLS in the Sealpost SMTP client.
                Reload Sealpost (SIGHUP to `sealpost run`) or restart it for the new settings to take effect.

                """)
        }
    }

    struct AllDefaultClient: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "all-default-client",
            abstract: "Exit with status 0 when every SMTP client TLS setting is at its default, else 1.")
        @ParentCommand var tls: TLSCommand
        func run() throws {
            if !tls.workspace.nonDefault(TLSWorkspace.clientSettings).isEmpty { throw ExitCode(1) }
        }
    }

    struct AllDefaultServer: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "all-default-server",
            abstract: "Exit with status 0 when every SMTP server TLS setting is at its default, else 1.")
        @ParentCommand var tls: TLSCommand
        func run() throws {
            if !tls.workspace.nonDefault(TLSWorkspace.serverSettings).isEmpty { throw ExitCode(1) }
        }
    }
}
