import SealpostDNS
import SealpostTLS

/// Writes posttls-finger's lines: `posttls-finger: …` on standard output.
struct FingerOutput: Sendable {
    /// Whether the SMTP chat (`Connected to`, `< 250-…`, `> EHLO`) is shown (`-c` turns it off).
    var chat: Bool

    func line(_ text: String) { Terminal.out("posttls-finger: \(text)\n") }
    func chat(_ text: String) { if chat { line(text) } }
    func warning(_ text: String) { line("warning: \(text)") }
    func fatal(_ text: String) { line("fatal: \(text)") }
    func raw(_ text: String) { Terminal.out(text) }
}

/// Runs posttls-finger's dialogue with one destination: resolve, connect, greeting, EHLO, STARTTLS (or
/// TLS first with `-w`), the TLS report, EHLO again, QUIT; then the reconnections of `-r`.
struct FingerProbe {
    struct Options {
        var level: TLSClientSecurityLevel
        var wrapper: Bool
        var printChain: Bool
        var logMask: TLSLogMask
        var matchArguments: [String]
        var digest: TLSFingerprintDigest
        var helo: String
        var connectTimeout: Int
        var commandTimeout: Int
        var reconnectDelay: Int
        var reconnectLimit: Int
    }

    /// What one session learned.
    struct SessionResult {
        var tls: TLSHandshakeResult?
        /// The server's name from its EHLO reply, to tell servers behind a load balancer apart.
        var serverName: String?
    }

    let options: Options
    let context: TLSContext
    let output: FingerOutput

    /// Probes `destination`; false when no server could be reached or the session failed.
    func run(_ destination: FingerDestination) async -> Bool {
        guard let (hostname, addresses) = await resolve(destination) else { return false }
        for address in addresses {
            let peer = TLSClientDestination(
                nexthop: destination.host, hostname: hostname, address: address, port: destination.port,
                matchNames: options.level == .fingerprint || options.matchArguments.isEmpty ? nil : options.matchArguments)
            guard let first = await session(peer, reconnect: false) else { continue }
            guard options.reconnectDelay > 0, first.tls != nil else { return true }
            var seen: Set<String> = [first.serverName ?? ""]
            for _ in 0..<max(options.reconnectLimit, 1) {
                output.line("Reconnecting after \(options.reconnectDelay) seconds")
                try? await Task.sleep(for: .seconds(options.reconnectDelay))
                guard let again = await session(peer, reconnect: true) else { return false }
                // Behind a load balancer a new server has its own cache: try again until the names repeat.
                guard seen.insert(again.serverName ?? "").inserted else { break }
            }
            return true
        }
        return false
    }

    /// The host name and addresses to try: the MX hosts' (best first) or the host's own.
    private func resolve(_ destination: FingerDestination) async -> (String, [String])? {
        if destination.hostIsAddress { return (destination.host, [destination.host]) }
        let resolver = StubResolver()
        var hosts = [destination.host]
        if destination.lookUpMX {
            switch await resolver.mailExchangers(of: destination.host) {
            case .found(let exchangers, _) where !exchangers.isEmpty: hosts = exchangers.map(\.host)
            case .nullMX:
                output.warning("\(destination.host): nullMX: domain does not accept mail")
                return nil
            case .temporaryFailure(let text), .permanentFailure(let text):
                output.warning("MX lookup error for domain \(destination.host): \(text)")
                return nil
            default: break
            }
        }
        for host in hosts {
            switch await resolver.addresses(of: host, families: [.ipv4, .ipv6]) {
            case .found(let addresses, _) where !addresses.isEmpty: return (host, addresses)
            case .temporaryFailure(let text), .permanentFailure(let text): output.warning("host \(host): \(text)")
            default: output.warning("host not found: \(host)")
            }
        }
        return nil
    }

    /// One connection; nil when it could not be made or ended before the greeting.
    private func session(_ peer: TLSClientDestination, reconnect: Bool) async -> SessionResult? {
        let name = peer.peerName
        let connection: FingerConnection
        do {
            connection = try await FingerConnection.open(
                address: peer.address, port: peer.port, connectTimeout: options.connectTimeout,
                commandTimeout: options.commandTimeout)
        } catch {
            output.line("connect to \(name): \(error.text)")
            return nil
        }
        output.chat("Connected to \(name)")
        let result = await dialogue(connection, peer: peer, reconnect: reconnect)
        await connection.close()
        return result
    }

    private func dialogue(_ connection: FingerConnection, peer: TLSClientDestination, reconnect: Bool) async -> SessionResult? {
        let name = peer.peerName
        var result = SessionResult()
        if options.wrapper {
            guard let tls = await handshake(connection, peer: peer, reconnect: reconnect) else { return nil }
            result.tls = tls
        }
        // -t covers the greeting as well as the connection, as in posttls-finger.
        guard let greeting = await reply(connection, during: "reading server greeting", within: options.connectTimeout) else {
            return nil
        }
        guard greeting.code == 220 else {
            output.line("server \(name) refused to talk to us: \(greeting.code) \(greeting.text)")
            await quit(connection)
            return nil
        }
        await send("EHLO \(options.helo)", connection)
        guard var ehlo = await reply(connection, during: "sending EHLO") else { return nil }
        result.serverName = ehlo.lines.first?.split(separator: " ").first.map(String.init)
        if !options.wrapper, ehlo.code == 250, options.level > .none {
            if ehlo.lines.contains(where: { $0.uppercased() == "STARTTLS" || $0.uppercased().hasPrefix("STARTTLS ") }) {
                await send("STARTTLS", connection)
                guard let ready = await reply(connection, during: "sending STARTTLS") else { return nil }
                guard ready.code == 220 else {
                    output.line("STARTTLS rejected: \(ready.code) \(ready.text)")
                    await quit(connection)
                    return result
                }
                guard let tls = await handshake(connection, peer: peer, reconnect: reconnect) else { return nil }
                result.tls = tls
                await send("EHLO \(options.helo)", connection)
                guard let again = await reply(connection, during: "sending EHLO") else { return nil }
                ehlo = again
            } else {
                output.line("server \(name) does not offer STARTTLS")
            }
        }
        await quit(connection)
        return result
    }

