import COpenSSL
import NIOCore
import NIOEmbedded
import Testing

@testable import SealpostTLS

@Suite("TLS records split at every byte")
struct TLSHandlerSplitTests {
    /// A whole session, every byte in a read of its own: handshake, data both ways, close_notify both ways.
    @Test("one byte per read, the whole session", arguments: [TLS1_3_VERSION, TLS1_2_VERSION])
    func byteByByte(version: Int32) throws {
        guard let shared = try SharedContexts.get() else { return }
        let client = HandlerTestContexts.client(trusting: shared.material.server.root, maximumVersion: version)
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: client)
        try pair.activate()
        _ = pair.write("EHLO client.example\r\n", from: pair.client)
        try pair.interactByteByByte()
        #expect(pair.serverEvents.handshakes.first?.protocolVersion == (version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2"))
        #expect(pair.clientEvents.handshakes.count == 1)
        #expect(pair.serverEvents.receivedText == "EHLO client.example\r\n")
        _ = pair.write("250 mail.example.com\r\n", from: pair.server)
        try pair.interactByteByByte()
        #expect(pair.clientEvents.receivedText == "250 mail.example.com\r\n")
        let closed = pair.client.close()
        try pair.interactByteByByte()
        try closed.wait()
        #expect(!pair.server.isActive && !pair.client.isActive)
        #expect(pair.serverEvents.shutdownsCompleted == 1 && pair.clientEvents.shutdownsCompleted == 1)
        #expect(pair.serverEvents.errors.isEmpty && pair.clientEvents.errors.isEmpty)
    }

    /// The handshake flights in order: which side sent each, and its bytes (as one buffer per flight).
    static func flights(_ shared: SharedContexts, client: TLSContext) throws -> [(fromClient: Bool, bytes: [UInt8])] {
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: client)
        try pair.activate()
        var flights: [(Bool, [UInt8])] = []
        while true {
            let fromClient = try TLSChannelPair.drainOutbound(pair.client)
            if !fromClient.isEmpty {
                flights.append((true, fromClient))
                try pair.server.writeInbound(ByteBuffer(bytes: fromClient))
            }
            let fromServer = try TLSChannelPair.drainOutbound(pair.server)
            if !fromServer.isEmpty {
                flights.append((false, fromServer))
                try pair.client.writeInbound(ByteBuffer(bytes: fromServer))
            }
            if fromClient.isEmpty && fromServer.isEmpty { break }
        }
        return flights
    }

    /// For each handshake flight and each place to cut it in two, a fresh pair whose flight arrives
    /// in those two reads (the other flights whole) must complete and carry data.
    @Test("every two-chunk split of each handshake flight", arguments: [TLS1_3_VERSION, TLS1_2_VERSION])
    func twoChunkSplits(version: Int32) throws {
        guard let shared = try SharedContexts.get() else { return }
        let client = HandlerTestContexts.client(trusting: shared.material.server.root, maximumVersion: version)
        let reference = try Self.flights(shared, client: client)
        #expect(reference.count >= 3)
        var handshakes = 0
        for flightIndex in reference.indices {
            // Lengths vary by a byte or two (ECDSA signatures): each run cuts its own flight, and
            // the cuts go a little past the reference length in case this run's flight is longer.
            for split in 1..<(reference[flightIndex].bytes.count + 4) {
                let pair = try TLSChannelPair(serverContext: shared.server, clientContext: client)
                try pair.activate()
                var index = 0
                var length = 0
                while true {
                    let fromClient = try TLSChannelPair.drainOutbound(pair.client)
                    if !fromClient.isEmpty {
                        try Self.deliver(fromClient, to: pair.server, split: index == flightIndex ? split : nil)
                        if index == flightIndex { length = fromClient.count }
                        index += 1
                    }
                    let fromServer = try TLSChannelPair.drainOutbound(pair.server)
                    if !fromServer.isEmpty {
                        try Self.deliver(fromServer, to: pair.client, split: index == flightIndex ? split : nil)
                        if index == flightIndex { length = fromServer.count }
                        index += 1
                    }
                    if fromClient.isEmpty && fromServer.isEmpty { break }
                }
                _ = pair.write("DATA\r\n", from: pair.client)
                try pair.interact()
                let ok = pair.serverEvents.receivedText == "DATA\r\n" && pair.clientEvents.handshakes.count == 1
                    && pair.serverEvents.errors.isEmpty && pair.clientEvents.errors.isEmpty
                #expect(ok, "flight \(flightIndex) split at \(split) of \(length)")
                guard ok else { return }
                if split < length { handshakes += 1 }
            }
        }
        print("TLS split test (\(version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2")): flights "
            + "\(reference.map { "\($0.fromClient ? "C" : "S")\($0.bytes.count)" }.joined(separator: " ")), "
            + "\(handshakes) handshakes with one flight cut in two")
        #expect(handshakes >= reference.map { $0.bytes.count - 1 }.reduce(0, +) - 8)
    }

    static func deliver(_ bytes: [UInt8], to channel: EmbeddedChannel, split: Int?) throws {
        guard let split, split < bytes.count else {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            return
        }
        try channel.writeInbound(ByteBuffer(bytes: bytes[..<split]))
        try channel.writeInbound(ByteBuffer(bytes: bytes[split...]))
    }

    @Test("an application data record cut in two at every byte still decrypts")
    func applicationRecordSplits() throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        let message = "MAIL FROM:<someone@example.com> SIZE=1024\r\n"
        var expected = ""
        var split = 1
        var recordLength = Int.max
        while split < recordLength {
            _ = pair.write(message, from: pair.client)
            let record = try TLSChannelPair.drainOutbound(pair.client)
            recordLength = record.count
            try Self.deliver(record, to: pair.server, split: split)
            expected += message
            split += 1
        }
        #expect(pair.serverEvents.receivedText == expected)
        #expect(recordLength == message.utf8.count + 22)
    }
}
