/// Every parameter Sealpost knows: its kind, default, meaning and status.
///
/// The entries live in `Catalogue+*.swift`, one file per area. Postfix parameters that Sealpost
/// does not catalogue are still recognised by name (``PostfixReferenceDefaults``), so that a copied
/// Postfix `main.cf` gets "not supported" rather than "unknown" for them.
public enum ParameterCatalogue {
    /// All catalogued parameters, in no particular order.
    public static let definitions: [ParameterDefinition] =
        general + smtpServer + sasl + tlsServer + tlsShared + tlsClient + queue + delivery
        + extensions

    /// Catalogued parameters by name.
    public static let byName: [String: ParameterDefinition] = {
        var table: [String: ParameterDefinition] = [:]
        table.reserveCapacity(definitions.count)
        for definition in definitions {
            precondition(table[definition.name] == nil, "catalogued twice: \(definition.name)")
            table[definition.name] = definition
        }
        return table
    }()

    public static func definition(named name: String) -> ParameterDefinition? {
        byName[name]
    }

    /// Parameters whose default Postfix computes from the host at run time.
    public static let hostDependentNames: Set<String> = [
        "myhostname", "mydomain", "mynetworks", "process_id",
    ]

    /// Defaults where Sealpost knowingly differs from Postfix 3.7's `postconf -d`, with the reason.
    /// The README's "Differences from Postfix" section lists the same table.
    public static let deliberateDefaultDifferences: [String: (sealpost: String, reason: String)] = [
        "compatibility_level": (
            "3.7",
            "a new Postfix 3.7 installation writes compatibility_level = 3.7 into main.cf; "
                + "Sealpost starts from the same safe defaults (mynetworks_style = host, "
                + "smtputf8_enable = yes, sha256 fingerprints) instead of the level-0 legacy ones"
        ),
        "config_directory": ("/etc/sealpost", "Sealpost can run beside Postfix on one host"),
        "queue_directory": ("/var/spool/sealpost", "Sealpost can run beside Postfix on one host"),
        "data_directory": ("/var/lib/sealpost", "Sealpost can run beside Postfix on one host"),
        "mail_owner": ("sealpost", "Sealpost's own unprivileged account"),
        "mail_name": ("Sealpost", "the name in the default SMTP banner"),
        "mail_version": (SealpostVersion.string, "Sealpost's version"),
        "enable_long_queue_ids": (
            "yes",
            "Sealpost's queue always names files by long, time-ordered IDs (Postfix's long form); short ones are not offered"
        ),
        "alias_maps": (
            "hash:/etc/aliases",
            "Postfix's default also names nis:mail.aliases; NIS is not supported (nor built into Debian's Postfix)"
        ),
    ]
}

/// The version of Sealpost, as `mail_version` reports it.
public enum SealpostVersion {
    public static let string = "0.1.0"
}
