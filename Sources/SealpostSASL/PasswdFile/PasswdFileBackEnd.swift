import Logging
import NIOPosix
import SealpostConfig
import Synchronization

/// `smtpd_sasl_type = passwd-file` (a Sealpost extension): PLAIN and LOGIN checked against a
/// Dovecot-format passwd-file (`smtpd_sasl_path`), the built-in alternative to running Dovecot.
///
/// The file is read on first use and again when it changes; whether it changed is looked up (one
/// stat) at most once per `reloadInterval`. Each load logs its findings: unusable lines as errors,
/// clear-text passwords, duplicates and loose permissions as warnings. While the file cannot be
/// read, logins fail temporarily (454), so removing the file locks everyone out.
///
/// Hashing runs on NIO's thread pool, never on an event loop. A login name that is not in the file
/// is still hashed (against the first hash in the file), so the answer takes as long as for a
/// wrong password.
public final class PasswdFileBackEnd: SASLServerBackEnd {
    public let path: String
    private let logger: Logger
    private let reloadInterval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let threadPool: NIOThreadPool

    private struct Cache {
        var file: PasswdFile?
        var identity: PasswdFileIO.Identity?
        var lastCheck: ContinuousClock.Instant?
        var lastError: PasswdFileError?
        var loads = 0
    }
    private let cache = Mutex(Cache())

    /// - Parameters:
    ///   - now: the clock; tests pass their own.
    public init(
        path: String, logger: Logger, reloadInterval: Duration = .seconds(1),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        threadPool: NIOThreadPool = .singleton
    ) {
        self.path = path
        self.logger = logger
        self.reloadInterval = reloadInterval
        self.now = now
        self.threadPool = threadPool
    }

    static let mechanisms = [PlainMechanism.mechanismDescription, LoginMechanism.mechanismDescription]

    public func availableMechanisms() async throws(SASLBackEndUnavailable) -> [SASLMechanismDescription] {
        Self.mechanisms
    }

    public func makeConversation(mechanism: SASLMechanismName, session: SASLSessionInfo, service: String) -> any SASLConversation {
        PasswdFileConversation(backEnd: self, mechanism: mechanism)
    }

    public func shutdown() async {}

    /// How many times the file has been (re)loaded: for tests and diagnostics.
    public var loadCount: Int { cache.withLock { $0.loads } }

    /// The file as it is now, reloaded if it changed and the last check is older than the interval.
    public func currentFile() -> Result<PasswdFile, PasswdFileError> {
        let instant = now()
        var findings: [ConfigurationDiagnostic] = []
        var newError: PasswdFileError?
        let result: Result<PasswdFile, PasswdFileError> = cache.withLock { cache in
            if let file = cache.file, let last = cache.lastCheck, instant - last < reloadInterval {
                return .success(file)
            }
            if cache.file == nil, let error = cache.lastError, let last = cache.lastCheck, instant - last < reloadInterval {
                return .failure(error)
            }
            cache.lastCheck = instant
            switch PasswdFileIO.identity(of: path) {
            case .failure(let error):
                let failure = PasswdFileError(path: path, reason: "cannot open: \(error.reason)")
                if cache.lastError != failure { newError = failure }
                cache = Cache(file: nil, identity: nil, lastCheck: instant, lastError: failure, loads: cache.loads)
                return .failure(failure)
            case .success(let identity):
                if let file = cache.file, identity == cache.identity { return .success(file) }
            }
            do throws(PasswdFileError) {
                let (file, identity) = try PasswdFile.loadWithIdentity(path: path)
                cache = Cache(file: file, identity: identity, lastCheck: instant, lastError: nil, loads: cache.loads + 1)
                findings = file.diagnostics
                return .success(file)
            } catch {
                if cache.lastError != error { newError = error }
                cache = Cache(file: nil, identity: nil, lastCheck: instant, lastError: error, loads: cache.loads)
                return .failure(error)
            }
        }
        for finding in findings {
            switch finding.severity {
            case .error: logger.error("\(finding.description)")
            case .warning: logger.warning("\(finding.description)")
            case .notice: logger.notice("\(finding.description)")
            }
        }
        if let newError { logger.error("SASL passwd-file \(newError.description); logins fail until it can be read") }
        return result
    }

    /// Checks credentials against the file, on the thread pool.
    public func verify(_ credentials: SASLCredentials) async -> SASLStep {
        do {
            return try await threadPool.runIfActive { self.verifyNow(credentials) }
        } catch {
            return .temporaryFailure(reason: SASLFailureReason.backEndError)
        }
    }

    /// Checks credentials on the calling thread (hashing takes milliseconds: not on an event loop).
    public func verifyNow(_ credentials: SASLCredentials) -> SASLStep {
        let file: PasswdFile
        switch currentFile() {
        case .success(let current): file = current
        case .failure: return .temporaryFailure(reason: SASLFailureReason.backEndError)
        }
        let login = credentials.authenticationIdentity
        // Dovecot refuses an authzid other than the login name without a master passdb; so do we.
        if credentials.requestsOtherIdentity {
            logger.info("SASL passwd-file: login as \(Printable.text(login)) asks to act as another user; refused")
            return .failure(reason: nil, username: Printable.text(login))
        }
        guard let entry = file.entry(for: login), let stored = entry.password else {
            Self.spendHashingTime(credentials.password, like: file)
            return .failure(reason: nil, username: Printable.text(login))
        }
        return Self.matches(credentials.password, stored)
            ? .success(username: entry.username) : .failure(reason: nil, username: Printable.text(login))
    }

    static func matches(_ password: [UInt8], _ stored: StoredPassword) -> Bool {
        switch stored {
        case .plain(let expected):
            return ConstantTime.equal(password, expected)
        case .crypt(let hash, _):
            // crypt(3) stops at a NUL, so "secret\0anything" must not pass for "secret".
            guard !password.contains(0), let computed = Crypt.hash(password, setting: hash) else { return false }
            return ConstantTime.equal(computed.utf8, hash.utf8)
        }
    }

    private static func spendHashingTime(_ password: [UInt8], like file: PasswdFile) {
        let sample = file.entries.values.sorted { $0.line < $1.line }.lazy.compactMap { entry -> String? in
            if case .crypt(let hash, _)? = entry.password { return hash }
            return nil
        }.first
        _ = Crypt.hash(password, setting: sample ?? "$6$SealpostTiming$")
    }
}

/// One AUTH exchange run by the built-in mechanisms, checked against the passwd-file.
struct PasswdFileConversation: SASLConversation {
    private let backEnd: PasswdFileBackEnd
    private var mechanism: any SASLServerMechanism

    init(backEnd: PasswdFileBackEnd, mechanism: SASLMechanismName) {
        self.backEnd = backEnd
        self.mechanism = mechanism == .login ? LoginMechanism() : PlainMechanism()
    }

    mutating func start(initialResponse: [UInt8]?) async -> SASLStep {
        await perform(mechanism.start(initialResponse: initialResponse))
    }

    mutating func respond(_ response: [UInt8]) async -> SASLStep {
        await perform(mechanism.receive(response))
    }

    mutating func abandon() async {}

    private func perform(_ action: SASLMechanismAction) async -> SASLStep {
        switch action {
        case .challenge(let challenge):
            return .challenge(challenge)
        case .verify(let credentials):
            return await backEnd.verify(credentials)
        case .fail:
            // Dovecot gives no reason for a malformed message either.
            return .failure(reason: nil, username: nil)
        }
    }
}
