import Logging
import SealpostConfig
import Synchronization
internal import COpenSSL
internal import CSealpostShims

/// Server Name Indication on the server side (`tls_server_sni_maps`, Postfix 3.4+): the client's SNI name picks the
/// key and certificate chains presented, through an `SSL_CTX` per chain-file list that is built the first time a
/// name needs it and then shared by every connection (OpenSSL's servername callback switches the connection to it
/// with `SSL_set_SSL_CTX`). Clients without SNI, or with a name the tables lack, get the default chains.
///
/// The lookup follows Postfix's `server_sni_callback()`: the name as sent, then each ancestor domain with a
/// leading dot (`mx.example.com`, `.example.com`, `.com`); the value is a list of chain files with the syntax of
/// `smtpd_tls_chain_files` (each file a private key followed by its certificate chain, leaf first).
final class TLSServerNameSelector: @unchecked Sendable {
    let maps: TableList
    /// The default context's settings; an SNI context differs only in its certificates.
    let settings: TLSServerSettings
    let logger: Logger?
    /// SNI contexts by the table value that named their files.
    private let contexts: Mutex<[String: TLSContext]> = Mutex([:])
    /// The default context's ticket keys, shared so that a ticket resumes whichever chain issued it.
    weak var defaultState: TLSContextState?

    init(maps: TableList, settings: TLSServerSettings, logger: Logger?) {
        self.maps = maps
        self.settings = settings
        self.logger = logger
    }

    /// The table value for `name`: the name itself, then its ancestor domains with a leading dot.
    func lookup(_ name: String) throws -> String? {
        var key = Substring(name)
        while true {
            if let found = try maps.lookup(String(key)) { return found.value }
            // Skip the first character so that ".example.com" moves on to ".com", as strchr(cp + 1, '.') does.
            guard let dot = key.dropFirst().firstIndex(of: ".") else { return nil }
            key = key[dot...]
        }
    }

    /// The context presenting the chains in `value` (built on first use).
    func context(for value: String) throws(TLSConfigurationError) -> TLSContext {
        if let known = contexts.withLock({ $0[value] }) { return known }
        let files = PostfixList.split(value)
        var sniSettings = settings
        sniSettings.serverNameMaps = nil
        do {
            let contents = try CertifiedKey.loadChainFiles(files)
            sniSettings.certificates = TLSCertificateSettings(
                certifiedKeys: contents.certifiedKeys, isExplicitlyNone: false, origin: "tls_server_sni_maps")
        } catch {
            throw TLSConfigurationError(parameter: "tls_server_sni_maps", error)
        }
        let built = try TLSServerContextBuilder.makeContext(sniSettings, logger: logger)
        if let keys = defaultState?.ticketKeys { built.state.ticketKeys = keys }
        return contexts.withLock { contexts in
            if let raced = contexts[value] { return raced }
            contexts[value] = built
            return built
        }
    }

    /// The table values whose contexts are built, and the files they name (for the certificate watcher).
    var loadedValues: [String] { contexts.withLock { Array($0.keys) } }

    /// Builds the contexts for `values` now, so that a reload can check them before it is swapped in.
    func preload(_ values: [String]) throws(TLSConfigurationError) {
        for value in values { _ = try context(for: value) }
    }

    /// Postfix's `valid_hostname()`: labels of letters, digits, `-` and `_`, none empty or longer than 63, no label
    /// starting or ending with `-`, at most 255 characters, and not all digits and dots.
    static func isValidHostname(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 255 else { return false }
        var allNumeric = true
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63,
                  label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
            for byte in label {
                let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
                let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
                guard isDigit || isLetter || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") else { return false }
                if !isDigit { allNumeric = false }
            }
        }
        return !allNumeric
    }

    /// The servername callback, installed on the default context.
    static let callback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = {
        ssl, alert, _ in
        let noAck = sealpost_ctx_servername_noack()
        guard let ssl, let raw = sealpost_ctx_get_servername(ssl) else { return noAck }
        let name = String(cString: raw)
        guard !name.isEmpty else { return noAck }
        let connection = TLSConnectionState.of(ssl)
        let peer = connection?.peerName ?? "unknown"
        // A second ClientHello (after a HelloRetryRequest) must repeat the name; the chain is already chosen.
        if let chosen = connection?.serverName {
            if chosen == name { return sealpost_ctx_servername_ok() }
            TLSContextState.of(SSL_get_SSL_CTX(ssl))?.logSink?.warn(
                "TLS SNI changed from \(peer) initially \(chosen), \(name) after hello retry")
            return noAck
        }
        guard let state = TLSContextState.of(SSL_get_SSL_CTX(ssl)), let selector = state.serverNames else {
            return noAck
        }
        let sink = connection?.logSink ?? state.logSink
        guard isValidHostname(name) else {
            sink?.warn("TLS SNI from \(peer) is invalid: \(name)")
            return noAck
        }
        let value: String?
        do {
            value = try selector.lookup(name)
        } catch {
            sink?.warn("tls_server_sni_maps: \(name) map lookup problem: \(error)")
            alert?.pointee = Int32(SSL_AD_INTERNAL_ERROR)
            return sealpost_ctx_servername_alert_fatal()
        }
        guard let value else {
            sink?.emit("TLS SNI \(name) from \(peer) not matched, using default chain")
            return noAck
        }
        do {
            let context = try selector.context(for: value)
            guard SSL_set_SSL_CTX(ssl, context.pointer) != nil else {
                alert?.pointee = Int32(SSL_AD_INTERNAL_ERROR)
                return sealpost_ctx_servername_alert_fatal()
            }
        } catch {
            sink?.warn("TLS SNI \(name) from \(peer): cannot load the chain files \(value): \(error)")
            alert?.pointee = Int32(SSL_AD_INTERNAL_ERROR)
            return sealpost_ctx_servername_alert_fatal()
        }
        connection?.serverName = name
        return sealpost_ctx_servername_ok()
    }
}

extension TLSContext {
    /// The chain files of the SNI contexts this context has built (so that a renewal of one is noticed).
    public var serverNameChainFiles: [String] {
        state.serverNames?.loadedValues.flatMap { PostfixList.split($0) } ?? []
    }

    /// Builds in `self` the SNI contexts that `previous` had built, so that a reload fails (and the previous context
    /// stays) when one of those chains no longer loads.
    public func preloadServerNames(like previous: TLSContext) throws(TLSConfigurationError) {
        guard let selector = state.serverNames, let old = previous.state.serverNames else { return }
        try selector.preload(old.loadedValues)
    }
}
