#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser

extension TLSCommand {
    /// `status [-w DAYS]`: Sealpost's addition to postfix-tls, for cron jobs and monitoring.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show the certificates each SMTP server service presents, and which need renewing.",
            discussion: """
                For each smtpd service of master.cf and each of its certificates: subject, names, issuer, \
                expiry, key, chain, whether $myhostname is covered, and the DANE "3 1 1" TLSA record to publish. \
                Exits with status 1 when a certificate expires within the -w window (or cannot be used), for \
                cron jobs and monitoring.
                """)
        @ParentCommand var tls: TLSCommand
        @Option(name: .customShort("w"), help: "Warn about certificates that expire within this many days.")
        var days: Int = 30

        func validate() throws {
            if days < 0 { throw ValidationError("-w \(days): the number of days must not be negative") }
        }

        func run() throws {
            let configuration = tls.workspace.configuration
            let outcome = TLSStatusReport(configuration: configuration, now: Date(), warningDays: days).make()
            Terminal.out(outcome.text)
            for certificate in outcome.expiring { Terminal.warning("\(certificate) expires within \(days) days") }
            for source in outcome.broken { Terminal.error("\(source) cannot be used") }
            if !outcome.expiring.isEmpty || !outcome.broken.isEmpty { throw ExitCode(1) }
        }
    }
}
