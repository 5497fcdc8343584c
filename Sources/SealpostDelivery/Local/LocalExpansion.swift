#if canImport(Glibc)
import Glibc
#endif
import SealpostConfig
import SealpostRouting

/// What local delivery will do for one recipient of a message, worked out before anything is
/// written: the mailboxes to write, the addresses to hand back to the queue, and the failures.
/// It follows Postfix's local(8) call tree (recipient.c, alias.c, include.c, token.c,
/// resolve.c), with the same state passed down by value.
struct LocalExpansion {
    struct Failure: Sendable, Hashable {
        var temporary: Bool
        var dsn: String
        var text: String
        var warning: String?
    }

    struct Mailbox: Sendable, Hashable {
        var user: SystemUser
        var path: String
    }

    struct Forward: Sendable, Hashable {
        var address: String
        var sender: String
        /// A list's `owner-` alias took over the message: new sender, DSN parameters reset.
        var listOwner: Bool
    }

    /// Postfix's exp_type: where a destination came from, for `allow_mail_to_files` and
    /// `allow_mail_to_commands`.
    enum Origin: String {
        case recipient, alias, include
    }

    /// Postfix's LOCAL_STATE and the parts of its DELIVER_ATTR that change on the way down.
    struct State {
        var level = 0
        var sender: String
        /// The alias being expanded (exp_from): an alias that lists itself means its user.
        var expandedFrom: String?
        var origin: Origin = .recipient
        /// Set by an `owner-` alias or an `:include:` file: local members are then forwarded
        /// through the queue rather than delivered directly.
        var owner: String?
        var listOwner = false
        /// The extension not matched by an alias lookup, passed on when
        /// `propagate_unmatched_extensions` allows.
        var unmatchedExtension: String?
        var delimiter: Character?

        init(sender: String) {
            self.sender = sender
        }
    }

    /// Postfix's alias nesting limit ("alias database loop").
    static let maximumLevel = 100

    let agent: LocalDeliveryAgent
    let request: DeliveryRequest
    let recipient: DeliveryRequest.Recipient
    let loopAddresses: Set<String>

    private(set) var mailboxes: [Mailbox] = []
    private(set) var forwards: [Forward] = []
    private(set) var failures: [Failure] = []
    private(set) var aliasExpanded = false
    private(set) var listOwnerTookOver = false
    /// Postfix's been_here() duplicate filter.
    private var seen: Set<String> = []

    init(agent: LocalDeliveryAgent, request: DeliveryRequest, recipient: DeliveryRequest.Recipient, loopAddresses: Set<String>) {
        self.agent = agent
        self.request = request
        self.recipient = recipient
        self.loopAddresses = loopAddresses
    }

    private var settings: LocalDeliveryAgent.Settings { agent.settings }

    private mutating func bounce(_ dsn: String, _ text: String, warning: String? = nil) {
        failures.append(Failure(temporary: false, dsn: dsn, text: text, warning: warning))
    }

    private mutating func deferral(_ dsn: String, _ text: String, warning: String? = nil) {
        failures.append(Failure(temporary: true, dsn: dsn, text: text, warning: warning))
    }

    // recipient.c, deliver_recipient().
    /// Delivers to a local address: loop check, extension split, then the delivery switch.
    mutating func deliverRecipient(_ address: String, state initial: State, noAliases: Bool = false) {
        var state = initial
        state.level += 1
        let folded = address.lowercased()
        guard seen.insert("recipient \(state.level) \(folded)").inserted else { return }
        if loopAddresses.contains(folded) {
            bounce("5.4.6", "mail forwarding loop for \(address)")
            return
        }
        var local = folded
        if let at = folded.lastIndex(of: "@") { local = String(folded[..<at]) }
        var user = local
        var fullLocal = local
        var extensionPart: String?
        let keys = AddressKeys(recipientDelimiter: settings.recipientDelimiter, ownerRequestSpecial: settings.ownerRequestSpecial)
        if let (stripped, found) = keys.splitExtension(local) {
            if found.contains("/") {
                // Fix 20100422 in recipient.c: an extension with a slash is dropped.
                fullLocal = stripped
            } else {
                extensionPart = String(found.dropFirst())
                state.delimiter = found.first
            }
            user = stripped
        }
        state.unmatchedExtension = extensionPart
        guard !user.isEmpty else {
            bounce("5.1.3", "null username in \"\(address)\"")
            return
        }
        deliverSwitch(address, local: fullLocal, user: user, extension: extensionPart, state: state, noAliases: noAliases)
    }

