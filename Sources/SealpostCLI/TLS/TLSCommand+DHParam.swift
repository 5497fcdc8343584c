import ArgumentParser
import SealpostTLS

extension TLSCommand {
    /// `dhparam [-o FILE] [BITS]`: `openssl dhparam` without leaving Sealpost.
    struct DHParam: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dhparam",
            abstract: "Write a new DH parameter file for DHE cipher suites (smtpd_tls_dh1024_param_file).",
            discussion: """
                Writes PKCS#3 parameters with a safe prime, as `openssl dhparam`, to dhBITS.pem in the \
                configuration directory (or -o FILE). Finding a safe prime can take minutes for 2048 bits or more.
                """)
        @ParentCommand var tls: TLSCommand
        @Option(name: .customShort("o"), help: "The output file; relative names are relative to the configuration directory.")
        var output: String?
        @Argument(help: "The prime size in bits (1024 to 8192).") var bits: Int = 2048

        func validate() throws {
            guard (1024...8192).contains(bits) else { throw ValidationError("\(bits) bits: use 1024 to 8192") }
        }

        func run() throws {
            let workspace = tls.workspace
            let file = workspace.path(output ?? "dh\(bits).pem")
            if bits < DHParameters.recommendedMinimumBits {
                Terminal.warning("\(bits)-bit DH parameters are weak; use \(DHParameters.recommendedMinimumBits) bits or more")
            }
            try TLSCommand.reporting { () throws(TLSWorkspace.Failure) in
                do throws(TLSCredentialError) {
                    let pem = try DHParameters.generatePEM(bits: bits)
                    try CredentialFileWriter.writeAtomically(pem, to: file, mode: 0o644)
                } catch {
                    throw .init(error.reason)
                }
            }
            Terminal.out("""
                \(bits)-bit DH parameters written to \(file). To use them run:
                  # sealpost conf -c \(workspace.directory) -e smtpd_tls_dh1024_param_file=\(file)

                """)
        }
    }
}
