/// How opened tables watch their files, fold keys, and report problems that do not stop them.
public struct TableOptions: Sendable {
    /// The clock that paces file checks (injectable so tests need not sleep).
    public var now: @Sendable () -> ContinuousClock.Instant
    /// The least time between two checks of a table file for changes.
    public var checkInterval: Duration
    /// Called when a changed file could not be reloaded; the table keeps its previous contents.
    /// Called once per failure, not on every check while the file stays the same.
    public var onReloadError: (@Sendable (TableError) -> Void)?
    /// Called for each warning of a (re)load and for rules that fail while matching.
    public var onWarning: (@Sendable (TableWarning) -> Void)?
    /// `smtputf8_enable`: whether fixed-string tables fold keys with Unicode case folding (`yes`,
    /// Sealpost's default, so `Straße` matches `STRASSE`) or fold ASCII letters only (`no`).
    public var unicodeKeyFolding: Bool
    /// Read `hash:`, `lmdb:`, `btree:` and `cdb:` source files in aliases(5) format
    /// (`name: value`), as postalias(1) would index them: for `alias_maps`.
    public var aliasFileFormat: Bool

    /// Options with the system's continuous clock and one check per second at most.
    public init(
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        checkInterval: Duration = .seconds(1),
        onReloadError: (@Sendable (TableError) -> Void)? = nil,
        onWarning: (@Sendable (TableWarning) -> Void)? = nil,
        unicodeKeyFolding: Bool = true,
        aliasFileFormat: Bool = false
    ) {
        self.now = now
        self.checkInterval = checkInterval
        self.onReloadError = onReloadError
        self.onWarning = onWarning
        self.unicodeKeyFolding = unicodeKeyFolding
        self.aliasFileFormat = aliasFileFormat
    }
}

extension TableOptions {
    /// The key folding these options ask for.
    var keyFolding: KeyFolding { unicodeKeyFolding ? .unicode : .ascii }
}
