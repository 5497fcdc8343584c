import Foundation
import SealpostTestSupport
import Testing

/// A real Dovecot (Debian's dovecot-core) with its own configuration in a temporary directory:
/// no mail protocols, one passwd-file passdb, and its auth-client socket at ``socketPath``. Runs in
/// the foreground (`dovecot -F`) as the current user; ``stop()`` kills it, and so does deinit.
final class DovecotInstance {
    let directory: TemporaryDirectory
    var socketPath: String { directory.path + "/auth" }
    var passwdPath: String { directory.path + "/passwd" }
    private let executable: String
    private var process: Process?

    /// Starts Dovecot with `passwd` as its passwd-file; nil when Dovecot is not installed (an Issue
    /// under CI).
    static func start(passwd: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> DovecotInstance? {
        guard let executable = Peer.require("dovecot", package: "dovecot-core", sourceLocation: sourceLocation) else { return nil }
        let instance = try DovecotInstance(executable: executable)
        try passwd.write(toFile: instance.passwdPath, atomically: false, encoding: .utf8)
        chmod(instance.passwdPath, 0o600)
        try instance.start()
        return instance
    }

    private init(executable: String) throws {
        self.executable = executable
        directory = try TemporaryDirectory()
        let user = String(cString: getpwuid(geteuid()).pointee.pw_name)
        let group = String(cString: getgrgid(getegid()).pointee.gr_name)
        let base = directory.path
        try FileManager.default.createDirectory(atPath: base + "/run", withIntermediateDirectories: true)
        try """
            base_dir = \(base)/run
            state_dir = \(base)/state
            log_path = \(base)/dovecot.log
            protocols =
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            auth_verbose = yes
            # Dovecot delays each failure by 2 s by default; the tests need no tar pit.
            auth_failure_delay = 0
            default_internal_user = \(user)
            default_internal_group = \(group)
            default_login_user = \(user)
            passdb {
              driver = passwd-file
              args = \(base)/passwd
            }
            userdb {
              driver = static
              args = uid=\(geteuid()) gid=\(getegid()) home=\(base)
            }
            service auth {
              unix_listener auth-client {
                path = \(base)/auth
                mode = 0600
              }
            }

            """.write(toFile: base + "/dovecot.conf", atomically: false, encoding: .utf8)
    }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-F", "-c", directory.path + "/dovecot.conf"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let ready = waitUntil(timeout: 20) { Self.canConnect(self.socketPath) || !process.isRunning }
        guard ready, process.isRunning else {
            throw FixtureError("dovecot did not start: \(log)")
        }
    }

    /// Kills Dovecot and its children at once (they share its process group), as a crash would:
    /// the socket file stays behind. Tests need no graceful stop, and Dovecot's takes seconds.
    func stop() {
        guard let process else { return }
        let pid = process.processIdentifier
        // Dovecot's master leads its own process group; a group id is its leader's pid.
        if pid > 1, getpgid(pid) == pid { kill(-pid, SIGKILL) } else if pid > 1 { kill(pid, SIGKILL) }
        process.waitUntilExit()
        self.process = nil
    }

    var log: String {
        (try? String(contentsOfFile: directory.path + "/dovecot.log", encoding: .utf8)) ?? ""
    }

    deinit { stop() }

    static func canConnect(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }
}
