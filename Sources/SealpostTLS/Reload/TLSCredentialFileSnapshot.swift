import Foundation
import SealpostConfig

/// What the files behind a service's certificate parameters look like on disk: for each path, every hop of its
/// symlink chain (certbot's `/etc/letsencrypt/live/NAME/fullchain.pem → ../../archive/NAME/fullchainN.pem`) and
/// the file it ends at, each as device, inode, size, modification time and mode.
///
/// Two snapshots differ when any file was rewritten, renamed over, re-linked or removed; comparing them is how the
/// certificate watcher notices a renewal without an inotify descriptor per file (a renamed-over file or a swapped
/// symlink leaves an inotify watch on the old inode).
public struct TLSCredentialFileSnapshot: Sendable, Hashable {
    /// The `stat` fields that change when a file is replaced or rewritten.
    public struct FileIdentity: Sendable, Hashable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64
        public var modificationSeconds: Int
        public var modificationNanoseconds: Int
        public var mode: UInt32
    }

    /// One configured path as found on disk.
    public struct Entry: Sendable, Hashable {
        public var path: String
        /// The path itself, then each symlink target in turn; the last is the file read (or the first that failed).
        public var hops: [FileIdentity]
        /// The `errno` of the first hop that could not be examined (0 when every hop could).
        public var error: Int32
        /// `realpath(3)` of the path: a symlinked directory along the way that is swapped changes it.
        public var resolvedPath: String?
    }

    public var entries: [Entry]

    /// Symlink hops followed before giving up, as the kernel's own limit (`ELOOP`).
    static let maximumHops = 40

    /// Examines `paths` now (duplicates once, empty strings skipped).
    public static func take(_ paths: [String]) -> TLSCredentialFileSnapshot {
        var seen: Set<String> = []
        var entries: [Entry] = []
        for path in paths where !path.isEmpty && seen.insert(path).inserted {
            entries.append(examine(path))
        }
        return TLSCredentialFileSnapshot(entries: entries)
    }

    /// The paths whose entries differ between `self` and `newer` (in `newer`'s order, then any that went away).
    public func changedPaths(in newer: TLSCredentialFileSnapshot) -> [String] {
        let old = Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var changed = newer.entries.filter { old[$0.path] != $0 }.map(\.path)
        let current = Set(newer.entries.map(\.path))
        changed += entries.map(\.path).filter { !current.contains($0) }
        return changed
    }

    static func examine(_ path: String) -> Entry {
        var hops: [FileIdentity] = []
        var current = path
        var failure: Int32 = 0
        while hops.count < maximumHops {
            var info = stat()
            guard lstat(current, &info) == 0 else {
                failure = errno
                break
            }
            hops.append(FileIdentity(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                modificationSeconds: info.st_mtim.tv_sec, modificationNanoseconds: info.st_mtim.tv_nsec,
                mode: info.st_mode))
            guard info.st_mode & S_IFMT == S_IFLNK else { break }
            guard let target = readLink(current) else {
                failure = errno
                break
            }
            current = target.hasPrefix("/")
                ? target : (current as NSString).deletingLastPathComponent + "/" + target
        }
        var resolved: String?
        if let pointer = realpath(path, nil) {
            resolved = String(cString: pointer)
            free(pointer)
        }
        return Entry(path: path, hops: hops, error: failure, resolvedPath: resolved)
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length >= 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension TLSServerSettings {
    /// The files a server context is built from, for the certificate watcher: the chain files, the legacy
    /// certificate/key pairs, the CA file and the DH parameter file. Read from the parameters alone, so that a
    /// service whose files are broken right now can still be watched until they are fixed.
    public static func credentialFiles(_ configuration: ServiceConfiguration) -> [String] {
        var files = configuration.list("smtpd_tls_chain_files")
        if files.isEmpty {
            for name in [
                "smtpd_tls_cert_file", "smtpd_tls_key_file", "smtpd_tls_dcert_file", "smtpd_tls_dkey_file",
                "smtpd_tls_eccert_file", "smtpd_tls_eckey_file",
            ] {
                let value = configuration.string(name)
                if value.lowercased() != "none" { files.append(value) }
            }
        }
        files.append(configuration.string("smtpd_tls_CAfile"))
        // `auto` and the empty string name no file.
        let dhFile = configuration.string("smtpd_tls_dh1024_param_file")
        if dhFile.hasPrefix("/") { files.append(dhFile) }
        return files.filter { !$0.isEmpty }
    }

    /// Refuses credentials a running service should not switch to: a certificate that has expired or is not yet
    /// valid. (Unreadable files and a key that does not match its certificate already fail loading.) Start-up
    /// takes such certificates as Postfix does; a reload keeps the working ones instead.
    public func checkCertificatesCurrent(at date: Date = Date()) throws(TLSConfigurationError) {
        for certified in certificates.certifiedKeys {
            let details = certified.leaf.details
            if date > details.notAfter {
                throw TLSConfigurationError(
                    .credential, parameter: certificates.origin, path: certified.certificateFile,
                    reason: "\(certified.certificateFile): certificate \(details.displayName) expired on "
                        + X509Text.utcText(details.notAfter))
            }
            if date < details.notBefore {
                throw TLSConfigurationError(
                    .credential, parameter: certificates.origin, path: certified.certificateFile,
                    reason: "\(certified.certificateFile): certificate \(details.displayName) is not valid before "
                        + X509Text.utcText(details.notBefore))
            }
        }
    }

    /// One line per certificate, for the `certificate reloaded` log line: subject and expiry.
    public var certificateSummary: String {
        certificates.certifiedKeys.map { certified in
            let details = certified.leaf.details
            return "subject=\(details.subject), expires \(X509Text.utcText(details.notAfter))"
        }.joined(separator: "; ")
    }
}
