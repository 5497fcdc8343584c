import SealpostConfig
import SealpostTLS

/// One destination's entry in `smtp_tls_policy_maps`: a level and its attributes, as Postfix's
/// `smtp_tls_policy.c` reads them (`verify match=hostname:nexthop`, `fingerprint match=AB:CD|EF:01`,
/// `encrypt protocols=>=TLSv1.2 ciphers=high`, `servername=hostname`).
public struct SMTPTLSPolicy: Sendable, Hashable {
    public var level: TLSClientSecurityLevel
    /// `match=`: name strategies or patterns (verify, secure) or fingerprints (fingerprint).
    public var matchNames: [String]?
    public var fingerprints: [[UInt8]]?
    public var serverName: TLSServerNameChoice?
    /// `protocols=` (`!SSLv3:!TLSv1`, `>=TLSv1.2`).
    public var protocols: TLSProtocolSelection?
    /// `ciphers=` (a grade: `high`, `medium`, …).
    public var cipherGrade: TLSCipherGrade?
    /// `exclude=` (OpenSSL cipher names separated by colons).
    public var exclusions: [String] = []
    /// Attributes Postfix accepts that Sealpost does not apply (`tafile=`, `connection_reuse=`,
    /// `enable_rpk=`), kept for the warning.
    public var unappliedAttributes: [String]

    /// Parses a table value; `key` and `parameter` name the entry in errors.
    public init(parsing value: String, key: String, parameter: String) throws(SMTPClientConfigurationError) {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        guard let first = words.first, let level = TLSClientSecurityLevel(name: first) else {
            throw SMTPClientConfigurationError(
                parameter: parameter, reason: "\(parameter): invalid TLS security level \"\(words.first ?? "")\" for \"\(key)\"")
        }
        self.level = level
        unappliedAttributes = []
        var matches: [String] = []
        for word in words.dropFirst() {
            guard let equals = word.firstIndex(of: "=") else {
                throw SMTPClientConfigurationError(
                    parameter: parameter, reason: "\(parameter): malformed attribute/value pair \"\(word)\" for \"\(key)\"")
            }
            let name = word[..<equals].lowercased()
            let attribute = String(word[word.index(after: equals)...])
            switch name {
            case "match":
                matches.append(attribute)
            case "servername":
                switch attribute {
                case "hostname": serverName = .hostname
                case "nexthop": serverName = .nexthop
                case "": serverName = TLSServerNameChoice.none
                default: serverName = .literal(attribute)
                }
            case "protocols":
                guard let selection = TLSProtocolSelection.parse(attribute) else {
                    throw SMTPClientConfigurationError(
                        parameter: parameter, reason: "\(parameter): invalid protocols \"\(attribute)\" for \"\(key)\"")
                }
                protocols = selection
            case "ciphers":
                guard let grade = TLSCipherGrade(rawValue: attribute.lowercased()) else {
                    throw SMTPClientConfigurationError(
                        parameter: parameter, reason: "\(parameter): invalid cipher grade \"\(attribute)\" for \"\(key)\"")
                }
                cipherGrade = grade
            case "exclude":
                exclusions += attribute.split(whereSeparator: { $0 == ":" || $0 == " " }).map(String.init)
            case "tafile", "connection_reuse", "enable_rpk":
                unappliedAttributes.append(name)
            default:
                throw SMTPClientConfigurationError(
                    parameter: parameter, reason: "\(parameter): invalid attribute name \"\(name)\" for \"\(key)\"")
            }
        }
        if !matches.isEmpty {
            switch level {
            case .fingerprint:
                do {
                    fingerprints = try TLSClientSettings.decodeFingerprints(
                        matches.flatMap { $0.split(separator: "|").map(String.init) }, parameter: parameter)
                } catch {
                    throw SMTPClientConfigurationError(parameter: parameter, reason: error.reason)
                }
            case .verify, .secure:
                matchNames = matches.flatMap { $0.split(separator: ":").map(String.init) }
            default:
                throw SMTPClientConfigurationError(
                    parameter: parameter, reason: "\(parameter): attribute \"match\" is not valid at level \(level.name) for \"\(key)\"")
            }
        }
    }
}

/// `smtp_tls_policy_maps`: looks up the next hop as written (`example.com`, `[mx.example.com]:587`),
/// then, for a domain, its parent domains as `.example.com` keys (Postfix's `tls_policy_lookup()`).
public struct SMTPTLSPolicyTable: Sendable {
    public var tables: TableList
    public var parameter: String

    public init(tables: TableList, parameter: String) {
        self.tables = tables
        self.parameter = parameter
    }

    /// The policy for `nexthop`; nil when the tables have none (the default level applies).
    /// Throws when a table fails or its value is malformed: the delivery is then deferred.
    public func policy(for nexthop: String) throws(SMTPClientConfigurationError) -> SMTPTLSPolicy? {
        var keys = [nexthop.lowercased()]
        if !nexthop.hasPrefix("[") {
            var domain = Substring(nexthop.lowercased())
            while let dot = domain.firstIndex(of: ".") {
                domain = domain[domain.index(after: dot)...]
                if !domain.isEmpty { keys.append("." + domain) }
            }
        }
        for key in keys {
            let found: (value: String, table: TableReference)?
            do {
                found = try tables.lookup(key)
            } catch {
                throw SMTPClientConfigurationError(parameter: parameter, reason: "\(parameter): lookup of \(key) failed: \(error)")
            }
            if let found {
                return try SMTPTLSPolicy(parsing: found.value, key: key, parameter: parameter)
            }
        }
        return nil
    }
}
