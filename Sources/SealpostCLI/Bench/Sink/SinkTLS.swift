import SealpostConfig
import SealpostTLS

/// The sink's TLS server context, from a certificate and key file, made the way an smtpd service's
/// is (`smtpd_tls_cert_file`, `smtpd_tls_key_file`, Postfix's defaults for everything else).
enum SinkTLS {
    static func serverContext(certificate: String, key: String) throws -> TLSContext {
        for path in [certificate, key] where path.contains(where: { $0 == "\n" || $0 == "\r" }) {
            throw SinkArgumentError("--starttls: \(path.debugDescription) is not a usable file name")
        }
        let main = """
            smtpd_tls_security_level = may
            smtpd_tls_cert_file = \(certificate)
            smtpd_tls_key_file = \(key)
            """
        let configuration = Configuration(
            directory: "/nonexistent",
            main: MainConfFile(path: "sealpost bench sink", bytes: Array(main.utf8)),
            master: MasterConfFile(path: "sealpost bench sink", bytes: []),
            host: HostFacts(hostname: "sink.invalid", interfaceAddresses: [], processID: 1))
        let settings = try TLSServerSettings(configuration.global)
        return try TLSServerContextBuilder.makeContext(settings)
    }
}
