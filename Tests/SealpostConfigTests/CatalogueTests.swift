import Foundation
import Testing

@testable import SealpostConfig

/// Checks the parameter catalogue against `postconf -d` of Postfix 3.7.11 (the fixture) and
/// against the rules every entry must follow.
@Suite struct CatalogueTests {
    /// The fixture as name → default, exactly as `postconf -d` printed it.
    let reference: [String: String]

    init() throws {
        let url = try #require(
            Bundle.module.url(
                forResource: "postfix-3.7.11-defaults", withExtension: "txt", subdirectory: "Fixtures"),
            "the fixture is missing from the test bundle")
        reference = try Self.parseDefaults(String(contentsOf: url, encoding: .utf8))
    }

    /// Parses `postconf -d` output: "name = value", or "name =" when the value is empty.
    static func parseDefaults(_ text: String) throws -> [String: String] {
        var defaults: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let separator = line.range(of: " = ") {
                name = line[..<separator.lowerBound]
                value = line[separator.upperBound...]
            } else if line.hasSuffix(" =") {
                name = line.dropLast(2)
                value = ""
            } else {
                Issue.record("not a postconf -d line: \(line)")
                continue
            }
            #expect(defaults[String(name)] == nil, "listed twice in the fixture: \(name)")
            defaults[String(name)] = String(value)
        }
        try #require(defaults.count > 1000, "the fixture looks truncated")
        return defaults
    }

    /// What a Postfix parameter's catalogued default must be.
    func expectedDefault(of name: String) -> String? {
        if ParameterCatalogue.hostDependentNames.contains(name) { return "" }
        if let difference = ParameterCatalogue.deliberateDefaultDifferences[name] {
            return difference.sealpost
        }
        return reference[name]
    }

    // MARK: - The catalogue against Postfix 3.7

    @Test func eachNameIsCataloguedOnce() {
        let counts = Dictionary(grouping: ParameterCatalogue.definitions, by: \.name).mapValues(\.count)
        let duplicates = counts.filter { $0.value > 1 }.keys.sorted()
        #expect(duplicates.isEmpty, "catalogued more than once: \(duplicates)")
    }

    @Test func postfixDefaultsMatchTheReference() {
        for definition in ParameterCatalogue.definitions where definition.origin == .postfix {
            guard reference[definition.name] != nil else {
                Issue.record("\(definition.name) is not a Postfix 3.7 parameter; is its origin wrong?")
                continue
            }
            #expect(
                definition.defaultValue == expectedDefault(of: definition.name),
                "\(definition.name): catalogued default differs from postconf -d")
        }
    }

    @Test func laterAndSealpostParametersAreNotInPostfix37() {
        for definition in ParameterCatalogue.definitions {
            switch definition.origin {
            case .postfix:
                continue
            case .laterPostfix(let version):
                let parts = version.split(separator: ".").compactMap { Int($0) }
                #expect(
                    parts.count == 2 && (parts[0], parts[1]) > (3, 7),
                    "\(definition.name): \(version) is not a Postfix version after 3.7")
            case .sealpost:
                break
            }
            #expect(reference[definition.name] == nil, "\(definition.name) exists in Postfix 3.7")
        }
    }

    @Test func deliberateDifferencesAreCatalogued() {
        for name in ParameterCatalogue.deliberateDefaultDifferences.keys {
            let definition = ParameterCatalogue.definition(named: name)
            #expect(definition != nil, "\(name) has a deliberate default but is not catalogued")
            #expect(definition?.origin == .postfix, "\(name) differs from a Postfix default it does not have")
            #expect(reference[name] != nil, "\(name) is not a Postfix 3.7 parameter")
        }
    }

    @Test func everyTLSParameterOfPostfix37IsCatalogued() {
        let tlsNames = reference.keys.filter {
            $0.hasPrefix("smtpd_tls_") || $0.hasPrefix("smtp_tls_") || $0.hasPrefix("lmtp_tls_")
                || $0.hasPrefix("tls_")
        }
        #expect(tlsNames.count > 100)
        for name in tlsNames.sorted() {
            #expect(ParameterCatalogue.definition(named: name) != nil, "\(name) is not catalogued")
        }
    }

    /// Every parameter that the TLS guide in the seed document names.
    @Test(arguments: [
        "smtpd_tls_cert_file", "smtpd_tls_key_file", "smtpd_tls_dh1024_param_file",
        "smtpd_tls_dh512_param_file", "smtpd_tls_CAfile", "smtpd_tls_CApath", "smtp_tls_security_level",
        "smtpd_tls_security_level", "smtpd_tls_auth_only", "syslog_name", "smtpd_sasl_auth_enable",
        "smtpd_reject_unlisted_recipient", "smtpd_client_restrictions", "smtpd_helo_restrictions",
        "smtpd_sender_restrictions", "smtpd_recipient_restrictions", "smtpd_relay_restrictions",
        "milter_macro_daemon_name", "smtpd_tls_wrappermode", "smtpd_tls_received_header",
        "smtpd_tls_loglevel", "smtpd_tls_mandatory_ciphers", "smtpd_tls_ciphers", "tls_high_cipherlist",
        "smtpd_tls_exclude_ciphers", "smtpd_tls_eecdh_grade", "tls_preempt_cipherlist", "tls_random_source",
        "smtpd_tls_session_cache_timeout", "smtpd_tls_mandatory_protocols",
    ])
    func seedParameterIsCatalogued(name: String) {
        #expect(ParameterCatalogue.definition(named: name) != nil)
    }

    @Test func generatedReferenceDefaultsAreCurrent() {
        #expect(
            PostfixReferenceDefaults.values == reference,
            "run Scripts/generate-postfix-defaults after changing the fixture")
    }

    // MARK: - Each entry on its own

    @Test func defaultsFitTheirKinds() {
        for definition in ParameterCatalogue.definitions {
            let value = definition.defaultValue
            guard !value.contains("$") else { continue }
            let name = definition.name
            switch definition.kind {
            case .boolean:
                #expect(["yes", "no"].contains(value.lowercased()), "\(name): \(value) is not yes or no")
            case .integer, .size:
                if let number = Int(value) {
                    expectWithinLimits(number, definition)
                } else {
                    Issue.record("\(name): \(value) is not an integer")
                }
            case .time(let unit):
                if let seconds = Self.seconds(value, defaultUnit: unit) {
                    expectWithinLimits(seconds, definition)
                } else {
                    Issue.record("\(name): \(value) is not a time")
                }
            case .choice(let choices):
                #expect(
                    choices.contains { $0.lowercased() == value.lowercased() },
                    "\(name): \(value) is not one of \(choices)")
            case .string, .list, .tables, .tlsProtocols:
                break
            }
        }
    }

    @Test func kindsAndLimitsAreConsistent() {
        for definition in ParameterCatalogue.definitions {
            let name = definition.name
            if case .time(let unit) = definition.kind {
                #expect("smhdw".contains(unit), "\(name): unknown default time unit \(unit)")
            }
            if case .choice(let choices) = definition.kind {
                #expect(!choices.isEmpty, "\(name): a choice without choices")
                #expect(
                    Set(choices.map { $0.lowercased() }).count == choices.count,
                    "\(name): a choice listed twice")
            }
            if definition.minimum != nil || definition.maximum != nil {
                switch definition.kind {
                case .integer, .size, .time: break
                default: Issue.record("\(name): limits on a parameter that is not a number or a time")
                }
            }
            if let minimum = definition.minimum, let maximum = definition.maximum {
                #expect(minimum <= maximum, "\(name): minimum above maximum")
            }
        }
    }

    @Test func summariesAreSingleShortLines() {
        for definition in ParameterCatalogue.definitions {
            let summary = definition.summary
            #expect(!summary.trimmingCharacters(in: .whitespaces).isEmpty, "\(definition.name): no summary")
            let isOneLine = !summary.contains { $0.isNewline }
            #expect(isOneLine, "\(definition.name): summary has several lines")
            #expect(summary.count <= 120, "\(definition.name): summary longer than 120 characters")
        }
    }

    @Test func reasonsAreGiven() {
        for definition in ParameterCatalogue.definitions {
            switch definition.status {
            case .ignored(let reason), .unsupported(let reason):
                #expect(
                    !reason.trimmingCharacters(in: .whitespaces).isEmpty,
                    "\(definition.name): no reason given")
            case .implemented, .planned:
                break
            }
        }
    }

    // MARK: - Helpers

    /// Seconds in a time value: digits and an optional unit, as the catalogue's defaults write it.
    static func seconds(_ value: String, defaultUnit: Character) -> Int? {
        guard let match = value.wholeMatch(of: #/([0-9]+)([smhdw]?)/#), let number = Int(match.1) else {
            return nil
        }
        let unit = match.2.first ?? defaultUnit
        let unitSeconds: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let multiplier = unitSeconds[unit] else { return nil }
        return number * multiplier
    }

    func expectWithinLimits(_ number: Int, _ definition: ParameterDefinition) {
        if let minimum = definition.minimum {
            #expect(number >= minimum, "\(definition.name): default below the minimum \(minimum)")
        }
        if let maximum = definition.maximum {
            #expect(number <= maximum, "\(definition.name): default above the maximum \(maximum)")
        }
    }
}
