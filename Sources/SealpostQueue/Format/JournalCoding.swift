/// One entry of a message's state journal: the records appended after the content.
///
/// The journal is append-only. A recipient's state is the fold of its entries in file order, and
/// final states (delivered, bounced) are sticky, so replaying an entry twice or reading an entry
/// that lost a race changes nothing.
enum JournalEntry: Sendable, Hashable {
    /// A delivery attempt's result for some recipients.
    case outcome(DeliveryOutcome)
    /// Notices of `kinds` were queued to the sender about these recipients.
    case notified(NotificationKinds, recipients: [Int], time: QueueTimestamp)
    /// A recipient's whole state, written when a journal is compacted.
    case snapshot(index: Int, RecipientState)

    private enum ResultCode: UInt8 {
        case delivered = 1, bounced = 2, deferred = 3
    }

    func encode(into writer: inout ByteWriter) {
        switch self {
        case .outcome(let outcome):
            RecordFraming.append(.outcome, to: &writer) { payload in
                switch outcome.result {
                case .delivered(let action):
                    payload.append(ResultCode.delivered.rawValue)
                    payload.append(action.rawValue)
                    payload.append(Int64(0))
                case .bounced:
                    payload.append(ResultCode.bounced.rawValue)
                    payload.append(UInt8(0))
                    payload.append(Int64(0))
                case .deferred(let until):
                    payload.append(ResultCode.deferred.rawValue)
                    payload.append(UInt8(0))
                    payload.append(until.microsecondsSinceEpoch)
                }
                payload.append(outcome.time.microsecondsSinceEpoch)
                payload.append(string: outcome.dsnStatus)
                payload.append(string: outcome.reason)
                payload.append(optional: outcome.remoteMTA)
                Self.append(indexes: outcome.recipients, to: &payload)
            }
        case .notified(let kinds, let recipients, let time):
            RecordFraming.append(.notified, to: &writer) { payload in
                payload.append(kinds.rawValue)
                payload.append(time.microsecondsSinceEpoch)
                Self.append(indexes: recipients, to: &payload)
            }
        case .snapshot(let index, let state):
            RecordFraming.append(.snapshot, to: &writer) { payload in
                payload.append(UInt32(index))
                payload.append(state.status.rawValue)
                payload.append(UInt32(clamping: state.attempts))
                Self.append(optional: state.lastAttempt, to: &payload)
                Self.append(optional: state.nextAttempt, to: &payload)
                payload.append(optional: state.dsnStatus)
                payload.append(optional: state.reason)
                payload.append(optional: state.remoteMTA)
                payload.append(state.action?.rawValue ?? 0)
                payload.append(state.notified.rawValue)
            }
        }
    }

