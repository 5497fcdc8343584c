#if canImport(Glibc)
import Glibc
#endif
internal import CSealpostShims
import SealpostConfig

/// Postfix's virtual(8) delivery agent for `virtual_mailbox_domains`: finds the mailbox with
/// `virtual_mailbox_maps` (a path under `virtual_mailbox_base`; ending in `/` means Maildir), the
/// owner with `virtual_uid_maps` and `virtual_gid_maps`, and writes the message there with
/// `Return-Path:` and `Delivered-To:` in front.
///
/// Sealpost runs as one unprivileged process: a mailbox owned by another user than the one
/// Sealpost runs as is a configuration error (deferred, and logged), not a silent `chown`.
public struct VirtualDeliveryAgent: Sendable {
    public struct Settings: Sendable {
        public var mailboxBase: String
        public var mailboxMaps: TableList?
        public var uidMaps: TableList?
        public var gidMaps: TableList?
        public var minimumUID: Int
        public var mailboxLimit: Int
        public var hostname: String
        public var recipientDelimiter: String

        /// Reads `virtual_mailbox_base`, `virtual_mailbox_maps`, `virtual_uid_maps`,
        /// `virtual_gid_maps`, `virtual_minimum_uid`, `virtual_mailbox_limit`, `myhostname` and
        /// `recipient_delimiter`, opening the tables.
        public init(_ configuration: ServiceConfiguration) throws(TableError) {
            mailboxBase = configuration.string("virtual_mailbox_base")
            mailboxMaps = try Self.open(configuration.tables("virtual_mailbox_maps"))
            uidMaps = try Self.open(configuration.tables("virtual_uid_maps"))
            gidMaps = try Self.open(configuration.tables("virtual_gid_maps"))
            minimumUID = configuration.integer("virtual_minimum_uid")
            mailboxLimit = configuration.integer("virtual_mailbox_limit")
            hostname = configuration.string("myhostname")
            recipientDelimiter = configuration.string("recipient_delimiter")
        }

        private static func open(_ references: [TableReference]) throws(TableError) -> TableList? {
            guard !references.isEmpty else { return nil }
            var tables: [any LookupTable] = []
            for reference in references { tables.append(try reference.open()) }
            return TableList(tables)
        }
    }

    /// What happened to one recipient, in the terms of Postfix's delivery status.
    public struct Outcome: Sendable, Hashable {
        public enum Status: String, Sendable, Hashable {
            case sent, deferred, bounced
        }

        public var status: Status
        /// RFC 3463 status, e.g. `2.0.0`.
        public var dsn: String
        /// The text in parentheses of Postfix's log line (`delivered to maildir`).
        public var text: String
        /// A problem the administrator must see (logged as a warning), beyond the outcome.
        public var warning: String?
    }

