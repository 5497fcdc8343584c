import Synchronization

/// A table whose rules come from a file (reloaded when the file changes) or from inline
/// `type:{ {rule}, {rule} }` text (fixed).
final class RuleTable<Rules: TableRules>: LookupTable {
    let reference: TableReference
    /// The file to watch; nil for inline tables.
    private let path: String?
    /// How the table is named in messages: the path, or the reference text for inline tables.
    private let displayName: String
    private let options: TableOptions
    private let state: Mutex<State>

    private struct State: Sendable {
        var rules: Rules
        var warnings: [TableWarning]
        var signature: TableFile.Signature?
        var nextCheck: ContinuousClock.Instant
        var lastReloadError: TableError?
        /// The file version (or stat failure) a reload already failed on, so the failure is
        /// reported once and the same broken file is not parsed again every second.
        var failedVersion: FailedVersion?
    }

    private enum FailedVersion: Sendable, Hashable {
        case signature(TableFile.Signature)
        case unreadable(String)
    }

    /// Opens the table file at `path`; a missing, unreadable or malformed file is an error.
    init(reference: TableReference, path: String, options: TableOptions) throws(TableError) {
        self.reference = reference
        self.path = path
        self.displayName = path
        self.options = options
        let (bytes, signature) = try TableFile.read(path)
        var warnings: [TableWarning] = []
        let rules = try Rules.load(bytes, table: path, kind: reference.kind, folding: options.keyFolding, warnings: &warnings)
        state = Mutex(
            State(
                rules: rules, warnings: warnings, signature: signature,
                nextCheck: options.now() + options.checkInterval))
        warnings.forEach { options.onWarning?($0) }
    }

    /// Builds a fixed table from inline rule text (one rule per line).
    init(reference: TableReference, inlineRules text: [UInt8], options: TableOptions) throws(TableError) {
        self.reference = reference
        self.path = nil
        self.displayName = reference.description
        self.options = options
        var warnings: [TableWarning] = []
        let rules = try Rules.load(text, table: displayName, kind: reference.kind, folding: options.keyFolding, warnings: &warnings)
        state = Mutex(State(rules: rules, warnings: warnings, signature: nil, nextCheck: options.now()))
        warnings.forEach { options.onWarning?($0) }
    }

    var isPattern: Bool { Rules.isPattern }

    var warnings: [TableWarning] { state.withLock { $0.warnings } }

    var lastReloadError: TableError? { state.withLock { $0.lastReloadError } }

    func lookup(_ key: String) throws -> String? {
        let (rules, newWarnings, reloadError) = currentRules()
        if let reloadError { options.onReloadError?(reloadError) }
        newWarnings.forEach { options.onWarning?($0) }
        return rules.lookup(key, table: displayName) { options.onWarning?($0) }
    }

    /// The rules to search, after reloading the file when it is due for a check and changed.
    /// Callbacks are left to the caller so that none runs while the lock is held.
    private func currentRules() -> (Rules, [TableWarning], TableError?) {
        let now = options.now()
        return state.withLock { state in
            guard let path, now >= state.nextCheck else { return (state.rules, [], nil) }
            state.nextCheck = now + options.checkInterval
            switch TableFile.signature(of: path) {
            case .failure(let error):
                let version = FailedVersion.unreadable(error.message)
                guard state.failedVersion != version else { return (state.rules, [], nil) }
                state.failedVersion = version
                state.lastReloadError = error
                return (state.rules, [], error)
            case .success(let signature):
                if signature == state.signature {
                    state.failedVersion = nil
                    state.lastReloadError = nil
                    return (state.rules, [], nil)
                }
                if state.failedVersion == .signature(signature) { return (state.rules, [], nil) }
                do throws(TableError) {
                    let (bytes, readSignature) = try TableFile.read(path)
                    var warnings: [TableWarning] = []
                    state.rules = try Rules.load(bytes, table: path, kind: reference.kind, folding: options.keyFolding, warnings: &warnings)
                    state.signature = readSignature
                    state.warnings = warnings
                    state.failedVersion = nil
                    state.lastReloadError = nil
                    return (state.rules, warnings, nil)
                } catch {
                    state.failedVersion = .signature(signature)
                    state.lastReloadError = error
                    return (state.rules, [], error)
                }
            }
        }
    }
}
