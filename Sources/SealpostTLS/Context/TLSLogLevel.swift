/// What TLS activity is logged: `smtpd_tls_loglevel` / `smtp_tls_loglevel` as Postfix's `tls_log_mask()` reads
/// them — a number 0–4 (5–9 mean 4), a level name (`routine`, `debug`, `ssl-expert`, `ssl-developer`), or a list of
/// individual features (`summary`, `untrusted`, `peercert`, `certmatch`, `verbose`, `cache`, `dane`, `ssl-debug`,
/// `ssl-handshake-packet-dump`, `ssl-session-packet-dump`).
public struct TLSLogMask: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Level 1: the one-line summary of each handshake.
    public static let summary = TLSLogMask(rawValue: 1 << 0)
    /// Trust chain errors of the peer certificate (implied when the certificate must be trusted).
    public static let untrusted = TLSLogMask(rawValue: 1 << 1)
    /// The peer certificate's names and fingerprints.
    public static let peerCertificate = TLSLogMask(rawValue: 1 << 2)
    /// Name matching details.
    public static let certificateMatch = TLSLogMask(rawValue: 1 << 3)
    /// Verbose library activity (level 2).
    public static let verbose = TLSLogMask(rawValue: 1 << 4)
    /// Session cache and ticket activity (level 2).
    public static let cache = TLSLogMask(rawValue: 1 << 5)
    /// OpenSSL's handshake states through the info callback (level 2: `SSL_accept:before SSL initialization`).
    public static let debug = TLSLogMask(rawValue: 1 << 6)
    /// Hex dumps of the handshake (level 3).
    public static let handshakePackets = TLSLogMask(rawValue: 1 << 7)
    /// Hex dumps of everything after the handshake too (level 4).
    public static let allPackets = TLSLogMask(rawValue: 1 << 8)
    /// DANE policy construction.
    public static let dane = TLSLogMask(rawValue: 1 << 9)

    /// The masks of levels 0 to 4.
    public static let level0: TLSLogMask = []
    public static let level1: TLSLogMask = [.summary]
    public static let level2: TLSLogMask = [.summary, .verbose, .cache, .debug]
    public static let level3: TLSLogMask = level2.union(.handshakePackets)
    public static let level4: TLSLogMask = level3.union(.allPackets)

    /// The highest of levels 0–4 whose features are all on: what the number in main.cf would have been.
    public var level: Int {
        [Self.level4, .level3, .level2, .level1].firstIndex { isSuperset(of: $0) }.map { 4 - $0 } ?? 0
    }

    private static let names: [String: TLSLogMask] = [
        "0": level0, "none": [], "1": level1, "routine": level1, "2": level2, "debug": level2,
        "3": level3, "ssl-expert": level3, "4": level4, "ssl-developer": level4,
        "5": level4, "6": level4, "7": level4, "8": level4, "9": level4,
        "summary": .summary, "untrusted": .untrusted, "peercert": .peerCertificate, "certmatch": .certificateMatch,
        "verbose": .verbose, "cache": .cache, "dane": .dane, "ssl-debug": .debug,
        "ssl-handshake-packet-dump": .handshakePackets,
        "ssl-session-packet-dump": [.handshakePackets, .allPackets],
    ]

    /// Parses the words of a log level parameter (case is ignored); throws naming the parameter for an unknown word.
    public init(words: [String], parameter: String) throws(TLSConfigurationError) {
        var mask: TLSLogMask = []
        for word in words.flatMap({ $0.split(whereSeparator: { ", \t|".contains($0) }) }) {
            guard let bits = Self.names[word.lowercased()] else {
                throw TLSConfigurationError(
                    .invalidLogLevel, parameter: parameter,
                    reason: "\(parameter): unknown log level \"\(word)\"; expected 0 to 4, or one of "
                        + "routine, debug, ssl-expert, ssl-developer")
            }
            mask.formUnion(bits)
        }
        self = mask
    }
}
