#if canImport(Glibc)
import Glibc
#endif
import SealpostConfig
import SealpostQueue
import SealpostRouting

/// Postfix's local(8) delivery agent for the domains in `mydestination`: `alias_maps`
/// expansion (recursive, one-to-many, `owner-` aliases, `:include:` files), then delivery into
/// the recipient's Maildir (`home_mailbox = Maildir/`, or a `mail_spool_directory` ending in
/// `/`), with `Return-Path:`, `X-Original-To:` and `Delivered-To:` in front of the message.
///
/// What Sealpost does differently, because it runs as one unprivileged user:
/// - `/file/name`, `~/file` and `|command` destinations are deferred with a warning that says
///   they are not supported (after the `allow_mail_to_files`/`allow_mail_to_commands` checks,
///   which bounce as in Postfix); mbox mailboxes are refused at start-up
///   (``Settings/mailboxStyleProblem(_:)``).
/// - A Maildir the process cannot write defers (Postfix bounces with 5.2.0), so an
///   administrator can fix the permissions before mail is lost; the warning names the problem.
/// - Addresses an expansion produces that do not end here, and every member of a list with an
///   `owner-` alias or of an `:include:` file, are not resubmitted by the agent: they come back
///   in ``DeliveryReport/forwarded`` for the queue manager to queue (see ``ForwardedMail``).
/// - `.forward` files and `luser_relay` are not consulted (the SMTP server applies
///   `luser_relay` and `local_recipient_maps` when it accepts the recipient).
public struct LocalDeliveryAgent: DeliveryAgent {
    public struct Settings: Sendable {
        public var aliasMaps: TableList?
        public var homeMailbox: String
        public var mailSpoolDirectory: String
        public var hostname: String
        /// `myorigin`: the domain of unqualified alias destinations and of `owner-` senders.
        public var origin: String
        public var recipientDelimiter: String
        public var ownerRequestSpecial: Bool
        /// `mailbox_size_limit`: the largest message file, 0 for none.
        public var mailboxSizeLimit: Int
        /// `allow_mail_to_files`, `allow_mail_to_commands`: `alias`, `forward`, `include`.
        public var allowMailToFiles: Set<String>
        public var allowMailToCommands: Set<String>
        /// `propagate_unmatched_extensions` has `alias` / `include`.
        public var propagateExtensionToAliases: Bool
        public var propagateExtensionToIncludes: Bool

        /// Reads `alias_maps` (opening the tables), `home_mailbox`, `mail_spool_directory`,
        /// `myhostname`, `myorigin`, `recipient_delimiter`, `owner_request_special`,
        /// `mailbox_size_limit`, `allow_mail_to_files`, `allow_mail_to_commands` and
        /// `propagate_unmatched_extensions`.
        public init(_ configuration: ServiceConfiguration, options: TableOptions = TableOptions()) throws(TableError) {
            let references = configuration.tables("alias_maps")
            if references.isEmpty {
                aliasMaps = nil
            } else {
                var tables: [any LookupTable] = []
                // hash:/etc/aliases and the like are postalias(1) sources: name: value.
                var aliasOptions = options
                aliasOptions.aliasFileFormat = true
                for reference in references { tables.append(try reference.open(aliasOptions)) }
                aliasMaps = TableList(tables)
            }
            homeMailbox = configuration.string("home_mailbox")
            mailSpoolDirectory = configuration.string("mail_spool_directory")
            hostname = configuration.string("myhostname")
            origin = configuration.string("myorigin")
            recipientDelimiter = configuration.string("recipient_delimiter")
            ownerRequestSpecial = configuration.bool("owner_request_special")
            mailboxSizeLimit = configuration.integer("mailbox_size_limit")
            allowMailToFiles = Set(configuration.list("allow_mail_to_files").map { $0.lowercased() })
            allowMailToCommands = Set(configuration.list("allow_mail_to_commands").map { $0.lowercased() })
            let propagate = Set(configuration.list("propagate_unmatched_extensions").map { $0.lowercased() })
            propagateExtensionToAliases = propagate.contains("alias")
            propagateExtensionToIncludes = propagate.contains("include")
        }

        /// Why this configuration's mailboxes cannot be delivered by Sealpost, or nil when they
        /// are Maildirs: start-up calls this when a `local` transport is in use. Postfix's
        /// default (`home_mailbox` empty, `mail_spool_directory = /var/mail`) is mbox, which
        /// Sealpost does not write.
        public static func mailboxStyleProblem(_ configuration: ServiceConfiguration) -> String? {
            let home = configuration.string("home_mailbox")
            let spool = configuration.string("mail_spool_directory")
            if !configuration.string("mailbox_command").isEmpty {
                return "mailbox_command is not supported: Sealpost runs no external delivery programs; set home_mailbox = Maildir/"
            }
            if !home.isEmpty {
                guard home.hasSuffix("/") else {
                    return "home_mailbox = \(home) is an mbox file; Sealpost delivers to Maildir only: end it with / (home_mailbox = Maildir/)"
                }
                guard !home.hasPrefix("/") else {
                    return "home_mailbox = \(home) must be relative to the home directory (home_mailbox = Maildir/)"
                }
                return nil
            }
            guard spool.hasSuffix("/") else {
                return "home_mailbox is empty and mail_spool_directory = \(spool) holds mbox files; "
                    + "Sealpost delivers to Maildir only: set home_mailbox = Maildir/ (or end mail_spool_directory with /)"
            }
            return nil
        }

