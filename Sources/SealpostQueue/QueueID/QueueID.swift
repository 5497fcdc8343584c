/// A queue ID in Postfix's long form (`enable_long_queue_ids = yes`), such as `4jclds4CSdz2P1LV`.
///
/// The ID is the message file's name in every queue directory and the name admins grep logs for.
/// As in Postfix's `mail_queue_enter()` it concatenates, in the safe alphabet of `SafeAlphabet`:
///
/// - the creation time's seconds in base 52, at least six characters;
/// - its microseconds in base 52, exactly four characters;
/// - the separator `z`;
/// - the file's inode number in base 51 (an alphabet without `z`, so the last `z` is the separator).
///
/// No two files that exist at the same time share an inode, and a new message cannot reuse the
/// creation time of an old one unless the clock went back — also when it takes over the old
/// one's file (`SpareFiles`) — so IDs are unique across restarts.
/// Until the year 2594 the seconds take six characters, so IDs sort as strings in creation order;
/// `Comparable` compares time first, then inode, at any length.
public struct QueueID: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    /// Seconds since the epoch at creation.
    public let seconds: UInt64
    /// Microseconds within that second, below 1,000,000.
    public let microseconds: UInt32
    /// The inode number of the file the ID was made for.
    public let inode: UInt64
    /// The ID as written in file names and logs.
    public let text: String

    static let secondsBase: UInt64 = 52
    static let secondsMinimumWidth = 6
    static let microsecondsBase: UInt64 = 52
    static let microsecondsWidth = 4
    static let inodeBase: UInt64 = 51
    static let separator = UInt8(ascii: "z")
    /// Longer names are never queue IDs (Postfix accepts up to a host name's 255 characters; a
    /// 64-bit time and inode need at most 27).
    static let maximumLength = 40

    /// The ID for a file created at `seconds`.`microseconds` with inode `inode` (which must not be 0).
    public init(seconds: UInt64, microseconds: UInt32, inode: UInt64) {
        precondition(microseconds < 1_000_000, "microseconds out of range")
        precondition(inode != 0, "inode 0 has no queue ID")
        self.seconds = seconds
        self.microseconds = microseconds
        self.inode = inode
        var bytes = SafeAlphabet.encode(seconds, base: Self.secondsBase, width: Self.secondsMinimumWidth)
        bytes += SafeAlphabet.encode(UInt64(microseconds), base: Self.microsecondsBase, width: Self.microsecondsWidth)
        bytes.append(Self.separator)
        bytes += SafeAlphabet.encode(inode, base: Self.inodeBase, width: 0)
        text = String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a long queue ID; nil for anything else, including names with `/`, `.` or other
    /// characters outside the safe alphabet, short (hexadecimal) Postfix IDs, and non-canonical
    /// spellings (extra leading zeros), so that a name read from disk maps to exactly one ID.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.maximumLength,
            let separator = bytes.lastIndex(of: Self.separator),
            separator >= Self.secondsMinimumWidth + Self.microsecondsWidth,
            separator + 1 < bytes.count
        else { return nil }
        let secondsDigits = bytes[..<(separator - Self.microsecondsWidth)]
        let microsecondsDigits = bytes[(separator - Self.microsecondsWidth)..<separator]
        let inodeDigits = bytes[(separator + 1)...]
        guard secondsDigits.count == Self.secondsMinimumWidth || secondsDigits.first != UInt8(ascii: "0"),
            inodeDigits.first != UInt8(ascii: "0"),
            let seconds = SafeAlphabet.decode(secondsDigits, base: Self.secondsBase),
            let microseconds = SafeAlphabet.decode(microsecondsDigits, base: Self.microsecondsBase),
            microseconds < 1_000_000,
            let inode = SafeAlphabet.decode(inodeDigits, base: Self.inodeBase)
        else { return nil }
        self.init(seconds: seconds, microseconds: UInt32(microseconds), inode: inode)
    }

    /// The creation time the ID encodes.
    public var timestamp: QueueTimestamp {
        QueueTimestamp(seconds: Int64(seconds), microseconds: Int32(microseconds))
    }

    public var description: String { text }

    public static func < (lhs: QueueID, rhs: QueueID) -> Bool {
        (lhs.seconds, lhs.microseconds, lhs.inode) < (rhs.seconds, rhs.microseconds, rhs.inode)
    }

    public static func == (lhs: QueueID, rhs: QueueID) -> Bool {
        lhs.seconds == rhs.seconds && lhs.microseconds == rhs.microseconds && lhs.inode == rhs.inode
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seconds)
        hasher.combine(microseconds)
        hasher.combine(inode)
    }
}
