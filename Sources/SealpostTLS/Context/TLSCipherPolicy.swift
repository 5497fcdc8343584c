internal import COpenSSL
internal import CSealpostShims
import SealpostConfig

/// Postfix's cipher grades (`smtpd_tls_ciphers`, `smtpd_tls_mandatory_ciphers`, `smtp_tls_ciphers`, …).
public enum TLSCipherGrade: String, Sendable, Hashable, CaseIterable {
    case export, low, medium, high, null
}

/// The OpenSSL cipher lists behind the grades: `tls_high_cipherlist` and friends.
public struct TLSCipherLists: Sendable, Hashable {
    public var high: String
    public var medium: String
    public var low: String
    public var export: String
    public var null: String

    /// Postfix 3.7's defaults.
    public static let postfixDefaults = TLSCipherLists(
        high: "aNULL:-aNULL:HIGH:@STRENGTH",
        medium: "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
        low: "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH",
        export: "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH",
        null: "eNULL:!aNULL")

    public init(high: String, medium: String, low: String, export: String, null: String) {
        self.high = high
        self.medium = medium
        self.low = low
        self.export = export
        self.null = null
    }

    /// The lists as a service's configuration sets them.
    public init(_ configuration: ServiceConfiguration) {
        self.init(
            high: configuration.string("tls_high_cipherlist"),
            medium: configuration.string("tls_medium_cipherlist"),
            low: configuration.string("tls_low_cipherlist"),
            export: configuration.string("tls_export_cipherlist"),
            null: configuration.string("tls_null_cipherlist"))
    }

    /// The list behind a grade, and the parameter that holds it.
    public func list(for grade: TLSCipherGrade) -> (parameter: String, value: String) {
        switch grade {
        case .high: ("tls_high_cipherlist", high)
        case .medium: ("tls_medium_cipherlist", medium)
        case .low: ("tls_low_cipherlist", low)
        case .export: ("tls_export_cipherlist", export)
        case .null: ("tls_null_cipherlist", null)
        }
    }
}

/// One source of cipher exclusions: the parameter and its words.
public struct TLSCipherExclusion: Sendable, Hashable {
    /// The parameter the words came from (`smtpd_tls_exclude_ciphers`), or a description of an implicit
    /// exclusion (`aNULL` when client certificates are requested).
    public var origin: String
    public var names: [String]

    public init(origin: String, names: [String]) {
        self.origin = origin
        self.names = names
    }
}

/// The cipher list one kind of connection uses: a grade's list with exclusions appended, as Postfix's
/// `tls_set_ciphers()` builds it.
///
/// Each exclusion word (the lists are split on commas, whitespace and colons) is appended as `:!word`. A word that
/// names nothing in this OpenSSL — the seed's `KRB5-DE5` or `EDH-RSA-DES-CDC3-SHA` — is harmless: OpenSSL skips
/// unknown names in a cipher string. A word starting with `!`, `+`, `-` or `@` is refused, as Postfix refuses it
/// ("invalid unary '!+-@' in cipher exclusion").
///
/// The list governs TLS 1.2 and older only. Postfix 3.7 never calls `SSL_CTX_set_ciphersuites`, so TLS 1.3 always
/// offers OpenSSL's default suites (TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256),
/// whatever the grade and the exclusions say; Sealpost does the same.
public struct TLSCipherPolicy: Sendable, Hashable {
    /// The grade, and the parameter that chose it.
    public var grade: TLSCipherGrade
    public var gradeParameter: String
    /// The exclusions in the order they are appended.
    public var exclusions: [TLSCipherExclusion]
    /// The OpenSSL cipher string: the grade's list, then `:!word` for every exclusion word.
    public let cipherString: String

    public init(
        grade: TLSCipherGrade, gradeParameter: String, lists: TLSCipherLists, exclusions: [TLSCipherExclusion]
    ) throws(TLSConfigurationError) {
        self.grade = grade
        self.gradeParameter = gradeParameter
        self.exclusions = exclusions
        let (listParameter, base) = lists.list(for: grade)
        guard !base.isEmpty else {
            throw TLSConfigurationError(
                .noCiphers, parameter: listParameter,
                reason: "\(listParameter) is empty, so the \"\(grade.rawValue)\" cipher grade (\(gradeParameter)) has no ciphers")
        }
        var text = base
        for exclusion in exclusions {
            for word in Self.words(exclusion.names) {
                if let first = word.first, "!+-@".contains(first) {
                    throw TLSConfigurationError(
                        .invalidCipherExclusion, parameter: exclusion.origin,
                        reason: "\(exclusion.origin): invalid unary '!+-@' in cipher exclusion: \(word); "
                            + "list cipher names or properties without a prefix")
                }
                text += ":!" + word
            }
        }
        self.cipherString = text
    }

    /// The exclusion words: list elements split further on colons (Postfix splits on ", \t\r\n:").
    static func words(_ names: [String]) -> [String] {
        names.flatMap { $0.split(whereSeparator: { $0 == ":" || $0 == "," || $0 == " " || $0 == "\t" }) }
            .map(String.init)
    }

    /// Sets the list on a context; fails when OpenSSL accepts no cipher from it.
    func apply(to context: OpaquePointer) throws(TLSConfigurationError) {
        OpenSSLErrorQueue.clear()
        if SSL_CTX_set_cipher_list(context, cipherString) != 1 {
            throw noCipherError(OpenSSLErrorQueue.drain())
        }
    }

    /// Sets the list on one connection.
    func apply(toConnection ssl: OpaquePointer) throws(TLSConfigurationError) {
        OpenSSLErrorQueue.clear()
        if SSL_set_cipher_list(ssl, cipherString) != 1 {
            throw noCipherError(OpenSSLErrorQueue.drain())
        }
    }

    private func noCipherError(_ errors: [String]) -> TLSConfigurationError {
        let sources = ([gradeParameter] + exclusions.map(\.origin)).joined(separator: ", ")
        return TLSConfigurationError(
            .noCiphers, parameter: gradeParameter,
            reason: "error setting cipher grade: \"\(grade.rawValue)\": OpenSSL accepts no cipher from \"\(cipherString)\" "
                + "(from \(sources))",
            openSSLErrors: errors)
    }
}
