#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The trust anchors named by `smtpd_tls_CAfile` and `smtpd_tls_CApath`.
public enum CertificateAuthorities {
    /// Every certificate in a CA file; throws `noCACertificates` when it holds none.
    public static func loadCAFile(_ path: String) throws(TLSCredentialError) -> [Certificate] {
        let bytes = try CredentialFile.contents(of: path, role: .caFile)
        do {
            return try Certificate.certificates(inPEM: bytes, path: path, role: .caFile)
        } catch let error where error.code == .noCertificate || error.code == .notPEM {
            throw TLSCredentialError(
                .noCACertificates, path: path,
                reason: "CA file \(path) holds no certificate", openSSLErrors: error.openSSLErrors)
        }
    }

    /// The OpenSSL hash links (`3513523f.0`, `3513523f.r0`) in a CA directory, sorted.
    ///
    /// Throws `fileMissing`, `caPathNotDirectory` or `fileUnreadable` when it cannot be listed.
    public static func hashLinks(inCAPath path: String) throws(TLSCredentialError) -> [String] {
        var status = stat()
        if stat(path, &status) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                throw TLSCredentialError(.fileMissing, path: path, reason: "CA path \(path) does not exist")
            }
            throw TLSCredentialError(
                .fileUnreadable, path: path, reason: "cannot read CA path \(path): \(CredentialFile.describe(errno: code))")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw TLSCredentialError(.caPathNotDirectory, path: path, reason: "CA path \(path) is not a directory")
        }
        guard let directory = opendir(path) else {
            throw TLSCredentialError(
                .fileUnreadable, path: path, reason: "cannot read CA path \(path): \(CredentialFile.describe(errno: errno))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if isHashLinkName(name) { names.append(name) }
        }
        return names.sorted()
    }

    /// `xxxxxxxx.N` (a certificate) or `xxxxxxxx.rN` (a CRL), with eight hex digits.
    static func isHashLinkName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 8, parts[0].allSatisfy(\.isHexDigit) else { return false }
        let suffix = parts[1].hasPrefix("r") ? parts[1].dropFirst() : parts[1][...]
        return !suffix.isEmpty && suffix.allSatisfy(\.isNumber)
    }
}