    private func quit(_ connection: FingerConnection) async {
        await send("QUIT", connection)
        _ = await reply(connection, during: "sending QUIT", quiet: true)
    }

    private func send(_ line: String, _ connection: FingerConnection) async {
        output.chat("> \(line)")
        await connection.send(line)
    }

    /// The next reply, its lines shown as chat; nil (with posttls-finger's complaint) when the connection ended.
    private func reply(
        _ connection: FingerConnection, during step: String, quiet: Bool = false, within seconds: Int? = nil
    ) async -> ReplyText? {
        while true {
            switch await connection.next(within: seconds) {
            case .reply(let reply, let lines):
                for line in lines { output.chat("< \(line)") }
                return ReplyText(code: reply.code, lines: lines.map { String($0.dropFirst(4)) }, text: reply.text)
            case .tlsEstablished: continue
            case .tlsFailed(let reason):
                output.line(reason)
                return nil
            case .malformed(let reason):
                output.line("malformed reply while \(step): \(reason)")
                return nil
            case .closed:
                if !quiet { output.line("lost connection while \(step)") }
                return nil
            }
        }
    }

    /// A reply's code and lines without the code prefix.
    struct ReplyText {
        var code: Int
        var lines: [String]
        var text: String
    }

    /// Inserts TLS, waits for the handshake and reports it; nil when it failed.
    private func handshake(_ connection: FingerConnection, peer: TLSClientDestination, reconnect: Bool) async -> TLSHandshakeResult? {
        let context = context
        let level = options.level
        let timeout = options.commandTimeout
        do {
            var target = peer
            target.level = max(level, .may)
            let fixed = target
            let output = output
            try await connection.startTLS {
                try TLSHandler(
                    context: context, destination: fixed, logSink: TLSLogSink { output.line($0) },
                    configuration: TLSHandlerConfiguration(handshakeTimeout: .seconds(Int64(max(timeout, 1)))))
            }
        } catch {
            output.line("\(peer.peerName): cannot start TLS: \(error)")
            return nil
        }
        switch await connection.next() {
        case .tlsEstablished(let result):
            report(result, peer: peer, reconnect: reconnect)
            return result
        case .tlsFailed(let reason):
            output.line(reason)
            output.line("TLS handshake failed for \(peer.peerName)")
        case .malformed(let reason):
            output.line("\(peer.peerName): \(reason)")
        case .reply, .closed:
            output.line("lost connection during the TLS handshake with \(peer.peerName)")
        }
        return nil
    }

    /// posttls-finger's TLS lines: the verification failure, the certificate's names and fingerprints, the session
    /// reuse, the chain (`-C`) and the summary. After a reconnection only the cache and summary lines are shown.
    private func report(_ result: TLSHandshakeResult, peer: TLSClientDestination, reconnect: Bool) {
        let session = result.session
        let name = peer.peerName
        var mask = options.logMask
        if reconnect { mask = mask.subtracting([.peerCertificate, .certificateMatch, .verbose]).union([.cache, .summary]) }
        let trusted = session.trust == .trusted || session.trust == .verified
        if !trusted, options.level.mustMatch || mask.contains(.untrusted), let line = session.verificationFailureLine(peer: name) {
            output.line(line)
        }
        if !reconnect, mask.contains(.certificateMatch) || mask.contains(.peerCertificate) || mask.contains(.summary),
           let line = session.peerCertificateLine(peer: name)
        {
            output.line(line)
        }
        if result.isResumed && mask.contains(.cache) {
            output.line("\(name): Reusing old session")
        } else if reconnect {
            // posttls-finger says nothing here; -r asks whether the session was reused, so say it was not.
            output.line("\(name): TLS session not reused")
        }
        if options.printChain && !reconnect { printChain(session.peerCertificates) }
        if mask.contains(.summary) { output.line(session.summaryLine(peer: name)) }
    }

    /// `-C`: each certificate's subject, issuer and fingerprints above its PEM block.
    private func printChain(_ chain: [Certificate]) {
        var text = "---\nCertificate chain\n"
        for (depth, certificate) in chain.enumerated() {
            let details = certificate.details
            text += "\(depth < 10 ? " " : "")\(depth) subject: \(details.subject)\n"
            text += "    issuer: \(details.issuer)\n"
            text += "   cert. \(options.digest.description) fingerprint: \(TLSFingerprints.certificate(certificate, digest: options.digest))\n"
            text += "   pkey \(options.digest.description) fingerprint: \(TLSFingerprints.publicKey(certificate, digest: options.digest))\n"
            text += certificate.pemEncoded
            if !text.hasSuffix("\n") { text += "\n" }
        }
        output.raw(text + "---\n")
    }
}
