import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A DNS stub resolver on SwiftNIO: asks the recursive servers of ``ResolverConfiguration`` and
/// follows CNAMEs, for the lookups of mail delivery.
///
/// This is Postfix's `smtp_host_lookup = dns`: names are looked up in the DNS only, never in
/// /etc/hosts or NSS. The address families asked for come from the caller (`inet_protocols`).
/// "Implicit MX" (RFC 5321 section 5.1: no MX records, so the domain's own addresses) is the SMTP
/// client's decision: ``mailExchangers(of:)`` answers ``DNSAnswer/notFound`` for it, distinct from
/// ``DNSAnswer/nullMX`` (the domain takes no mail) and from failures.
///
/// Each try sends the query from a fresh UDP socket on a random port with a random ID and accepts
/// only the reply from the server's address and port that carries the ID and the question. A
/// truncated reply (TC) is asked again of the same server over TCP. The servers are tried in order
/// (or rotated), `attempts` rounds over them, each try waiting `timeout`. A server that answers
/// SERVFAIL, REFUSED, NOTIMP, FORMERR or a malformed message is not asked again for that question;
/// one that timed out is, in the next round.
public struct StubResolver: MailDNSResolver {
    public let configuration: ResolverConfiguration
    private let group: any EventLoopGroup
    private let rotation = RotationCounter()

    /// The most CNAMEs followed for one lookup, in answers and by asking again (Postfix's
    /// dns_lookup also gives up after a few).
    public static let maximumCNAMEs = 10

