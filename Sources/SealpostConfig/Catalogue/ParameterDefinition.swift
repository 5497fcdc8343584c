/// What kind of value a parameter holds, and so how its text is checked and converted.
///
/// Every kind follows Postfix's own conversion rules (`mail_conf_bool`, `conv_time`, …), with one
/// deliberate difference: trailing junk after a time unit (`10sx`) is an error here, where Postfix
/// silently ignores it.
public enum ParameterKind: Sendable, Hashable {
    /// `yes` or `no`, in any letter case.
    case boolean
    /// A decimal integer.
    case integer
    /// A number of bytes, written as a decimal integer.
    case size
    /// A number with an optional unit `s`, `m`, `h`, `d` or `w`; `defaultUnit` applies when the
    /// unit is left out (Postfix uses `d` for the queue lifetimes, `s` almost everywhere else).
    case time(defaultUnit: Character)
    /// Free text (host names, paths, banners, cipher strings).
    case string
    /// Words separated by commas and/or whitespace; `{ … }` groups text that contains separators.
    case list
    /// A list of lookup-table references (`type:name`), each opened and checked at start-up.
    case tables
    /// One word out of a fixed set, compared without regard to letter case.
    case choice([String])
    /// A TLS protocol list in any of Postfix's syntaxes: `>=TLSv1.2`, `<=TLSv1.3`,
    /// `!SSLv2, !SSLv3`, or bare protocol names.
    case tlsProtocols
}

/// Where a parameter stands in this version of Sealpost.
///
/// A parameter that an administrator sets is never silently ignored: `check` and start-up report
/// every explicitly set parameter whose status is not ``implemented``.
public enum ParameterStatus: Sendable, Hashable {
    /// Honoured as Postfix documents it.
    case implemented
    /// Checked for syntax now (and, for files, for existence and validity), but not in effect until
    /// the named part of Sealpost arrives.
    case planned(Milestone)
    /// Accepted and deliberately without effect, with the reason (Postfix ignores it too, or it
    /// only concerns Postfix's own process model).
    case ignored(String)
    /// A Postfix feature that Sealpost does not offer; setting it is a warning with the reason.
    case unsupported(String)
}

/// A part of Sealpost that brings parameters into effect.
public enum Milestone: String, Sendable, Hashable, CaseIterable {
    case tlsEngine = "the TLS engine"
    case smtpServer = "the SMTP server"
    case queue = "the queue manager"
    case delivery = "outbound delivery"
    case localDelivery = "local delivery"
    case tlsOperations = "TLS operations"
    case dane = "DANE"
    case cleanup = "header and address rewriting (cleanup)"
    case later = "a later version"
}

/// Where a parameter comes from, which decides what `conf -d` is compared against.
public enum ParameterOrigin: Sendable, Hashable {
    /// A Postfix 3.7 parameter; `conf -d` prints Postfix 3.7's default unless the parameter is
    /// listed in ``ParameterCatalogue/deliberateDefaultDifferences``.
    case postfix
    /// A parameter that Postfix added after 3.7 (the version in the string); the default is that
    /// version's.
    case laterPostfix(String)
    /// A Sealpost extension, named in Postfix's style and documented in the README.
    case sealpost
}

/// One entry of the parameter catalogue: the name, kind, default and meaning of a parameter.
public struct ParameterDefinition: Sendable, Hashable {
    public let name: String
    public let kind: ParameterKind
    /// The default exactly as `postconf -d` prints it, unexpanded (it may contain `$name` and
    /// Postfix 3.6 relational expressions). Parameters whose default depends on the host
    /// (``ParameterCatalogue/hostDependentNames``) carry an empty string here.
    public let defaultValue: String
    /// One line saying what the parameter does.
    public let summary: String
    public let status: ParameterStatus
    public let origin: ParameterOrigin
    /// The smallest accepted value, in the kind's base unit (seconds for times, bytes for sizes).
    public let minimum: Int?
    /// The largest accepted value, in the kind's base unit.
    public let maximum: Int?

    public init(
        _ name: String,
        _ kind: ParameterKind,
        default defaultValue: String,
        _ summary: String,
        status: ParameterStatus,
        origin: ParameterOrigin = .postfix,
        minimum: Int? = nil,
        maximum: Int? = nil
    ) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
        self.status = status
        self.origin = origin
        self.minimum = minimum
        self.maximum = maximum
    }
}
