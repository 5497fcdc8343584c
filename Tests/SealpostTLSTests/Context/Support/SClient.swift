import Foundation
import Testing

@testable import SealpostTLS

/// `openssl s_client` against a ``BlockingTLSServer``.
enum SClient {
    /// Runs s_client with `arguments` after `-connect` (and `-starttls smtp` for a STARTTLS server).
    static func run(
        _ server: BlockingTLSServer, _ arguments: [String], timeout: Double = 20
    ) throws -> ExternalTool.Output {
        var all = ["s_client", "-connect", "127.0.0.1:\(server.port)", "-ign_eof"]
        if server.mode == .startTLS { all += ["-starttls", "smtp"] }
        return try ExternalTool.run("/usr/bin/openssl", all + arguments, timeout: timeout)
    }

    /// One handshake with `arguments`; returns the server's outcome and s_client's output.
    static func handshake(
        _ context: TLSContext, mode: BlockingTLSServer.Mode = .startTLS, _ arguments: [String] = [],
        sink: TLSLogSink? = nil
    ) throws -> (BlockingTLSServer.Outcome?, ExternalTool.Output) {
        let server = try BlockingTLSServer(context: context, mode: mode, sink: sink)
        let output = try run(server, arguments)
        let outcomes = server.finish(timeout: 15)
        return (outcomes.first, output)
    }

    /// `Server Temp Key: DH, 2048 bits` → `DH, 2048 bits`.
    static func serverTempKey(_ output: ExternalTool.Output) -> String? {
        field("Server Temp Key:", in: output.stdout)
    }

    /// The protocol and cipher of the `New, TLSv1.3, Cipher is …` lines.
    static func sessions(_ output: ExternalTool.Output) -> [String] {
        output.stdout.split(separator: "\n").filter { $0.hasPrefix("New, ") || $0.hasPrefix("Reused, ") }.map(String.init)
    }

    static func field(_ label: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(label) {
                return trimmed.dropFirst(label.count).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