    public let settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    /// Delivers the message whose content `nextChunk` yields to `recipient` (the final, resolved
    /// recipient address) for envelope `sender` (empty for `<>`).
    public func deliver(recipient: String, sender: String, nextChunk: () throws -> [UInt8]?) -> Outcome {
        guard settings.mailboxBase.hasPrefix("/") else {
            return configurationError("do not specify relative pathname: virtual_mailbox_base = \(settings.mailboxBase)")
        }
        let user = recipient.lowercased()
        let keys = AddressKeys(recipientDelimiter: settings.recipientDelimiter).aliasKeys(for: user, domainIsLocal: false)
        let mailbox: String
        do {
            guard let maps = settings.mailboxMaps, let found = try maps.find(keys)?.value else {
                return Outcome(
                    status: .bounced, dsn: "5.1.1",
                    text: "unknown user: \"\(user)\"", warning: nil)
            }
            mailbox = found
        } catch {
            return Outcome(status: .deferred, dsn: "4.3.5", text: "mail system configuration error", warning: "table virtual_mailbox_maps: lookup \(user): \(error)")
        }
        guard let uid = lookupNumber(settings.uidMaps, keys: keys, name: "virtual_uid_maps", user: user) else {
            return configurationError("recipient \(user): not found in virtual_uid_maps")
        }
        guard uid >= settings.minimumUID else {
            return configurationError("recipient \(user): bad uid \(uid) in virtual_uid_maps (below virtual_minimum_uid \(settings.minimumUID))")
        }
        guard let gid = lookupNumber(settings.gidMaps, keys: keys, name: "virtual_gid_maps", user: user), gid > 0 else {
            return configurationError("recipient \(user): not found or bad gid in virtual_gid_maps")
        }
        let runningAsRoot = geteuid() == 0
        if !runningAsRoot && (uid != Int(geteuid()) || gid != Int(getegid())) {
            return configurationError(
                "recipient \(user): the mailbox belongs to uid/gid \(uid)/\(gid), but Sealpost runs as \(geteuid())/\(getegid()); "
                    + "map virtual_uid_maps and virtual_gid_maps to the account Sealpost runs as (mail_owner)")
        }
        let path = settings.mailboxBase + "/" + mailbox
        guard path.hasSuffix("/") else {
            return Outcome(
                status: .deferred, dsn: "4.3.5", text: "mail system configuration error",
                warning: "recipient \(user): \(path) is an mbox file; Sealpost delivers to Maildir only (end the virtual_mailbox_maps value with /)")
        }
        let headerLines = ["Return-Path: <\(QuotedAddress.external(sender))>", "Delivered-To: \(QuotedAddress.external(recipient))"]
        do {
            // As root, write as the mailbox owner, as Postfix's set_eugid() does; the file-system
            // identity is per thread on Linux, so other threads are not affected.
            let identity = runningAsRoot ? FileSystemIdentity(uid: uid_t(uid), gid: gid_t(gid)) : nil
            defer { identity?.restore() }
            _ = try MaildirWriter.deliver(
                to: path, hostname: settings.hostname, headerLines: headerLines, sizeLimit: settings.mailboxLimit,
                nextChunk: nextChunk)
            return Outcome(status: .sent, dsn: "2.0.0", text: "delivered to maildir", warning: nil)
        } catch let error as MaildirError {
            let temporary = error.dsnStatus.hasPrefix("4")
            var warning: String?
            if case .system(_, EACCES) = error {
                warning = "maildir access problem for UID/GID=\(uid)/\(gid): \(error.description); perhaps you need to create the maildirs in advance"
            }
            return Outcome(
                status: temporary ? .deferred : .bounced, dsn: error.dsnStatus,
                text: "maildir delivery failed: \(error.description)", warning: warning)
        } catch {
            // The queue could not supply the content (corrupt file): try again later.
            return Outcome(status: .deferred, dsn: "4.3.0", text: "mail system error: \(error)", warning: "\(error)")
        }
    }

    private func lookupNumber(_ maps: TableList?, keys: [LookupKey], name: String, user: String) -> Int? {
        guard let maps, let value = try? maps.find(keys)?.value else { return nil }
        return Int(value.trimmingWhitespace())
    }

    private func configurationError(_ warning: String) -> Outcome {
        Outcome(status: .deferred, dsn: "4.3.5", text: "mail system configuration error", warning: warning)
    }
}

/// The calling thread's file-system uid and gid (Linux `setfsuid`/`setfsgid`), switched for one
/// delivery and restored after (the local agent uses it too).
struct FileSystemIdentity {
    let previousUID: Int32
    let previousGID: Int32

    init(uid: uid_t, gid: gid_t) {
        previousGID = sealpost_setfsgid(gid)
        previousUID = sealpost_setfsuid(uid)
    }

    func restore() {
        _ = sealpost_setfsuid(uid_t(previousUID))
        _ = sealpost_setfsgid(gid_t(previousGID))
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        PostfixList.trimmed(self)
    }
}