    // recipient.c, deliver_switch(): aliases first (the whole local part, then the bare user),
    // then forwarding for owned expansions, then the mailbox.
    private mutating func deliverSwitch(
        _ address: String, local: String, user: String, extension extensionPart: String?, state initial: State, noAliases: Bool
    ) {
        var state = initial
        state.level += 1
        if noAliases {
            deliverMailbox(user: user)
            return
        }
        state.unmatchedExtension = nil
        if deliverAlias(local, address: address, state: state) { return }
        if let extensionPart {
            if settings.propagateExtensionToAliases { state.unmatchedExtension = extensionPart }
            if deliverAlias(user, address: address, state: state) { return }
            state.unmatchedExtension = extensionPart
        }
        if let owner = state.owner, owner.lowercased() != user {
            forward(address, state: state)
            return
        }
        if state.origin == .include {
            forward(address, state: state)
            return
        }
        deliverMailbox(user: user)
    }

    // alias.c, deliver_alias(): true when the name was an alias (whatever came of it).
    private mutating func deliverAlias(_ name: String, address: String, state initial: State) -> Bool {
        var state = initial
        state.level += 1
        if let from = state.expandedFrom, from.lowercased() == name.lowercased() { return false }
        if state.level > Self.maximumLevel {
            bounce("5.4.6", "alias database loop for \(name)", warning: "alias database loop for \(name)")
            return true
        }
        guard let maps = settings.aliasMaps else { return false }
        let value: String
        do {
            guard let found = try maps.lookup(name) else { return false }
            value = found.value
        } catch {
            deferral("4.3.0", "alias database unavailable", warning: "alias_maps: lookup of '\(name)' failed: \(error)")
            return true
        }
        state.expandedFrom = name
        state.origin = .alias
        if settings.ownerRequestSpecial {
            do {
                if try maps.lookup("owner-" + name) != nil {
                    // expand_owner_alias = no: the sender is the owner- address itself.
                    let owner = "owner-\(name)@\(settings.origin)"
                    state.owner = owner
                    state.sender = owner
                    state.listOwner = true
                    listOwnerTookOver = true
                }
            } catch {
                deferral("4.3.0", "alias database unavailable", warning: "alias_maps: lookup of 'owner-\(name)' failed: \(error)")
                return true
            }
        }
        let destinations = AliasDestination.parse(value)
        guard !destinations.isEmpty else {
            deferral("4.3.0", "alias database unavailable", warning: "no recipient in alias lookup result for \(name)")
            return true
        }
        aliasExpanded = true
        for destination in destinations { deliverToken(destination, address: address, state: state) }
        return true
    }

    // token.c, deliver_token().
    private mutating func deliverToken(_ destination: AliasDestination, address: String, state: State) {
        switch destination {
        case .file(let path):
            refuse(
                "file", allowed: settings.allowMailToFiles, state: state,
                why: "\(address): delivery to file \(path) is not supported: Sealpost runs as one unprivileged user and "
                    + "writes Maildirs only; deliver to a user's Maildir instead")
        case .command(let command):
            refuse(
                "command", allowed: settings.allowMailToCommands, state: state,
                why: "\(address): delivery to command |\(command) is not supported: Sealpost runs no external programs; "
                    + "deliver to a Maildir or over LMTP instead")
        case .include(let path):
            deliverInclude(path, address: address, state: state)
        case .address(let target, let noAliases):
            deliverAddress(target, noAliases: noAliases, state: state)
        }
    }

    // token.c: "mail to file/command is restricted" when allow_mail_to_files/commands does
    // not list where the destination came from. Past that check Sealpost defers, because it
    // cannot write files or run programs with the recipient's rights: the administrator sees
    // the warning and can change the alias before the mail expires.
    /// Bounces or defers a `/file` or `|command` destination.
    private mutating func refuse(_ kind: String, allowed: Set<String>, state: State, why: String) {
        guard allowed.contains(state.origin.rawValue) else {
            bounce("5.7.1", "mail to \(kind) is restricted")
            return
        }
        deferral("4.3.5", "mail system configuration error", warning: why)
    }