        /// The Maildir of `user`, nil for an mbox configuration.
        func maildir(for user: SystemUser) -> String? {
            if !homeMailbox.isEmpty {
                guard homeMailbox.hasSuffix("/"), !homeMailbox.hasPrefix("/") else { return nil }
                return (user.home.hasSuffix("/") ? user.home : user.home + "/") + homeMailbox
            }
            guard mailSpoolDirectory.hasSuffix("/") else { return nil }
            return mailSpoolDirectory + user.name + "/"
        }
    }

    public let settings: Settings
    public let resolver: AddressResolver
    public let users: any UserDirectory

    /// - Parameters:
    ///   - resolver: decides whether an address an alias expands into is delivered here (class
    ///     `local`) or must go through the queue again.
    ///   - users: the account database (the system's passwd by default).
    public init(settings: Settings, resolver: AddressResolver, users: any UserDirectory = SystemUserDirectory()) {
        self.settings = settings
        self.resolver = resolver
        self.users = users
    }

    public func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        await MailboxIO.run { deliverNow(request) }
    }

    /// The delivery itself: blocking file work, run on ``MailboxIO``'s threads.
    private func deliverNow(_ request: DeliveryRequest) -> DeliveryReport {
        let started = ContinuousClock.now
        let loopAddresses: Set<String>
        do {
            loopAddresses = try DeliveredToHeaders.read(try request.openContent())
        } catch {
            return DeliveryReport.all(request, .deferred, dsn: "4.3.0", text: "mail system error: \(error)", relay: "local")
        }
        var results: [RecipientResult] = []
        var forwarded: [ForwardedMail] = []
        for recipient in request.recipients {
            var expansion = LocalExpansion(agent: self, request: request, recipient: recipient, loopAddresses: loopAddresses)
            expansion.deliverRecipient(recipient.address, state: .init(sender: request.sender))
            let (result, forwards) = finish(expansion, request: request, recipient: recipient)
            results.append(result)
            forwarded += forwards
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return DeliveryReport(results: results, transmissionSeconds: seconds, forwarded: forwarded)
    }

    /// Writes the mailboxes an expansion found and turns the whole into one result for the
    /// original recipient: deferred when anything must be tried again, else bounced when any
    /// part failed for good (the sender hears of it), else sent.
    private func finish(
        _ expansion: LocalExpansion, request: DeliveryRequest, recipient: DeliveryRequest.Recipient
    ) -> (RecipientResult, [ForwardedMail]) {
        func result(_ failure: LocalExpansion.Failure) -> RecipientResult {
            RecipientResult(
                index: recipient.index, status: failure.temporary ? .deferred : .bounced, dsn: failure.dsn, text: failure.text,
                relay: "local", warning: failure.warning)
        }
        if let temporary = expansion.failures.first(where: \.temporary) { return (result(temporary), []) }
        var failures = expansion.failures
        let headerLines = [
            "Return-Path: <\(QuotedAddress.external(request.sender))>",
            "X-Original-To: \(QuotedAddress.external(recipient.originalAddress ?? recipient.address))",
            "Delivered-To: \(QuotedAddress.external(recipient.address))",
        ]
        for mailbox in expansion.mailboxes {
            if let failure = write(mailbox, headerLines: headerLines, request: request) {
                if failure.temporary { return (result(failure), []) }
                failures.append(failure)
            }
        }
        let forwards = forwardedMail(expansion, request: request, recipient: recipient)
        if let permanent = failures.first { return (result(permanent), forwards) }

        var parts: [String] = []
        if !expansion.mailboxes.isEmpty { parts.append("delivered to maildir") }
        if !expansion.forwards.isEmpty { parts.append("forwarded") }
        let action: DSNAction = expansion.aliasExpanded && !expansion.listOwnerTookOver ? .expanded : .delivered
        return (
            RecipientResult(
                index: recipient.index, status: .sent, dsn: "2.0.0",
                text: parts.isEmpty ? "delivered" : parts.joined(separator: "; "), relay: "local", action: action),
            forwards
        )
    }

    private func write(
        _ mailbox: LocalExpansion.Mailbox, headerLines: [String], request: DeliveryRequest
    ) -> LocalExpansion.Failure? {
        let account = mailbox.user
        let runningAsRoot = geteuid() == 0
        if runningAsRoot && account.uid == 0 {
            return .init(
                temporary: true, dsn: "4.3.5", text: "mail system configuration error",
                warning: "not delivering to the mailbox of \(account.name) (uid 0); alias \(account.name) to another user in alias_maps")
        }
        do {
            let reader = try request.openContent()
            // As root, write as the mailbox owner, as Postfix's local does; the file-system
            // identity is per thread on Linux, so other threads are not affected.
            let identity = runningAsRoot ? FileSystemIdentity(uid: uid_t(account.uid), gid: gid_t(account.gid)) : nil
            defer { identity?.restore() }
            _ = try MaildirWriter.deliver(
                to: mailbox.path, hostname: settings.hostname, headerLines: headerLines, sizeLimit: settings.mailboxSizeLimit,
                nextChunk: { try reader.next() })
            return nil
        } catch MaildirError.tooLarge(let limit) {
            return .init(
                temporary: false, dsn: "5.2.2",
                text: "maildir delivery failed: message file too big: it exceeds mailbox_size_limit (\(limit) bytes)")
        } catch let error as MaildirError {
            var warning: String?
            if case .system(_, let code) = error, code == EACCES || code == EPERM {
                warning = "maildir access problem for \(account.name) (UID/GID=\(account.uid)/\(account.gid)): \(error.description); "
                    + "Sealpost runs as UID/GID=\(geteuid())/\(getegid()) and cannot write \(mailbox.path): "
                    + "create the Maildir in advance, writable by that user, or deliver over LMTP"
            }
            // Sealpost defers what Postfix bounces with 5.2.0 (permissions), so that the
            // administrator can fix it before the mail is returned.
            let dsn = error.dsnStatus.hasPrefix("5.2.2") ? "5.2.2" : "4.2.0"
            return .init(temporary: dsn.hasPrefix("4"), dsn: dsn, text: "maildir delivery failed: \(error.description)", warning: warning)
        } catch {
            return .init(temporary: true, dsn: "4.3.0", text: "mail system error: \(error)", warning: "\(error)")
        }
    }

    private func forwardedMail(
        _ expansion: LocalExpansion, request: DeliveryRequest, recipient: DeliveryRequest.Recipient
    ) -> [ForwardedMail] {
        var groups: [ForwardedMail] = []
        for forward in expansion.forwards {
            // RFC 3461 section 5.2.7, as alias.c applies it: an alias passes NOTIFY on without
            // SUCCESS (it answered that itself); a list with an owner starts afresh.
            var notify = recipient.notify
            if forward.listOwner {
                notify = []
            } else if notify == [.success] {
                notify = [.never]
            } else {
                notify.remove(.success)
            }
            let queued = QueueRecipient(
                address: forward.address,
                originalAddress: forward.listOwner ? nil : (recipient.originalAddress ?? recipient.address),
                notify: notify, originalRecipient: forward.listOwner ? nil : recipient.originalRecipient)
            if let index = groups.firstIndex(where: { $0.sender == forward.sender }) {
                groups[index].recipients.append(queued)
            } else {
                groups.append(
                    ForwardedMail(
                        originalIndex: recipient.index, sender: forward.sender, recipients: [queued],
                        envelopeID: forward.listOwner ? nil : request.envelope.envelopeID,
                        returnContent: forward.listOwner ? nil : request.envelope.returnContent,
                        headerLines: ["Delivered-To: \(recipient.address)"]))
            }
        }
        return groups
    }
}

