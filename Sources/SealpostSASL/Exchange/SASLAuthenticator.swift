import Logging
import NIOCore
import NIOPosix

/// SMTP AUTH for one service: the mechanisms to announce and the whole exchange of an AUTH
/// command, over the back end the settings select. One instance serves every session of the
/// service (the Dovecot connection is shared); make a new one on reload and ``shutdown()`` the old.
///
/// The server checks the command's preconditions itself (HELO, `smtpd_tls_auth_only`, already
/// authenticated, transaction in progress, syntax: see ``SASLReply``), then calls
/// ``authenticate(mechanism:initialResponse:session:exchange:)``.
public final class SASLAuthenticator: Sendable {
    public let settings: SASLServerSettings
    public let backEnd: any SASLServerBackEnd
    private let logger: Logger

    /// An authenticator with the back end the settings name.
    public convenience init(settings: SASLServerSettings, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        let backEnd: any SASLServerBackEnd
        switch settings.backEnd {
        case .dovecot(let endpoint): backEnd = DovecotBackEnd(endpoint: endpoint, group: group, logger: logger)
        case .passwdFile(let path): backEnd = PasswdFileBackEnd(path: path, logger: logger)
        }
        self.init(settings: settings, backEnd: backEnd, logger: logger)
    }

    public init(settings: SASLServerSettings, backEnd: any SASLServerBackEnd, logger: Logger) {
        self.settings = settings
        self.backEnd = backEnd
        self.logger = logger
    }

    /// The mechanisms to offer a session, in the back end's order: those that pass
    /// `smtpd_sasl_mechanism_filter` and the security options for an encrypted or unencrypted
    /// session. Empty means: do not announce AUTH. Throws when the back end is unreachable (then
    /// announce no AUTH either; the back end has logged why).
    public func mechanisms(encrypted: Bool) async throws(SASLBackEndUnavailable) -> [SASLMechanismName] {
        let options = settings.securityOptions(encrypted: encrypted)
        return try await backEnd.availableMechanisms()
            .filter { settings.mechanismFilter.allows($0.name) && options.allows($0.properties) }
            .map(\.name)
    }

    /// A client line answering a `334` challenge. Its description shows the length only.
    public enum ClientResponse: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// The line without CRLF.
        case line([UInt8])
        /// The line was longer than the limit given with the challenge (its rest was discarded).
        case tooLong

        public var description: String {
            switch self {
            case .line(let bytes): "line(<\(bytes.count) bytes>)"
            case .tooLong: "tooLong"
            }
        }

        public var debugDescription: String { description }
        public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
    }

    /// Runs one AUTH command to its end.
    ///
    /// - Parameters:
    ///   - mechanism: the command's first argument as the client sent it.
    ///   - initialResponse: its second argument, if any.
    ///   - exchange: sends a `334` line and returns the client's next line, read with at most the
    ///     given number of bytes. When it throws (the client went away, a timeout), the back end's
    ///     conversation is abandoned and the error passed on.
    /// - Returns: the reply to send and the outcome. Log ``AuthenticationResult/warning(client:)``
    ///   when it is not nil; count ``AuthenticationResult/isFailedLogin`` with the throttle.
    public func authenticate(
        mechanism: String, initialResponse: String?, session: SASLSessionInfo,
        exchange: (_ challengeLine: String, _ responseLimit: Int) async throws -> ClientResponse
    ) async throws -> AuthenticationResult {
        let offered: [SASLMechanismName]
        do {
            offered = try await mechanisms(encrypted: session.isEncrypted)
        } catch {
            return AuthenticationResult(outcome: .temporaryFailure(reason: error.reason), mechanism: Printable.text(mechanism))
        }
        var machine = AuthenticationExchange(
            mechanism: mechanism, initialResponse: initialResponse, offered: offered, responseLimit: settings.responseLimit)
        var conversation: (any SASLConversation)?
        var action = machine.start()
        while true {
            switch action {
            case .startBackEnd(let name, let initial):
                var started = backEnd.makeConversation(mechanism: name, session: session, service: settings.service)
                let step = await started.start(initialResponse: initial)
                conversation = started
                action = machine.backEndAnswered(step)
            case .sendChallenge(let line, let limit):
                let response: ClientResponse
                do {
                    response = try await exchange(line, limit)
                } catch {
                    await conversation?.abandon()
                    throw error
                }
                switch response {
                case .line(let bytes): action = machine.clientResponded(bytes)
                case .tooLong: action = machine.clientResponseTooLong()
                }
            case .continueBackEnd(let response):
                guard var current = conversation else {
                    action = machine.backEndAnswered(.temporaryFailure(reason: SASLFailureReason.backEndError))
                    continue
                }
                let step = await current.respond(response)
                conversation = current
                action = machine.backEndAnswered(step)
            case .finish(let result, let abandon):
                if abandon { await conversation?.abandon() }
                return result
            }
        }
    }

    /// Closes the back end's connections.
    public func shutdown() async {
        await backEnd.shutdown()
    }
}
