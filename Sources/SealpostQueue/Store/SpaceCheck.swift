/// Whether the queue file system has room for another message, as Postfix's smtpd checks before
/// it accepts MAIL FROM: the free space must exceed `queue_minfree` and 1.5 × `message_size_limit`.
public struct SpaceCheck: Sendable, Hashable {
    /// False means: answer `452 4.3.1 Insufficient system storage`.
    public var isSufficient: Bool
    /// Bytes available to unprivileged users on the queue file system.
    public var availableBytes: UInt64
    /// The warning to log when space is insufficient, in Postfix's words.
    public var warning: String?

    /// Postfix's multiplier: a message may need space for its queue file and a copy in flight.
    public static let sizeLimitFactor = 1.5

    /// Postfix's comparison (`smtpd_check_queue`), in blocks to avoid overflow.
    static func evaluate(_ space: FileSystemSpace, minimumFree: Int, messageSizeLimit: Int) -> SpaceCheck {
        let blockSize = max(space.blockSize, 1)
        let free = space.blocksAvailable
        let minimumBlocks = UInt64(max(0, minimumFree)) / blockSize
        let limitBlocks = UInt64(max(0, messageSizeLimit)) / blockSize
        let sufficient = !(minimumBlocks >= free || Double(limitBlocks) >= Double(free) / sizeLimitFactor)
        return SpaceCheck(
            isSufficient: sufficient, availableBytes: space.bytesAvailable,
            warning: sufficient
                ? nil
                : "not enough free space in mail queue: \(space.bytesAvailable) bytes < \(sizeLimitFactor)*message size limit")
    }
}