    public init(
        configuration: ResolverConfiguration = .system(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.group = group
    }

    // MARK: MailDNSResolver

    /// The MX records of `domain`, most preferred first, equal preferences shuffled.
    ///
    /// As Postfix's dns_get_answer, an MX record whose exchange is the root makes the whole answer
    /// ``DNSAnswer/nullMX`` (RFC 7505 defines the null MX as the only record; Postfix does not
    /// look at the others, and neither do we).
    public func mailExchangers(of domain: String) async -> DNSAnswer<[MailExchanger]> {
        let name: DNSName
        do { name = try DNSName(parsing: domain) } catch { return .permanentFailure(error.description) }
        switch await records(of: name, type: .mx) {
        case .found(let records, let authenticated):
            var exchangers: [(MailExchanger, UInt64)] = []
            for record in records {
                guard case .mx(let preference, let exchange) = record.data else { continue }
                if exchange.isRoot { return .nullMX }
                exchangers.append((MailExchanger(preference: preference, host: exchange.description), UInt64.random(in: .min ... .max)))
            }
            // A random tie-breaker shuffles exchangers of equal preference (Postfix's dns_rr_shuffle).
            exchangers.sort { ($0.0.preference, $0.1) < ($1.0.preference, $1.1) }
            return .found(exchangers.map(\.0), authenticated: authenticated)
        case .notFound: return .notFound
        case .nullMX: return .nullMX
        case .temporaryFailure(let reason): return .temporaryFailure(reason)
        case .permanentFailure(let reason): return .permanentFailure(reason)
        }
    }

    /// The A and/or AAAA records of `host`, asked at the same time, merged in the order of `families`.
    ///
    /// Addresses of one family are enough: a failure of the other is then not reported (Postfix
    /// also delivers to what it found). `authenticated` holds when every answer that had addresses
    /// was authenticated.
    public func addresses(of host: String, families: [AddressFamily]) async -> DNSAnswer<[String]> {
        let name: DNSName
        do { name = try DNSName(parsing: host) } catch { return .permanentFailure(error.description) }
        var unique: [AddressFamily] = []
        for family in families where !unique.contains(family) { unique.append(family) }
        guard !unique.isEmpty else { return .permanentFailure("no address family to look up for \(name)") }

        let answers = await withTaskGroup(of: (Int, DNSAnswer<[String]>).self) { group in
            for (index, family) in unique.enumerated() {
                group.addTask { (index, await self.addresses(of: name, family: family)) }
            }
            var answers = [DNSAnswer<[String]>](repeating: .notFound, count: unique.count)
            for await (index, answer) in group { answers[index] = answer }
            return answers
        }
        var addresses: [String] = []
        var authenticated = true
        var found = false
        var temporary: String?
        var permanent: String?
        for answer in answers {
            switch answer {
            case .found(let list, let secure):
                found = true
                addresses += list
                authenticated = authenticated && secure
            case .temporaryFailure(let reason): temporary = temporary ?? reason
            case .permanentFailure(let reason): permanent = permanent ?? reason
            case .notFound, .nullMX: break
            }
        }
        if found { return .found(addresses, authenticated: authenticated) }
        if let temporary { return .temporaryFailure(temporary) }
        if let permanent { return .permanentFailure(permanent) }
        return .notFound
    }

    /// The TLSA records for a service (`_25._tcp.mx.example.com`, RFC 6698 section 3), for DANE.
    /// Whether they count is up to `authenticated`: unsigned TLSA records must be ignored (RFC 7672).
    public func tlsaRecords(port: UInt16, protocol transport: String = "tcp", host: String) async
        -> DNSAnswer<[DNSTLSARecord]>
    {
        let name: DNSName
        do {
            name = try DNSName(parsing: host).prepending(["_\(port)", "_\(transport)"])
        } catch {
            return .permanentFailure(error.description)
        }
        switch await records(of: name, type: .tlsa) {
        case .found(let records, let authenticated):
            let tlsa = records.compactMap { record -> DNSTLSARecord? in
                if case .tlsa(let value) = record.data { value } else { nil }
            }
            return .found(tlsa, authenticated: authenticated)
        case .notFound, .nullMX: return .notFound
        case .temporaryFailure(let reason): return .temporaryFailure(reason)
        case .permanentFailure(let reason): return .permanentFailure(reason)
        }
    }

    // MARK: Lookups

    /// The records of `type` for `name`, following CNAMEs: those in the answer, then by asking
    /// for the chain's end when the server did not.
    public func records(of name: DNSName, type: DNSRecordType) async -> DNSAnswer<[DNSResourceRecord]> {
        var current = name
        var seen: Set<DNSName> = [name]
        var authenticated = true
        while true {
            let message: DNSMessage
            switch await ask(DNSQuestion(name: current, type: type)) {
            case .success(let reply): message = reply
            case .failure(let failure):
                return failure.isTemporary
                    ? .temporaryFailure("\(name)/\(type): \(failure.reason)")
                    : .permanentFailure("\(name)/\(type): \(failure.reason)")
            }
            authenticated = authenticated && message.header.isAuthenticated
            if message.header.responseCode == .nameError { return .notFound }

            var target = current
            while true {
                let matching = message.answers.filter {
                    $0.name == target && $0.type == type && $0.recordClass == dnsClassInternet
                }
                if !matching.isEmpty { return .found(matching, authenticated: authenticated) }
                guard
                    let alias = message.answers.lazy.compactMap({ record -> DNSName? in
                        guard record.name == target, case .cname(let next) = record.data else { return nil }
                        return next
                    }).first
                else { break }
                guard !seen.contains(alias) else { return .permanentFailure("\(name)/\(type): CNAME loop at \(alias)") }
                guard seen.count <= Self.maximumCNAMEs else {
                    return .permanentFailure("\(name)/\(type): more than \(Self.maximumCNAMEs) CNAMEs")
                }
                seen.insert(alias)
                target = alias
            }
            // NODATA for the name asked; or a chain the server left unfinished, asked for next.
            if target == current { return .notFound }
            current = target
        }
    }

    struct ServerFailure: Error {
        var reason: String
        var isTemporary: Bool
    }

    /// One question to the servers: the first NOERROR or NXDOMAIN reply, or why there is none.
    func ask(_ question: DNSQuestion) async -> Result<DNSMessage, ServerFailure> {
        let servers = configuration.servers
        guard !servers.isEmpty else { return .failure(ServerFailure(reason: "no name server configured", isTemporary: true)) }
        let first = configuration.rotate ? rotation.next() % servers.count : 0
        let order = (0..<servers.count).map { (first + $0) % servers.count }
        var doneWith: Set<Int> = []
        var reasons: [String] = []
        var temporary = false
        for _ in 0..<configuration.attempts {
            for index in order where !doneWith.contains(index) {
                let server = servers[index]
                let outcome = await exchange(question, with: server)
                switch outcome {
                case .success(let message):
                    switch message.header.responseCode {
                    case .noError, .nameError:
                        return .success(message)
                    default:
                        reasons.append("\(Self.describe(server)) answered \(message.header.responseCode)")
                        temporary = temporary || message.header.responseCode == .serverFailure
                        doneWith.insert(index)
                    }
                case .failure(let error as DNSMessageError):
                    reasons.append("\(Self.describe(server)) sent a \(error)")
                    doneWith.insert(index)
                case .failure(let error):
                    reasons.append("\(Self.describe(server)): \(error)")
                    temporary = true
                }
            }
        }
        var unique: [String] = []
        for reason in reasons where !unique.contains(reason) { unique.append(reason) }
        return .failure(ServerFailure(reason: unique.joined(separator: "; "), isTemporary: temporary))
    }

    /// One try at one server: UDP, then TCP when the UDP reply is truncated. A server that answers
    /// FORMERR to a query with EDNS is asked once more without it (RFC 6891 section 7, as glibc does).
    private func exchange(_ question: DNSQuestion, with server: SocketAddress) async -> Result<DNSMessage, any Error> {
        do {
            let message = try await exchange(question, with: server, payloadSize: configuration.ednsPayloadSize)
            guard message.header.responseCode == .formatError, configuration.ednsPayloadSize != nil else {
                return .success(message)
            }
            return .success(try await exchange(question, with: server, payloadSize: nil))
        } catch {
            return .failure(error)
        }
    }

    private func exchange(_ question: DNSQuestion, with server: SocketAddress, payloadSize: UInt16?) async throws
        -> DNSMessage
    {
        let expected = ExpectedReply(id: UInt16.random(in: .min ... .max), question: question)
        let query = DNSQueryEncoder.query(id: expected.id, question: question, payloadSize: payloadSize)
        var reply = try await DNSTransport.udp(
            query, expecting: expected, server: server, timeout: configuration.timeout, group: group)
        if try DNSMessageParser(reply).header().isTruncated {
            reply = try await DNSTransport.tcp(
                query, expecting: expected, server: server, timeout: configuration.timeout, group: group)
        }
        return try DNSMessageParser(reply).message()
    }

    /// The A or AAAA records of `name` as address text.
    private func addresses(of name: DNSName, family: AddressFamily) async -> DNSAnswer<[String]> {
        switch await records(of: name, type: family == .ipv4 ? .a : .aaaa) {
        case .found(let records, let authenticated):
            let texts = records.compactMap { record -> String? in
                switch record.data {
                case .a(let bytes): Self.addressText(bytes, family: AF_INET)
                case .aaaa(let bytes): Self.addressText(bytes, family: AF_INET6)
                default: nil
                }
            }
            return .found(texts, authenticated: authenticated)
        case .notFound, .nullMX: return .notFound
        case .temporaryFailure(let reason): return .temporaryFailure(reason)
        case .permanentFailure(let reason): return .permanentFailure(reason)
        }
    }

    /// inet_ntop's text: dotted quad, or RFC 5952's compressed IPv6 form.
    static func addressText(_ bytes: [UInt8], family: Int32) -> String? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { address in
            inet_ntop(family, address.baseAddress, &text, socklen_t(text.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func describe(_ server: SocketAddress) -> String {
        guard let ip = server.ipAddress else { return "\(server)" }
        let port = server.port ?? 53
        return server.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// The next server to start with under `options rotate`, shared by all copies of a resolver.
private final class RotationCounter: Sendable {
    private let value = Atomic<Int>(0)

    func next() -> Int {
        value.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
    }
}
