import SealpostConfig

extension AccessPolicy {
    /// The restriction parameters, in the order smtpd_check_init() parses them.
    static let listParameters = [
        "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions", "smtpd_relay_restrictions",
        "smtpd_recipient_restrictions", "smtpd_etrn_restrictions", "smtpd_data_restrictions", "smtpd_end_of_data_restrictions",
    ]

    // smtpd_check.c, fail_required(): rcpt_required[].
    static let relayRestrictionsRequired = [
        "reject_unauth_destination", "defer_unauth_destination", "reject", "defer", "defer_if_permit", "check_relay_domains",
    ]

    // smtpd_check.c, smtpd_check_init(): parse the lists and the restriction classes (each class
    // needs a definition), open their tables, and insist that the relay or the recipient
    // restrictions can refuse relaying.
    static func loadRestrictions(
        into settings: inout PolicySettings, _ configuration: ServiceConfiguration, options: TableOptions,
        location: (String) -> SourceLocation?, warnings: inout [PolicyLogRecord]
    ) throws(PolicyConfigurationError) {
        func located(_ error: PolicyConfigurationError) -> PolicyConfigurationError {
            var error = error
            if error.location == nil { error.location = location(error.parameter) }
            return error
        }
        var opened: [String: AccessTable] = [:]
        func parser(for parameter: String, classes: Set<String>) -> RestrictionParser {
            RestrictionParser(parameter: parameter, classNames: classes) { (name: String) throws(PolicyConfigurationError) -> AccessTable in
                if let table = opened[name] { return table }
                do {
                    let table = AccessTable(name: name, tables: TableList([try TableReference(parsing: name).open(options)]))
                    opened[name] = table
                    return table
                } catch {
                    throw PolicyConfigurationError(parameter: parameter, value: name, "cannot open access table \(name): \(error)")
                }
            }
        }

        let classNames = configuration.list("smtpd_restriction_classes")
        var names = Set(classNames)
        names.insert("reject_sender_login_mismatch")
        var classes: [String: [RestrictionItem]] = [:]
        for name in classNames {
            guard let value = configuration.scope.expanded(name)?.value, !PostfixList.split(value).isEmpty else {
                throw located(
                    PolicyConfigurationError(
                        parameter: "smtpd_restriction_classes", value: name,
                        "restriction class `\(name)' needs a definition: set \(name) = (a list of restrictions) in main.cf"))
            }
            do {
                classes[name] = try parser(for: name, classes: names).parse(PostfixList.split(value))
            } catch {
                throw located(error)
            }
        }
        // smtpd_check.c: the built-in class, entered after the configured ones.
        classes["reject_sender_login_mismatch"] = [
            RestrictionItem(name: "reject_authenticated_sender_login_mismatch", restriction: .senderLogin(.authenticated)),
            RestrictionItem(name: "reject_unauthenticated_sender_login_mismatch", restriction: .senderLogin(.unauthenticated)),
        ]
        for name in classNames {
            if let cycle = cycle(from: name, through: [name], classes: classes) {
                throw located(
                    PolicyConfigurationError(
                        parameter: name, value: name,
                        "restriction class `\(name)' refers to itself (\(cycle.joined(separator: " → "))); evaluating it would never end"))
            }
        }
        settings.classes = classes

        var lists: [String: [RestrictionItem]] = [:]
        for parameter in listParameters {
            do {
                lists[parameter] = try parser(for: parameter, classes: names).parse(configuration.list(parameter))
            } catch {
                throw located(error)
            }
        }
        for parameter in ["smtpd_data_restrictions", "smtpd_end_of_data_restrictions"] {
            for item in lists[parameter] ?? [] {
                if case .bareTable(let table) = item.restriction {
                    throw located(
                        PolicyConfigurationError(
                            parameter: parameter, value: table.name,
                            "specify one of (check_client_access, check_reverse_client_hostname_access, check_helo_access, "
                                + "check_sender_access, check_recipient_access, check_etrn_access) before \"\(table.name)\"; "
                                + "this list has no default access check"))
                }
            }
        }
        settings.clientRestrictions = lists["smtpd_client_restrictions"] ?? []
        settings.heloRestrictions = lists["smtpd_helo_restrictions"] ?? []
        settings.senderRestrictions = lists["smtpd_sender_restrictions"] ?? []
        settings.relayRestrictions = lists["smtpd_relay_restrictions"] ?? []
        settings.recipientRestrictions = lists["smtpd_recipient_restrictions"] ?? []
        settings.etrnRestrictions = lists["smtpd_etrn_restrictions"] ?? []
        settings.dataRestrictions = lists["smtpd_data_restrictions"] ?? []
        settings.endOfDataRestrictions = lists["smtpd_end_of_data_restrictions"] ?? []

        // "People screw up the relay restrictions too often. Require that they list at least one
        // restriction that rejects mail by default."
        var hasRequiredWarnings: [String] = []
        if !hasRequired(settings.recipientRestrictions, classes: classes, warnings: &hasRequiredWarnings)
            && !hasRequired(settings.relayRestrictions, classes: classes, warnings: &hasRequiredWarnings)
        {
            let required = relayRestrictionsRequired.dropLast().joined(separator: ", ") + " or " + relayRestrictionsRequired.last!
            var error = PolicyConfigurationError(
                parameter: "smtpd_relay_restrictions",
                "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of: \(required)"
            )
            error.location = location("smtpd_relay_restrictions") ?? location("smtpd_recipient_restrictions")
            throw error
        }
        warnings += hasRequiredWarnings.map { PolicyLogRecord(level: .warning, message: $0) }

        let everything = Array(lists.values.joined()) + Array(classes.values.joined())
        if everything.contains(where: { if case .checkRelayDomains = $0.restriction { true } else { false } }) {
            warnings.append(
                PolicyLogRecord(
                    level: .warning,
                    message: "support for restriction \"check_relay_domains\" will be removed from \(settings.mailName); "
                        + "use \"reject_unauth_destination\" instead"))
        }
    }

    // smtpd_check.c, has_required(): a required restriction at this level or in a class; a
    // restriction right after warn_if_reject does not count; "permit" ends the search.
    private static func hasRequired(_ items: [RestrictionItem], classes: [String: [RestrictionItem]], warnings: inout [String]) -> Bool {
        var index = 0
        while index < items.count {
            let item = items[index]
            switch item.restriction {
            case .warnIfReject where index + 1 < items.count:
                index += 2
                continue
            case .permit:
                if index + 1 < items.count {
                    warnings.append("restriction `\(items[index + 1].name)' after `\(item.name)' is ignored")
                }
                return false
            case .rejectUnauthDestination, .deferUnauthDestination, .reject, .deferAll, .deferIfPermit, .checkRelayDomains:
                return true
            case .restrictionClass(let name):
                if hasRequired(classes[name] ?? [], classes: classes, warnings: &warnings) { return true }
            default:
                break
            }
            index += 1
        }
        return false
    }

    private static func cycle(from name: String, through path: [String], classes: [String: [RestrictionItem]]) -> [String]? {
        for item in classes[name] ?? [] {
            guard case .restrictionClass(let next) = item.restriction else { continue }
            if next == path.first { return path + [next] }
            if path.contains(next) { continue }
            if let found = cycle(from: next, through: path + [next], classes: classes) { return found }
        }
        return nil
    }
}
