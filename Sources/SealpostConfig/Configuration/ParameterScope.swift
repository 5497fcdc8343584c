/// Where a parameter's raw value comes from, in order of precedence.
public enum ParameterSource: Sendable, Hashable {
    /// A `-o name=value` of a master.cf service, with its physical line.
    case serviceOverride(service: String, line: Int)
    /// A main.cf entry, with its line.
    case mainConf(line: Int)
    /// The configuration directory given with `-c` or `$SEALPOST_CONFIG_DIR` (as postconf treats
    /// `config_directory`).
    case commandLine
    /// Computed from the host (`myhostname`, `mydomain`, `mynetworks`) or the service entry
    /// (`service_name`, `process_name`).
    case computed
    /// Sealpost's catalogued default.
    case catalogueDefault
    /// Postfix 3.7's default, for a Postfix parameter that Sealpost does not catalogue.
    case postfixDefault

    /// Whether the administrator set the value (main.cf or master.cf).
    public var isExplicit: Bool {
        switch self {
        case .serviceOverride, .mainConf, .commandLine: true
        default: false
        }
    }
}

/// The raw parameter values seen from one place: main.cf alone, or one master.cf service with its
/// `-o` overrides on top (defaults ← main.cf ← overrides, as a Postfix daemon sees them).
public struct ParameterScope: Sendable {
    public let main: MainConfFile
    public let service: MasterService?
    let configDirectory: String
    let configDirectoryIsDefault: Bool
    let host: HostFacts

    /// The raw (unexpanded) value of `name` and where it comes from, or nil when undefined.
    public func raw(_ name: String) -> (value: String, source: ParameterSource)? {
        raw(name, visiting: ComputedDefaultGuard())
    }

    /// `name`'s value with every `$name` expanded.
    public func expanded(_ name: String) -> ParameterExpander.Outcome? {
        guard let (value, _) = raw(name) else { return nil }
        return expand(value)
    }

    /// `text` with every `$name` expanded in this scope.
    public func expand(_ text: String) -> ParameterExpander.Outcome {
        expand(text, visiting: ComputedDefaultGuard())
    }

    private func expand(_ text: String, visiting: ComputedDefaultGuard) -> ParameterExpander.Outcome {
        ParameterExpander(lookup: { raw($0, visiting: visiting)?.value }).expand(text)
    }

    /// The default of `name` as `postconf -d` shows it (host-dependent defaults computed), or nil
    /// for an unknown name.
    public func defaultValue(_ name: String) -> String? {
        defaultValue(name, visiting: ComputedDefaultGuard())
    }

    private func raw(_ name: String, visiting: ComputedDefaultGuard) -> (value: String, source: ParameterSource)? {
        if let override = service?.overrideValue(for: name) {
            return (override.value, .serviceOverride(service: service!.key, line: override.line))
        }
        if let entry = main.effective[name] {
            return (entry.value, .mainConf(line: entry.line))
        }
        if name == "config_directory" && !configDirectoryIsDefault {
            return (configDirectory, .commandLine)
        }
        if let service {
            if name == "service_name" { return (service.name, .computed) }
            if name == "process_name" { return (String(service.command.split(separator: "/").last ?? ""), .computed) }
        }
        if ParameterCatalogue.hostDependentNames.contains(name) {
            return defaultValue(name, visiting: visiting).map { ($0, .computed) }
        }
        if let definition = ParameterCatalogue.definition(named: name) {
            return (definition.defaultValue, .catalogueDefault)
        }
        if let value = PostfixReferenceDefaults.values[name] {
            return (value, .postfixDefault)
        }
        return nil
    }

    private func defaultValue(_ name: String, visiting: ComputedDefaultGuard) -> String? {
        // A computed default that needs itself (mydomain = $myhostname while myhostname's default
        // needs mydomain) ends as empty instead of recursing forever.
        guard !visiting.names.contains(name) else { return "" }
        visiting.names.insert(name)
        defer { visiting.names.remove(name) }

        func expandedExplicit(_ parameter: String) -> String? {
            guard let (value, source) = raw(parameter, visiting: visiting), source.isExplicit else { return nil }
            return expand(value, visiting: visiting).value
        }
        func expandedEffective(_ parameter: String) -> String {
            guard let (value, _) = raw(parameter, visiting: visiting) else { return "" }
            return expand(value, visiting: visiting).value
        }

        switch name {
        case "myhostname":
            return host.defaultHostname(configuredDomain: expandedExplicit("mydomain"))
        case "mydomain":
            let hostname = expandedExplicit("myhostname") ?? host.defaultHostname(configuredDomain: nil)
            guard let dot = hostname.firstIndex(of: ".") else { return "localdomain" }
            return String(hostname[hostname.index(after: dot)...])
        case "mynetworks":
            let style = expandedEffective("mynetworks_style")
            let protocols = expandedEffective("inet_protocols").lowercased()
            let all = protocols.contains("all")
            return host.defaultNetworks(
                style: style,
                ipv4: all || protocols.contains("ipv4"),
                ipv6: all || protocols.contains("ipv6"))
        case "process_id":
            return String(host.processID)
        default:
            return ParameterCatalogue.definition(named: name)?.defaultValue ?? PostfixReferenceDefaults.values[name]
        }
    }
}

/// The computed defaults being evaluated, shared by the nested expansions of one lookup.
private final class ComputedDefaultGuard {
    var names: Set<String> = []
}
