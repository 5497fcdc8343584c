#if canImport(Glibc)
import Glibc
#endif

/// Queue files of delivered messages, kept open in `incoming` to hold the next messages instead
/// of being unlinked.
///
/// Creating and removing a file per message is the largest cost the kernel bills for accepting
/// mail: allocating an inode (on ext4 without a journal the allocator walks every inode freed in
/// the last minute, 24% of the server's CPU under a steady load), allocating blocks, freeing and
/// discarding both again. A spare file keeps its inode and blocks; the next message overwrites
/// them in place and cuts the file to its own length.
///
/// Why old content can never pass for new:
/// - a spare lives in `incoming` under `spare.<pid>.<n>`, locked by this process; recovery
///   removes every unlocked file in `incoming`, and a file there is never delivered;
/// - the removal that made it a spare (a rename out of `active`) is not synced, so a crash could
///   bring the old name back. A spare is therefore handed out only after a sync of `active` that
///   started after that rename has completed (`CommitCoordinator.activeSyncedThrough`): from then
///   on no crash can make the old message reappear with the new content;
/// - the new message cuts the file to its length before the commit syncs it, and that sync is an
///   fsync (size included), not an fdatasync: a stale journal record of the old message beyond
///   the new end can never reappear after a crash.
final class SpareFiles: Sendable {
    struct Spare: Sendable {
        var name: String
        var descriptor: Int32
        /// `CommitCoordinator.activeEpoch` read after the rename into `incoming`.
        var epoch: UInt64
    }

    let capacity: Int
    private let spares = Locked<[Spare]>([])

    init(capacity: Int) {
        self.capacity = capacity
    }

    var hasRoom: Bool { spares.withLock { $0.count < capacity } }

    /// Keeps a spare; false when full (the caller closes and removes it).
    func offer(_ spare: Spare) -> Bool {
        spares.withLock { spares in
            guard spares.count < capacity else { return false }
            spares.append(spare)
            return true
        }
    }

    /// The oldest spare whose old name a completed sync of `active` has made durably gone.
    func take(syncedThrough: UInt64) -> Spare? {
        spares.withLock { spares in
            guard let first = spares.first, first.epoch < syncedThrough else { return nil }
            return spares.removeFirst()
        }
    }

    /// Removes every spare (at shutdown).
    func removeAll(fileSystem: any QueueFileSystem, incoming: Int32) {
        let all = spares.withLock { spares in
            defer { spares.removeAll() }
            return spares
        }
        for spare in all {
            try? fileSystem.remove(spare.name, in: incoming)
            fileSystem.close(spare.descriptor)
        }
    }
}
