/// The typed, immutable parameter values that one service sees: defaults ← main.cf ← the
/// service's `-o` overrides, expanded and converted to each parameter's kind.
///
/// Every catalogued parameter has a value. When the configured text is invalid the configuration
/// carries an error (and must not be started); the value here is then the default, so the
/// structure stays total.
public struct ServiceConfiguration: Sendable {
    public let scope: ParameterScope
    /// The typed value of every catalogued parameter.
    public let values: [String: ParameterValue]
    /// Where an `inet` service listens; nil for other service types and for main.cf.
    public let endpoint: ServiceEndpoint?

    /// The master.cf entry, or nil for the main.cf-only view.
    public var service: MasterService? { scope.service }

    init(scope: ParameterScope, validator: Validator, findings: inout [ConfigurationDiagnostic]) {
        self.scope = scope
        var values: [String: ParameterValue] = [:]
        values.reserveCapacity(ParameterCatalogue.definitions.count)
        for definition in ParameterCatalogue.definitions {
            values[definition.name] = Self.value(of: definition, in: scope, validator: validator, findings: &findings)
        }
        self.values = values

        var endpoint: ServiceEndpoint?
        if let service = scope.service {
            findings += validator.serviceFindings(service, scope: scope)
            if service.type == .inet {
                switch ServiceEndpoint.parse(service.name) {
                case .success(let parsed):
                    endpoint = parsed
                case .failure(let problem):
                    findings.append(
                        .error(
                            .init(file: validator.master.path, line: service.line),
                            "service \(service.key): \(problem.reason); expected a service name, a port, "
                                + "host:port or [address]:port",
                            code: "master-endpoint"))
                }
            }
        }
        self.endpoint = endpoint
    }

    private static func value(
        of definition: ParameterDefinition, in scope: ParameterScope, validator: Validator,
        findings: inout [ConfigurationDiagnostic]
    ) -> ParameterValue {
        let (raw, source) = scope.raw(definition.name) ?? (definition.defaultValue, .catalogueDefault)
        let expanded = raw.contains("$") ? scope.expand(raw).value : raw
        switch ParameterValueParser.parse(expanded, as: definition) {
        case .success(let value):
            return value
        case .failure(let problem):
            let shown = expanded == raw ? raw : "\(raw) (expands to \"\(expanded)\")"
            findings.append(
                .error(
                    validator.location(of: source),
                    "\(definition.name) = \(shown): invalid value; expected \(problem.expected)",
                    code: "value"))
            let fallback = scope.expand(definition.defaultValue).value
            if case .success(let value) = ParameterValueParser.parse(fallback, as: definition) { return value }
            return ParameterValueParser.emptyValue(of: definition.kind)
        }
    }
}

// MARK: - Typed access

extension ServiceConfiguration {
    /// The value of a catalogued parameter. Asking for a name that is not catalogued is a
    /// programming error.
    public subscript(_ name: String) -> ParameterValue {
        guard let value = values[name] else { preconditionFailure("parameter \(name) is not in the catalogue") }
        return value
    }

    public func bool(_ name: String) -> Bool {
        guard case .boolean(let value) = self[name] else { preconditionFailure("\(name) is not a boolean") }
        return value
    }

    /// An integer or size parameter.
    public func integer(_ name: String) -> Int {
        switch self[name] {
        case .integer(let value), .size(let value): return value
        default: preconditionFailure("\(name) is not an integer")
        }
    }

    public func seconds(_ name: String) -> Int {
        guard case .time(let value) = self[name] else { preconditionFailure("\(name) is not a time") }
        return value
    }

    /// A string or choice parameter (choices are lowercased).
    public func string(_ name: String) -> String {
        switch self[name] {
        case .string(let value), .choice(let value): return value
        default: preconditionFailure("\(name) is not a string")
        }
    }

    /// A list parameter, or the references of a table-list parameter as written.
    public func list(_ name: String) -> [String] {
        switch self[name] {
        case .list(let value): return value
        case .tables(let references): return references.map(\.description)
        default: preconditionFailure("\(name) is not a list")
        }
    }

    /// The lookup tables a table-list parameter names.
    public func tables(_ name: String) -> [TableReference] {
        guard case .tables(let value) = self[name] else { preconditionFailure("\(name) is not a table list") }
        return value
    }

    public func tlsProtocols(_ name: String) -> TLSProtocolSelection {
        guard case .tlsProtocols(let value) = self[name] else { preconditionFailure("\(name) is not a protocol list") }
        return value
    }
}

extension ParameterValueParser {
    static func emptyValue(of kind: ParameterKind) -> ParameterValue {
        switch kind {
        case .boolean: .boolean(false)
        case .integer: .integer(0)
        case .size: .size(0)
        case .time: .time(seconds: 0)
        case .string: .string("")
        case .list: .list([])
        case .tables: .tables([])
        case .choice(let choices): .choice(choices.first ?? "")
        case .tlsProtocols: .tlsProtocols(.init(minimumWireVersion: 0, maximumWireVersion: 0, excluded: [], usesIncludeList: false))
        }
    }
}
