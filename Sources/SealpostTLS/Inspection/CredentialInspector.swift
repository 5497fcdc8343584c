#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The checks `sealpost check` and start-up run on the TLS files named in main.cf.
///
/// Each function returns every finding it can make rather than stopping at the first, so that an admin
/// sees an expired certificate and a loose key file mode in one run. A parameter set to `none` (no
/// certificate: anonymous ciphers only) or left empty is the caller's to skip; these functions are for
/// file names.
public enum CredentialInspector {
    /// The default warning window for certificates that expire soon.
    public static let defaultExpiryWarningDays = 30

    /// Checks one certificate file and key file pair (`smtpd_tls_cert_file`/`smtpd_tls_key_file`,
    /// or the `eccert`/`eckey` pair): both load, the key is not encrypted and matches, the chain is
    /// leaf first, every certificate is valid at `now`, and the key file is private.
    public static func inspectServerCredentials(
        certificateFile: String,
        keyFile: String,
        now: Date = Date(),
        expiryWarningDays: Int = defaultExpiryWarningDays
    ) -> [CredentialFinding] {
        var findings: [CredentialFinding] = []
        findings += keyFilePermissionFindings(keyFile)
        if certificateFile == keyFile {
            do {
                let contents = try CertifiedKey.loadCombinedFile(certificateFile)
                findings += contents.warnings
                for certified in contents.certifiedKeys {
                    findings += chainFindings(certified.chain, file: certificateFile, now: now, expiryWarningDays: expiryWarningDays)
                }
            } catch {
                findings.append(CredentialFinding(error))
            }
            return findings
        }

        // Load the two files separately first, so that a broken key does not hide an expired certificate.
        var chain: [Certificate]?
        var key: PrivateKey?
        do {
            chain = try Certificate.loadPEMFile(certificateFile)
        } catch {
            findings.append(CredentialFinding(error))
        }
        do {
            key = try PrivateKey.loadPEMFile(keyFile)
        } catch {
            findings.append(CredentialFinding(error))
        }
        if let chain {
            if let key, !key.matches(chain[0]) {
                findings.append(CredentialFinding(
                    CertifiedKey.mismatch(key: key, keyFile: keyFile, leaf: chain[0], certificateFile: certificateFile)))
            }
            findings += chainFindings(chain, file: certificateFile, now: now, expiryWarningDays: expiryWarningDays)
        }
        return findings
    }

    /// Checks `smtpd_tls_chain_files`: the files load in Postfix's order (key, certificate, issuers), each
    /// key matches its certificate, one chain per algorithm, each chain is leaf first and valid at `now`,
    /// and every file holding a key is private.
    public static func inspectChainFiles(
        _ files: [String],
        now: Date = Date(),
        expiryWarningDays: Int = defaultExpiryWarningDays
    ) -> [CredentialFinding] {
        let contents: ChainFileContents
        do {
            contents = try CertifiedKey.loadChainFiles(files)
        } catch {
            var findings = [CredentialFinding(error)]
            for file in files where CredentialFile.exists(file) {
                findings += keyFilePermissionFindings(file)
            }
            return findings
        }
        var findings = contents.warnings
        for file in contents.keyFiles {
            findings += keyFilePermissionFindings(file)
        }
        for certified in contents.certifiedKeys {
            findings += chainFindings(
                certified.chain, file: certified.certificateFile, now: now, expiryWarningDays: expiryWarningDays)
        }
        return findings
    }

    /// Checks a DH parameter file (`smtpd_tls_dh1024_param_file`): it holds DH parameters, and their
    /// prime is at least 2048 bits (shorter primes are a warning).
    public static func inspectDHParameterFile(_ file: String) -> [CredentialFinding] {
        do {
            let parameters = try DHParameters.loadPEMFile(file)
            let bits = parameters.details.primeBits
            if bits < DHParameters.recommendedMinimumBits {
                return [CredentialFinding(
                    severity: .warning, code: .weakDHParameters, path: file,
                    message: "DH parameter file \(file): the prime has \(bits) bits; use at least "
                        + "\(DHParameters.recommendedMinimumBits) (openssl genpkey -genparam -algorithm DH "
                        + "-pkeyopt group:ffdhe2048 -out \(file))")]
            }
            return []
        } catch {
            return [CredentialFinding(error)]
        }
    }

