/// What a client proved it knows: a login name, the password, and the identity it wants to act as.
///
/// The password never appears in a description, a debug description or a mirror, so credentials
/// can be logged or put in an error by mistake without leaking.
public struct SASLCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The authorization identity (RFC 4616 authzid): whom the client wants to act as; nil when the
    /// client sent none (the usual case), which means the authentication identity itself.
    public var authorizationIdentity: String?
    /// The authentication identity (RFC 4616 authcid): the login name.
    public var authenticationIdentity: String
    /// The password, as the client sent it.
    public var password: [UInt8]

    public init(authorizationIdentity: String? = nil, authenticationIdentity: String, password: [UInt8]) {
        self.authorizationIdentity = authorizationIdentity
        self.authenticationIdentity = authenticationIdentity
        self.password = password
    }

    /// Whether the client asks to act as someone other than the login name (a "master user"
    /// login), which only a back end that allows it may accept.
    public var requestsOtherIdentity: Bool {
        guard let authorizationIdentity else { return false }
        return authorizationIdentity != authenticationIdentity
    }

    public var description: String {
        let authzid = authorizationIdentity.map { ", authzid: \(Printable.text($0))" } ?? ""
        return "SASLCredentials(authcid: \(Printable.text(authenticationIdentity))\(authzid), password: <redacted>)"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "authorizationIdentity": authorizationIdentity as Any,
                "authenticationIdentity": authenticationIdentity,
                "password": "<redacted>",
            ])
    }
}