    // resolve.c, deliver_resolve_tree(): rewrite to canonical form, splice in the unmatched
    // extension, resolve; local addresses recurse, others go back to the queue.
    private mutating func deliverAddress(_ target: String, noAliases: Bool, state: State) {
        var address = target.contains("@") ? target : "\(target)@\(settings.origin)"
        if let extensionPart = state.unmatchedExtension, let delimiter = state.delimiter, let at = address.lastIndex(of: "@") {
            address = address[..<at] + String(delimiter) + extensionPart + address[at...]
        }
        let resolution: AddressResolver.Resolution
        do {
            resolution = try agent.resolver.resolve(address)
        } catch {
            deferral("4.3.0", "address resolver failure", warning: "resolve \(address): \(error)")
            return
        }
        if resolution.isInvalid {
            bounce("5.1.3", "bad recipient address syntax: \(resolution.recipient)")
        } else if resolution.addressClass == .local {
            deliverRecipient(resolution.recipient, state: state, noAliases: noAliases)
        } else {
            forward(resolution.recipient, state: state)
        }
    }

    // include.c, deliver_include().
    private mutating func deliverInclude(_ path: String, address: String, state initial: State) {
        var state = initial
        state.level += 1
        guard seen.insert("include \(path)").inserted else { return }
        func configurationError(_ warning: String) {
            bounce("5.3.5", "mail system configuration error", warning: warning)
        }
        guard path.hasPrefix("/") else { return configurationError(":include:\(path) uses a relative path") }
        var status = stat()
        guard stat(path, &status) == 0 else {
            return configurationError("unable to lookup :include: file \(path): \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return configurationError(":include: file \(path) is not a regular file") }
        guard status.st_mode & S_IWOTH == 0 else { return configurationError(":include: file \(path) is world writable") }
        state.origin = .include
        if state.owner == nil { state.owner = address }
        if !settings.propagateExtensionToIncludes { state.unmatchedExtension = nil }
        let text: String
        switch Self.readFile(path, limit: 1 << 20) {
        case .contents(let contents): text = contents
        case .error(let code): return configurationError("cannot open include file \(path): \(String(cString: strerror(code)))")
        }
        for destination in AliasDestination.parse(text) { deliverToken(destination, address: address, state: state) }
    }

    // mailbox.c / unknown.c: the account must exist; its Maildir is written later.
    private mutating func deliverMailbox(user: String) {
        let account: SystemUser?
        do {
            account = try agent.users.user(named: user)
        } catch {
            deferral("4.0.0", "user lookup error", warning: "\(error)")
            return
        }
        guard let account else {
            bounce("5.1.1", "unknown user: \"\(user)\"")
            return
        }
        guard let path = settings.maildir(for: account) else {
            deferral(
                "4.3.5", "mail system configuration error",
                warning: "recipient \(user): mbox delivery is not supported; Sealpost delivers to Maildir only (home_mailbox = Maildir/)")
            return
        }
        if !settings.homeMailbox.isEmpty {
            // MaildirWriter makes missing directories; the home itself must not be made by us.
            var status = stat()
            if stat(account.home, &status) != 0 {
                deferral("4.3.0", "cannot access home directory \(account.home): \(String(cString: strerror(errno)))")
                return
            }
        }
        if !mailboxes.contains(where: { $0.path == path }) { mailboxes.append(Mailbox(user: account, path: path)) }
    }

    // indirect.c / forward.c: the address goes back through the queue.
    private mutating func forward(_ address: String, state: State) {
        let forward = Forward(address: address, sender: state.sender, listOwner: state.listOwner)
        if !forwards.contains(forward) { forwards.append(forward) }
    }

    private enum FileRead {
        case contents(String)
        case error(Int32)
    }

    private static func readFile(_ path: String, limit: Int) -> FileRead {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .error(errno) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .error(errno)
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return .contents(String(decoding: bytes, as: UTF8.self))
    }
}
