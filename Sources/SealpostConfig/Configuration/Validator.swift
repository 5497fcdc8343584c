/// Checks what the administrator wrote: parameter names (known, Postfix-only, user-defined,
/// unknown), statuses of explicitly set parameters, `$name` references, and master.cf commands.
///
/// Value conversion errors are found by ``ServiceConfiguration``; this type finds everything that
/// concerns names and references.
struct Validator {
    let main: MainConfFile
    let master: MasterConfFile
    /// Names that some value refers to with `$name`, or that `smtpd_restriction_classes` lists:
    /// setting such a name is a user-defined parameter, not a mistake.
    let userDefinedNames: Set<String>

    init(main: MainConfFile, master: MasterConfFile) {
        self.main = main
        self.master = master
        var referenced: Set<String> = []
        for entry in main.effective.values {
            referenced.formUnion(ParameterExpander.referencedNames(in: entry.value))
        }
        for service in master.services {
            for override in service.overrides {
                referenced.formUnion(ParameterExpander.referencedNames(in: override.value))
            }
        }
        if let classes = main.effective["smtpd_restriction_classes"] {
            referenced.formUnion(PostfixList.split(classes.value))
        }
        userDefinedNames = referenced
    }

    func location(of source: ParameterSource) -> SourceLocation? {
        switch source {
        case .mainConf(let line): SourceLocation(file: main.path, line: line)
        case .serviceOverride(_, let line): SourceLocation(file: master.path, line: line)
        default: nil
        }
    }

    /// Findings about main.cf names and references (the service overrides are covered by
    /// ``serviceFindings(_:scope:)``).
    func nameFindings() -> [ConfigurationDiagnostic] {
        var findings: [ConfigurationDiagnostic] = []
        for entry in main.effective.values.sorted(by: { $0.line < $1.line }) {
            let location = SourceLocation(file: main.path, line: entry.line)
            findings += findingsForName(entry.name, value: entry.value, at: location, where: "")
        }
        return findings
    }

    /// Findings about one master.cf service: its command, and the names and references of its
    /// `-o` overrides.
    func serviceFindings(_ service: MasterService, scope: ParameterScope) -> [ConfigurationDiagnostic] {
        var findings: [ConfigurationDiagnostic] = []
        let location = SourceLocation(file: master.path, line: service.line)
        let command = String(service.command.split(separator: "/").last ?? "")
        let isBuiltIn = Self.builtInCommands.contains(command)
        switch (service.type, command) {
        case (.inet, "smtpd"):
            break
        case (_, _) where isBuiltIn:
            break
        case (_, _) where Self.deliveryCommands.contains(command):
            findings.append(
                .notice(location, "service \(service.key): the \(command) delivery agent arrives with outbound and local delivery; the entry is accepted", code: "not-implemented"))
        default:
            findings.append(
                .warning(location, "service \(service.key): command \"\(command)\" is not supported by Sealpost; the service is ignored", code: "unsupported-service"))
        }
        for override in service.overrides {
            let overrideLocation = SourceLocation(file: master.path, line: override.line)
            if isBuiltIn {
                findings.append(
                    .warning(
                        overrideLocation,
                        "service \(service.key): -o \(override.name)=\(override.value) has no effect: \(command) is built into Sealpost",
                        code: "ignored-override"))
                continue
            }
            findings += findingsForName(
                override.name, value: override.value, at: overrideLocation, where: "service \(service.key): ", scope: scope)
        }
        return findings
    }

    private func findingsForName(
        _ name: String, value: String, at location: SourceLocation, where context: String, scope: ParameterScope? = nil
    ) -> [ConfigurationDiagnostic] {
        var findings: [ConfigurationDiagnostic] = []
        if let definition = ParameterCatalogue.definition(named: name) {
            switch definition.status {
            case .implemented:
                break
            case .planned(let milestone):
                findings.append(
                    .warning(
                        location,
                        "\(context)\(name) is not implemented in Sealpost \(SealpostVersion.string) yet (it arrives with \(milestone.rawValue)); the value is checked but has no effect",
                        code: "not-implemented"))
            case .ignored(let reason):
                findings.append(.notice(location, "\(context)\(name) has no effect in Sealpost: \(reason)", code: "ignored"))
            case .unsupported(let reason):
                findings.append(
                    .warning(location, "\(context)\(name) is not supported by Sealpost and is ignored: \(reason)", code: "unsupported"))
            }
        } else if PostfixReferenceDefaults.values[name] != nil {
            findings.append(
                .warning(
                    location,
                    "\(context)\(name) is a Postfix parameter that Sealpost does not support; it is ignored",
                    code: "unsupported"))
        } else if !userDefinedNames.contains(name) {
            var message = "\(context)unknown parameter \(name)=\(value)"
            if let suggestion = Self.nearestKnownName(to: name) { message += "; did you mean \(suggestion)?" }
            findings.append(.warning(location, message, code: "unknown-parameter"))
        }

        guard value.contains("$") else { return findings }
        let outcome = (scope ?? globalScopeForChecks).expand(value)
        for problem in outcome.problems {
            findings.append(.error(location, "\(context)\(name) = \(value): \(problem)", code: "expansion"))
        }
        for undefined in outcome.undefinedNames {
            findings.append(.warning(location, "\(context)\(name) = \(value): undefined parameter: \(undefined)", code: "undefined-parameter"))
        }
        return findings
    }

    /// A main.cf-only scope for reference checks; host facts do not matter for them.
    private var globalScopeForChecks: ParameterScope {
        ParameterScope(
            main: main, service: nil, configDirectory: Configuration.defaultDirectory, configDirectoryIsDefault: true,
            host: HostFacts(hostname: "localhost", interfaceAddresses: [], processID: 0))
    }

    /// Postfix's internal services, which Sealpost does inside its one process.
    static let builtInCommands: Set<String> = [
        "pickup", "cleanup", "qmgr", "oqmgr", "tlsmgr", "trivial-rewrite", "bounce", "flush", "proxymap", "verify",
        "showq", "anvil", "scache", "postlog", "tlsproxy", "dnsblog", "virtual",
    ]

    /// Postfix's delivery agents, which Sealpost brings with its delivery milestones.
    static let deliveryCommands: Set<String> = ["smtp", "lmtp", "local", "error", "discard"]

    /// The known parameter name closest to `name` when it is close enough to be a typo.
    static func nearestKnownName(to name: String) -> String? {
        var best: (name: String, distance: Int)?
        let limit = max(1, min(3, name.count / 4))
        for candidate in knownNames {
            guard abs(candidate.count - name.count) <= limit else { continue }
            let distance = editDistance(name, candidate, limit: limit)
            if distance <= limit, distance < (best?.distance ?? Int.max) || (distance == best?.distance && candidate < best!.name) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    private static let knownNames: [String] = Array(
        Set(ParameterCatalogue.byName.keys).union(PostfixReferenceDefaults.values.keys)
    ).sorted()

    /// Levenshtein distance, giving up (returning `limit + 1`) once it exceeds `limit`.
    static func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
