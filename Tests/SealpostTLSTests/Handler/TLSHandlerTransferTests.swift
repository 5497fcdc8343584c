import NIOCore
import NIOEmbedded
import Testing

@testable import SealpostTLS

@Suite("TLS handler bulk transfer")
struct TLSHandlerTransferTests {
    static let total = 64 * 1024 * 1024
    static let chunkSize = 64 * 1024

    /// 64 MB each way in 64 KB writes, shuttled as they are written; SHA-256 of what was sent and
    /// what arrived must agree, and nothing may pile up inside the handlers.
    @Test("64 MB each way arrives intact without unbounded buffering", arguments: [true, false])
    func transfer(clientToServer: Bool) throws {
        guard let shared = try SharedContexts.get() else { return }
        let pair = try TLSChannelPair(serverContext: shared.server, clientContext: shared.client)
        try pair.handshake()
        let (sender, receiver) = clientToServer ? (pair.client, pair.server) : (pair.server, pair.client)
        let receiverEvents = clientToServer ? pair.serverEvents : pair.clientEvents
        let senderHandler = clientToServer ? pair.clientHandler : pair.serverHandler
        let receiverHandler = clientToServer ? pair.serverHandler : pair.clientHandler
        receiverEvents.keepsBytes = false
        receiverEvents.digest = HandlerSHA256()

        var generator = HandlerTestRandom(seed: 0x5EA1_7057)
        var pattern = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
        for _ in 0..<(Self.chunkSize / 8) { pattern.writeInteger(generator.next()) }
        let sentDigest = HandlerSHA256()
        let rssBefore = LeakTests.residentBytes()
        var peakRSS = rssBefore
        var largestInFlight = 0
        var written = 0
        var chunkIndex: UInt64 = 0
        while written < Self.total {
            var chunk = pattern
            // Each chunk differs from the others, so lost or reordered chunks change the digest.
            chunk.setInteger(chunkIndex, at: 0)
            chunkIndex += 1
            chunk.withUnsafeReadableBytes { sentDigest.update($0) }
            sender.writeAndFlush(chunk, promise: nil)
            written += chunk.readableBytes
            var inFlight = 0
            while let buffer = try sender.readOutbound(as: ByteBuffer.self) {
                inFlight += buffer.readableBytes
                try receiver.writeInbound(buffer)
            }
            largestInFlight = max(largestInFlight, inFlight)
            if chunkIndex % 128 == 0 { peakRSS = max(peakRSS, LeakTests.residentBytes()) }
        }
        try pair.interact()
        #expect(receiverEvents.receivedCount == Self.total)
        #expect(receiverEvents.digest?.finish() == sentDigest.finish())
        #expect(receiverEvents.errors.isEmpty)
        // Nothing held back: no network input left unread, no output left undrained, and the
        // plaintext delivered in bounded pieces.
        #expect(receiverHandler.connection.bufferedNetworkInputBytes == 0)
        #expect(senderHandler.connection.pendingNetworkOutputBytes == 0)
        #expect(receiverEvents.largestRead <= TLSHandlerConfiguration().maximumPlaintextBatch + TLSConnection.maximumRecordSize)
        #expect(largestInFlight < Self.chunkSize + 1024)
        let growth = peakRSS - rssBefore
        print("TLS 64 MB transfer \(clientToServer ? "client->server" : "server->client"): "
            + "\(receiverEvents.readCount) reads, largest \(receiverEvents.largestRead) bytes, "
            + "RSS \(rssBefore / 1024) KiB -> peak \(peakRSS / 1024) KiB (+\(growth / 1024) KiB)")
        // Holding the transfer anywhere would add 64 MB or more.
        #expect(growth < 48 * 1024 * 1024)
    }
}

/// A small deterministic generator for test data.
struct HandlerTestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