    /// The entry in a journal record; nil for an optional record type this version does not know.
    static func decode(type: UInt8, payload: ArraySlice<UInt8>) throws(FormatProblem) -> JournalEntry? {
        var reader = ByteReader(payload)
        let entry: JournalEntry
        switch RecordType(rawValue: type) {
        case .outcome:
            let code = try reader.readUInt8()
            let actionCode = try reader.readUInt8()
            let until = QueueTimestamp(microsecondsSinceEpoch: try reader.readInt64())
            let time = QueueTimestamp(microsecondsSinceEpoch: try reader.readInt64())
            let dsnStatus = try reader.readString()
            let reason = try reader.readString()
            let remoteMTA = try reader.readOptionalString()
            let recipients = try readIndexes(&reader)
            let result: DeliveryOutcome.Result
            switch ResultCode(rawValue: code) {
            case .delivered:
                guard let action = DSNAction(rawValue: actionCode) else { throw FormatProblem("bad DSN action \(actionCode)") }
                result = .delivered(action)
            case .bounced: result = .bounced
            case .deferred: result = .deferred(until: until)
            case nil: throw FormatProblem("bad outcome code \(code)")
            }
            entry = .outcome(DeliveryOutcome(
                recipients: recipients, result: result, time: time, dsnStatus: dsnStatus, reason: reason,
                remoteMTA: remoteMTA))
        case .notified:
            let kinds = NotificationKinds(rawValue: try reader.readUInt8())
            let time = QueueTimestamp(microsecondsSinceEpoch: try reader.readInt64())
            entry = .notified(kinds, recipients: try readIndexes(&reader), time: time)
        case .snapshot:
            let index = Int(try reader.readUInt32())
            let statusCode = try reader.readUInt8()
            guard let status = RecipientStatus(rawValue: statusCode) else { throw FormatProblem("bad status \(statusCode)") }
            let attempts = Int(try reader.readUInt32())
            let lastAttempt = try readOptionalTimestamp(&reader)
            let nextAttempt = try readOptionalTimestamp(&reader)
            let dsnStatus = try reader.readOptionalString()
            let reason = try reader.readOptionalString()
            let remoteMTA = try reader.readOptionalString()
            let actionCode = try reader.readUInt8()
            let notified = NotificationKinds(rawValue: try reader.readUInt8())
            entry = .snapshot(index: index, RecipientState(
                status: status, attempts: attempts, lastAttempt: lastAttempt, nextAttempt: nextAttempt,
                dsnStatus: dsnStatus, reason: reason, remoteMTA: remoteMTA,
                action: actionCode == 0 ? nil : DSNAction(rawValue: actionCode), notified: notified))
        default:
            if type & RecordType.optionalBit != 0 { return nil }
            throw FormatProblem("unexpected record type 0x\(String(type, radix: 16)) in the state journal")
        }
        guard reader.isAtEnd else { throw FormatProblem("journal record has trailing bytes") }
        return entry
    }

    /// Applies the entry to the recipients' states.
    func apply(to states: inout [RecipientState]) throws(FormatProblem) {
        switch self {
        case .outcome(let outcome):
            for index in outcome.recipients {
                guard states.indices.contains(index) else { throw FormatProblem("journal names recipient \(index) of \(states.count)") }
                guard !states[index].status.isFinal else { continue }
                var state = states[index]
                state.attempts += 1
                state.lastAttempt = outcome.time
                state.dsnStatus = outcome.dsnStatus
                state.reason = outcome.reason
                state.remoteMTA = outcome.remoteMTA
                switch outcome.result {
                case .delivered(let action):
                    state.status = .delivered
                    state.action = action
                    state.nextAttempt = nil
                case .bounced:
                    state.status = .bounced
                    state.nextAttempt = nil
                case .deferred(let until):
                    state.status = .deferred
                    state.nextAttempt = until
                }
                states[index] = state
            }
        case .notified(let kinds, let recipients, _):
            for index in recipients {
                guard states.indices.contains(index) else { throw FormatProblem("journal names recipient \(index) of \(states.count)") }
                states[index].notified.formUnion(kinds)
            }
        case .snapshot(let index, let state):
            guard states.indices.contains(index) else { throw FormatProblem("journal names recipient \(index) of \(states.count)") }
            states[index] = state
        }
    }

    private static func append(indexes: [Int], to writer: inout ByteWriter) {
        writer.append(UInt32(indexes.count))
        for index in indexes { writer.append(UInt32(index)) }
    }

    private static func readIndexes(_ reader: inout ByteReader) throws(FormatProblem) -> [Int] {
        let count = Int(try reader.readUInt32())
        guard count <= reader.remaining / 4 else { throw FormatProblem("recipient list runs past its record") }
        var indexes: [Int] = []
        indexes.reserveCapacity(count)
        for _ in 0..<count { indexes.append(Int(try reader.readUInt32())) }
        return indexes
    }

    private static func append(optional timestamp: QueueTimestamp?, to writer: inout ByteWriter) {
        if let timestamp {
            writer.append(UInt8(1))
            writer.append(timestamp.microsecondsSinceEpoch)
        } else {
            writer.append(UInt8(0))
        }
    }

    private static func readOptionalTimestamp(_ reader: inout ByteReader) throws(FormatProblem) -> QueueTimestamp? {
        switch try reader.readUInt8() {
        case 0: return nil
        case 1: return QueueTimestamp(microsecondsSinceEpoch: try reader.readInt64())
        case let other: throw FormatProblem("bad presence flag \(other)")
        }
    }
}
