/// What a server-side mechanism wants after an event.
public enum SASLMechanismAction: Sendable, Equatable {
    /// Send this challenge (raw bytes; the SMTP layer encodes it) and wait for the next response.
    case challenge([UInt8])
    /// The client has said everything: check these credentials.
    case verify(SASLCredentials)
    /// The client's message does not fit the mechanism; the exchange is over.
    case fail(SASLMechanismFailure)
}

/// Why a mechanism gave up on a client's message. No case carries the message itself.
public enum SASLMechanismFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message does not have the mechanism's structure (PLAIN: not exactly two NULs).
    case malformedMessage
    /// The login name is empty, not UTF-8, or has control characters.
    case invalidUsername
    /// The password is empty.
    case emptyPassword
    /// A response arrived after the mechanism had finished.
    case unexpectedResponse

    public var description: String {
        switch self {
        case .malformedMessage: "malformed message"
        case .invalidUsername: "invalid user name"
        case .emptyPassword: "empty password"
        case .unexpectedResponse: "unexpected response"
        }
    }
}

/// A server-side SASL mechanism as a state machine: `start` with the optional initial response,
/// then `receive` each client response; every call returns the next action. After `verify` or
/// `fail` the mechanism is finished and any further response fails.
public protocol SASLServerMechanism: Sendable {
    static var name: SASLMechanismName { get }
    static var properties: SASLMechanismProperties { get }

    init()
    /// The exchange begins; `initialResponse` is the decoded response sent with AUTH, if any (an
    /// empty array for RFC 4954's `=`).
    mutating func start(initialResponse: [UInt8]?) -> SASLMechanismAction
    /// The client answered the last challenge.
    mutating func receive(_ response: [UInt8]) -> SASLMechanismAction
}

extension SASLServerMechanism {
    static var mechanismDescription: SASLMechanismDescription { .init(name: name, properties: properties) }
}

enum LoginName {
    /// A login name as the back ends accept it: non-empty UTF-8 without control characters.
    static func validated(_ bytes: some Collection<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return nil }
        return String(validating: Array(bytes), as: UTF8.self)
    }
}
