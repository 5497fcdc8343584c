import SealpostTestSupport
import Testing

@testable import SealpostQueue

@Suite("Queue file records")
struct RecordFormatTests {
    @Test("CRC-32C matches the standard check value")
    func checksum() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        // Incremental updates over any split equal one pass (slicing-by-8 and the byte loop agree).
        var generator = SeededGenerator(seed: 1)
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = CRC32C.checksum(bytes[...])
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            var crc = CRC32C()
            crc.update(bytes[..<split])
            crc.update(bytes[split...])
            #expect(crc.value == whole)
        }
    }

    @Test("a record round-trips and any damage to it is detected")
    func framing() {
        var writer = ByteWriter()
        RecordFraming.append(.sender, to: &writer) { $0.append(bytes: "alice@example.org".utf8) }
        let bytes = writer.bytes
        guard case .record(let type, let payload, let next) = RecordFraming.parse(bytes[...], at: 0) else {
            Issue.record("record did not parse")
            return
        }
        #expect(type == RecordType.sender.rawValue)
        #expect(String(decoding: bytes[payload], as: UTF8.self) == "alice@example.org")
        #expect(next == bytes.count)
        for cut in 0..<bytes.count {
            #expect(RecordFraming.parse(bytes[..<cut], at: 0) == .incomplete)
        }
        for index in bytes.indices {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= 1 << bit
                if case .record = RecordFraming.parse(damaged[...], at: 0) {
                    Issue.record("flipping bit \(bit) of byte \(index) went unnoticed")
                }
            }
        }
        #expect(RecordFraming.parse([UInt8](repeating: 0, count: 64)[...], at: 0) != .incomplete)
        if case .record = RecordFraming.parse([UInt8](repeating: 0, count: 64)[...], at: 0) {
            Issue.record("a zero-filled tail parsed as a record")
        }
    }

    @Test("the header round-trips and rejects damage")
    func header() throws {
        let header = FileHeader(
            sealed: true, contentOffset: 300, journalOffset: 5000, contentLength: 4600, contentChecksum: 0xDEAD_BEEF,
            recipientCount: 3)
        let bytes = header.encoded()
        #expect(bytes.count == FileHeader.size)
        #expect(try FileHeader.decode(bytes[...]) == header)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(throws: FormatProblem.self) { try FileHeader.decode(damaged[...]) }
        }
    }

    @Test("every envelope field round-trips")
    func envelope() throws {
        let full = QueueEnvelope(
            sender: "älice@exämple.org",
            recipients: [
                QueueRecipient(address: "bob@example.net"),
                QueueRecipient(
                    address: "carol@example.net", originalAddress: "Carol@Example.NET", notify: [.success, .failure, .delay],
                    originalRecipient: "rfc822;carol@example.net"),
                QueueRecipient(address: "dave@example.net", notify: [.never], originalRecipient: "utf-8;dave@example.net"),
            ],
            arrival: QueueTimestamp(seconds: 1_800_000_000, microseconds: 42),
            clientName: "mail.example.org", clientAddress: "2001:db8::25", clientPort: "50000", heloName: "[192.0.2.1]",
            protocolName: "ESMTPSA", saslMethod: "PLAIN", saslUsername: "alice", saslSender: "alice@example.org",
            tlsSummary: "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))",
            milterDaemonName: "submission", envelopeID: "QQ314159", returnContent: .headers, bodyType: .eightBitMIME,
            smtputf8: true, declaredSize: 123_456, attributes: ["invoking_user": "root", "rewrite_context": "local"])
        let minimal = QueueEnvelope(
            sender: "", recipients: [QueueRecipient(address: "postmaster")], arrival: QueueTimestamp(seconds: 0))
        for envelope in [full, minimal] {
            var writer = ByteWriter()
            EnvelopeCoding.encode(envelope, arrival: envelope.arrival!, into: &writer)
            #expect(try EnvelopeCoding.decode(writer.bytes[...]) == envelope)
        }
        for returnContent in [DSNReturn.full, .headers] {
            for body in [BodyType.sevenBit, .eightBitMIME, .binaryMIME] {
                var envelope = minimal
                envelope.returnContent = returnContent
                envelope.bodyType = body
                var writer = ByteWriter()
                EnvelopeCoding.encode(envelope, arrival: envelope.arrival!, into: &writer)
                #expect(try EnvelopeCoding.decode(writer.bytes[...]) == envelope)
            }
        }
    }

    @Test("an unknown optional record is skipped; an unknown required one is refused")
    func unknownRecords() throws {
        let envelope = QueueEnvelope(sender: "a@b", recipients: [QueueRecipient(address: "c@d")], arrival: QueueTimestamp(seconds: 5))
        var writer = ByteWriter()
        EnvelopeCoding.encode(envelope, arrival: envelope.arrival!, into: &writer)
        let beforeEnd = writer.count - (RecordFraming.overhead + 4)
        var optional = writer.bytes
        optional.insert(contentsOf: rawRecord(type: 0xC5, payload: Array("future".utf8)), at: beforeEnd)
        #expect(try EnvelopeCoding.decode(optional[...]) == envelope)
        var required = writer.bytes
        required.insert(contentsOf: rawRecord(type: 0x45, payload: Array("future".utf8)), at: beforeEnd)
        #expect(throws: FormatProblem.self) { try EnvelopeCoding.decode(required[...]) }
    }

    @Test("every journal entry round-trips and folds as specified")
    func journal() throws {
        let time = QueueTimestamp(seconds: 1_800_000_100, microseconds: 5)
        let entries: [JournalEntry] = [
            .outcome(DeliveryOutcome(
                recipients: [0, 2], result: .deferred(until: time.adding(seconds: 300)), time: time, dsnStatus: "4.4.1",
                reason: "connect to mx.example.net[192.0.2.1]:25: Connection refused")),
            .outcome(DeliveryOutcome(
                recipients: [0], result: .delivered(.relayed), time: time.adding(seconds: 301), dsnStatus: "2.0.0",
                reason: "250 2.0.0 Ok: queued as 4abc", remoteMTA: "mx.example.net")),
            .outcome(DeliveryOutcome(
                recipients: [1], result: .bounced, time: time.adding(seconds: 302), dsnStatus: "5.1.1",
                reason: "host mx said: 550 5.1.1 unknown user")),
            .outcome(DeliveryOutcome(
                recipients: [0], result: .deferred(until: time.adding(seconds: 9999)), time: time.adding(seconds: 303),
                dsnStatus: "4.0.0", reason: "late deferral of a delivered recipient")),
            .notified([.failure], recipients: [1], time: time.adding(seconds: 304)),
            .snapshot(index: 2, RecipientState(
                status: .deferred, attempts: 7, lastAttempt: time, nextAttempt: time.adding(seconds: 4000), dsnStatus: "4.7.0",
                reason: "TLS is required, but was not offered by host mx.example.net[192.0.2.1]", remoteMTA: nil,
                action: nil, notified: [.delay])),
            .outcome(DeliveryOutcome(recipients: [2], result: .delivered(.delivered), time: time, dsnStatus: "2.0.0", reason: "ok")),
            .snapshot(index: 3, RecipientState(status: .delivered, action: .expanded)),
        ]
        var writer = ByteWriter()
        for entry in entries { entry.encode(into: &writer) }
        var offset = 0
        var decoded: [JournalEntry] = []
        while offset < writer.count {
            guard case .record(let type, let payload, let next) = RecordFraming.parse(writer.bytes[...], at: offset) else {
                Issue.record("journal record did not parse")
                return
            }
            decoded.append(try #require(try JournalEntry.decode(type: type, payload: writer.bytes[payload])))
            offset = next
        }
        #expect(decoded == entries)

        var states = [RecipientState](repeating: RecipientState(), count: 4)
        for entry in decoded { try entry.apply(to: &states) }
        #expect(states[0].status == .delivered)  // the late deferral did not undo the delivery
        #expect(states[0].action == .relayed)
        #expect(states[0].attempts == 2)
        #expect(states[0].remoteMTA == "mx.example.net")
        #expect(states[1].status == .bounced)
        #expect(states[1].notified == [.failure])
        #expect(states[2].status == .delivered)
        #expect(states[2].attempts == 8)
        #expect(states[3] == RecipientState(status: .delivered, action: .expanded))

        #expect(throws: FormatProblem.self) {
            var few = [RecipientState](repeating: RecipientState(), count: 1)
            try entries[0].apply(to: &few)
        }
    }
}

/// A record with any type byte, framed and checksummed.
func rawRecord(type: UInt8, payload: [UInt8]) -> [UInt8] {
    var writer = ByteWriter()
    writer.append(UInt32(payload.count))
    writer.append(type)
    writer.append(bytes: payload)
    writer.append(CRC32C.checksum(writer.bytes[...]))
    return writer.bytes
}