    /// Checks a CA file (`smtpd_tls_CAfile`): it holds at least one certificate.
    public static func inspectCAFile(_ file: String) -> [CredentialFinding] {
        do {
            _ = try CertificateAuthorities.loadCAFile(file)
            return []
        } catch {
            return [CredentialFinding(error)]
        }
    }

    /// Checks a CA directory (`smtpd_tls_CApath`): it is a readable directory, and holds OpenSSL hash
    /// links (a warning when it has none, as `openssl rehash` makes them).
    public static func inspectCAPath(_ directory: String) -> [CredentialFinding] {
        do {
            let links = try CertificateAuthorities.hashLinks(inCAPath: directory)
            if links.isEmpty {
                return [CredentialFinding(
                    severity: .warning, code: .caPathWithoutHashLinks, path: directory,
                    message: "CA path \(directory) holds no OpenSSL hash links (such as 3513523f.0), so OpenSSL "
                        + "finds no certificate in it; run: openssl rehash \(directory)")]
            }
            return []
        } catch {
            return [CredentialFinding(error)]
        }
    }

    // MARK: - Shared checks

    /// Chain order and validity period of every certificate of one chain.
    static func chainFindings(
        _ chain: [Certificate], file: String, now: Date, expiryWarningDays: Int
    ) -> [CredentialFinding] {
        var findings: [CredentialFinding] = []
        for position in chain.indices.dropLast() where !chain[position].isIssued(by: chain[position + 1]) {
            let subject = chain[position]
            let next = chain[position + 1]
            let hint = next.isIssued(by: subject)
                ? " (it is the other way round: put the leaf certificate first, then each issuer)"
                : " (each certificate must be followed by the one that issued it)"
            findings.append(CredentialFinding(TLSCredentialError(
                .chainOrder, path: file,
                reason: "certificate file \(file): certificate \(position + 1) (\(subject.details.displayName)) is not issued "
                    + "by certificate \(position + 2) (\(next.details.displayName))" + hint)))
        }
        for (position, certificate) in chain.enumerated() {
            findings += validityFindings(
                certificate.details, label: "certificate \(position + 1) (\(certificate.details.displayName))",
                file: file, now: now, expiryWarningDays: expiryWarningDays)
        }
        return findings
    }

    /// Expired and not yet valid are errors; expiring within the window is a warning.
    static func validityFindings(
        _ details: CertificateDetails, label: String, file: String, now: Date, expiryWarningDays: Int
    ) -> [CredentialFinding] {
        if details.notAfter < now {
            return [CredentialFinding(TLSCredentialError(
                .certificateExpired, path: file,
                reason: "\(file): \(label) expired on \(X509Text.utcText(details.notAfter))"))]
        }
        if details.notBefore > now {
            return [CredentialFinding(TLSCredentialError(
                .certificateNotYetValid, path: file,
                reason: "\(file): \(label) is not valid before \(X509Text.utcText(details.notBefore))"))]
        }
        let remaining = details.notAfter.timeIntervalSince(now)
        if remaining < TimeInterval(expiryWarningDays) * 86_400 {
            let days = Int(remaining / 86_400)
            return [CredentialFinding(
                severity: .warning, code: .certificateExpiringSoon, path: file,
                message: "\(file): \(label) expires in \(days) day\(days == 1 ? "" : "s"), on \(X509Text.utcText(details.notAfter))")]
        }
        return []
    }

    /// A key file that group or others may read or write is a warning, naming its mode.
    static func keyFilePermissionFindings(_ file: String) -> [CredentialFinding] {
        guard let mode = CredentialFile.permissions(of: file), mode & 0o077 != 0 else { return [] }
        return [CredentialFinding(
            severity: .warning, code: .keyFilePermissions, path: file,
            message: "private key file \(file) is accessible by group or others (mode \(CredentialFile.octal(mode))); "
                + "make it readable by its owner only: chmod 600 \(file)")]
    }
}