/// The Delivered-To: header values of a message, lowercased: the addresses it was already
/// delivered to on the way here (delivered_hdr.c), which local delivery must not deliver to
/// again.
enum DeliveredToHeaders {
    /// At most this much header is read (Postfix reads the whole header; cleanup limits it to
    /// `header_size_limit`, 102400 by default).
    static let limit = 1 << 20

    static func read(_ reader: MessageContentReader) throws -> Set<String> {
        defer { reader.close() }
        var header: [UInt8] = []
        while header.count < limit, let chunk = try reader.next() {
            header += chunk
            if let end = endOfHeader(header) {
                header.removeSubrange(end...)
                break
            }
        }
        return parse(header)
    }

    static func parse(_ header: [UInt8]) -> Set<String> {
        var found: Set<String> = []
        var current: String?
        func flush() {
            if let value = current {
                let trimmed = value.trimmingBlanks().lowercased()
                if !trimmed.isEmpty { found.insert(trimmed) }
            }
            current = nil
        }
        // "\r\n" is one Character in Swift, so lines are split on the bytes.
        for rawLine in header.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let bytes = rawLine.last == 0x0D ? rawLine.dropLast() : rawLine
            let line = Substring(String(decoding: bytes, as: UTF8.self))
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t" {
                if current != nil { current! += line }
                continue
            }
            flush()
            if let colon = line.firstIndex(of: ":"), String(line[..<colon]).trimmingBlanks().lowercased() == "delivered-to" {
                current = String(line[line.index(after: colon)...])
            }
        }
        flush()
        return found
    }

    private static func endOfHeader(_ bytes: [UInt8]) -> Int? {
        var index = 0
        var lineStart = true
        while index < bytes.count {
            if lineStart {
                if bytes[index] == 0x0A { return index }
                if bytes[index] == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { return index }
            }
            lineStart = bytes[index] == 0x0A
            index += 1
        }
        return nil
    }
}
