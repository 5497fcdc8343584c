#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SealpostConfig
import SealpostTLS

/// `sealpost tls status`: what each SMTP server service presents, and whether it is due for renewal.
struct TLSStatusReport {
    let configuration: Configuration
    let now: Date
    let warningDays: Int

    /// How the report ends.
    struct Outcome {
        var text = ""
        /// Certificates that expire within the warning window (or have expired).
        var expiring: [String] = []
        /// Certificate files that could not be used.
        var broken: [String] = []
    }

    /// The report for every `smtpd` service of master.cf.
    func make() -> Outcome {
        var outcome = Outcome()
        let services = configuration.services.filter { $0.service?.command == "smtpd" }
        if services.isEmpty { outcome.text += "no smtpd service in master.cf\n" }
        for service in services {
            guard let entry = service.service else { continue }
            outcome.text += "service \(entry.key):\n"
            let sources = Self.certificateSources(service)
            if sources.isEmpty {
                outcome.text += "  no server certificate configured\n"
                continue
            }
            let hostname = service.string("myhostname")
            let port = service.endpoint?.port ?? 25
            for source in sources {
                describe(source, hostname: hostname, port: port, into: &outcome)
            }
        }
        return outcome
    }

    /// Where a service's certificates come from: `smtpd_tls_chain_files` when set (it replaces the rest),
    /// else each non-empty certificate/key parameter pair.
    enum Source {
        case chainFiles([String])
        case pair(certificateFile: String, keyFile: String)

        var label: String {
            switch self {
            case .chainFiles(let files): "chain files " + files.joined(separator: ", ")
            case .pair(let certificate, let key): certificate == key ? certificate : "\(certificate) (key \(key))"
            }
        }
    }

    static func certificateSources(_ service: ServiceConfiguration) -> [Source] {
        let chainFiles = service.list("smtpd_tls_chain_files")
        if !chainFiles.isEmpty { return [.chainFiles(chainFiles)] }
        return [
            ("smtpd_tls_cert_file", "smtpd_tls_key_file"), ("smtpd_tls_eccert_file", "smtpd_tls_eckey_file"),
            ("smtpd_tls_dcert_file", "smtpd_tls_dkey_file"),
        ].compactMap { certificateParameter, keyParameter in
            let certificate = service.string(certificateParameter)
            guard !certificate.isEmpty, certificate != "none" else { return nil }
            let key = service.string(keyParameter)
            return .pair(certificateFile: certificate, keyFile: key.isEmpty ? certificate : key)
        }
    }

    private func describe(_ source: Source, hostname: String, port: Int, into outcome: inout Outcome) {
        let certifiedKeys: [CertifiedKey]
        do throws(TLSCredentialError) {
            switch source {
            case .chainFiles(let files): certifiedKeys = try CertifiedKey.loadChainFiles(files).certifiedKeys
            case .pair(let certificate, let key): certifiedKeys = [try CertifiedKey.load(certificateFile: certificate, keyFile: key)]
            }
        } catch {
            outcome.text += "  \(source.label): unusable: \(error.reason)\n"
            outcome.broken.append(source.label)
            return
        }
        for certified in certifiedKeys {
            let leaf = certified.leaf.details
            let secondsLeft = leaf.notAfter.timeIntervalSince(now)
            let daysLeft = Int((secondsLeft / 86_400).rounded(.down))
            let expiring = secondsLeft < Double(warningDays) * 86_400
            if expiring { outcome.expiring.append("\(leaf.displayName) in \(certified.certificateFile)") }
            let names = leaf.subjectAlternativeNames

            outcome.text += "  certificate \(certified.certificateFile)\(certified.keyFile == certified.certificateFile ? "" : " (key \(certified.keyFile))")\n"
            outcome.text += "    subject: \(leaf.subject.isEmpty ? "(empty)" : leaf.subject)\n"
            outcome.text += "    names: \(names.isEmpty ? "(no subjectAltName)" : names.joined(separator: ", "))\n"
            outcome.text += "    issuer: \(leaf.issuer)\(leaf.isSelfSigned ? " (self-signed)" : "")\n"
            let when = leaf.notAfter < now ? "EXPIRED \(-daysLeft) days ago" : "\(daysLeft) days left"
            outcome.text += "    expires: \(TLSWorkspace.utcText(leaf.notAfter)) (\(when))\(expiring ? " *** renew: within \(warningDays) days" : "")\n"
            outcome.text += "    key: \(leaf.publicKey)\n"
            outcome.text += "    chain: \(Self.chainSummary(certified.chain))\n"
            let covered = Self.covers(leaf, hostname: hostname)
            outcome.text += "    myhostname \(hostname): \(covered ? "covered" : "NOT covered")\n"
            outcome.text += "    TLSA: \(TLSARecord(daneEEFor: certified.privateKey).zoneLine(hostname: hostname, port: port))\n"
        }
    }

    /// Whether the chain goes from the leaf through each issuer in order, and whether it looks complete.
    ///
    /// Without the clients' trust stores this is a heuristic: a lone certificate that is not self-signed
    /// almost always lacks the CA's intermediate certificates.
    static func chainSummary(_ chain: [Certificate]) -> String {
        for index in chain.indices.dropLast() where !chain[index].isIssued(by: chain[index + 1]) {
            return "BROKEN: certificate \(index + 1) (\(chain[index].details.displayName)) is not issued by certificate "
                + "\(index + 2) (\(chain[index + 1].details.displayName))"
        }
        let last = chain[chain.count - 1].details
        let count = chain.count == 1 ? "1 certificate" : "\(chain.count) certificates"
        if last.isSelfSigned { return "complete, \(count), ends at self-signed \(last.displayName)" }
        if chain.count == 1 { return "INCOMPLETE: leaf only; add the intermediate certificates of \(last.issuer)" }
        return "complete, \(count), ends at an intermediate issued by \(last.issuer)"
    }

    /// RFC 6125 matching: DNS subjectAltNames (a `*.` wildcard covering one label), else the common name.
    static func covers(_ certificate: CertificateDetails, hostname: String) -> Bool {
        let host = hostname.lowercased().trimmingSuffixDot
        let dnsNames = certificate.subjectAlternativeNames.filter { !$0.contains(":") && !$0.allSatisfy { $0.isNumber || $0 == "." } }
        let candidates = certificate.subjectAlternativeNames.isEmpty ? [certificate.subjectCommonName].compactMap { $0 } : dnsNames
        return candidates.contains { name in
            let name = name.lowercased().trimmingSuffixDot
            if name.hasPrefix("*.") {
                guard let dot = host.firstIndex(of: ".") else { return false }
                return host[host.index(after: dot)...] == name.dropFirst(2) && dot != host.startIndex
            }
            return name == host
        }
    }
}

extension String {
    fileprivate var trimmingSuffixDot: String { hasSuffix(".") ? String(dropLast()) : self }
}
