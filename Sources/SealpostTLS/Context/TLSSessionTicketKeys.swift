#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
internal import COpenSSL
internal import CSealpostShims

/// One RFC 5077 session ticket key: a 16-byte name that travels in the ticket, a 32-byte cipher key and a 32-byte
/// HMAC-SHA256 key (Postfix's `TLS_TICKET_KEY`).
public struct TLSSessionTicketKey: Sendable, Hashable {
    public static let nameLength = 16
    public static let cipherKeyLength = 32
    public static let hmacKeyLength = 32
    /// The length of one key in the key file, in bytes (160 hex digits).
    public static let encodedLength = nameLength + cipherKeyLength + hmacKeyLength

    public var name: [UInt8]
    public var cipherKey: [UInt8]
    public var hmacKey: [UInt8]

    public init(name: [UInt8], cipherKey: [UInt8], hmacKey: [UInt8]) {
        precondition(name.count == Self.nameLength && cipherKey.count == Self.cipherKeyLength
            && hmacKey.count == Self.hmacKeyLength)
        self.name = name
        self.cipherKey = cipherKey
        self.hmacKey = hmacKey
    }

    /// A fresh key from OpenSSL's generator.
    static func random() -> TLSSessionTicketKey? {
        var bytes = [UInt8](repeating: 0, count: encodedLength)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return TLSSessionTicketKey(encoded: bytes)
    }

    init(encoded bytes: [UInt8]) {
        self.init(
            name: Array(bytes[0..<Self.nameLength]),
            cipherKey: Array(bytes[Self.nameLength..<(Self.nameLength + Self.cipherKeyLength)]),
            hmacKey: Array(bytes[(Self.nameLength + Self.cipherKeyLength)...]))
    }

    /// The key as one line of a key file: 160 lowercase hex digits.
    public var encoded: String {
        Digest.lowercaseHex(name + cipherKey + hmacKey)
    }
}

/// The Sealpost extension `tls_session_ticket_key_file`: ticket keys shared by several Sealpost nodes behind one
/// MX name, so that each resumes the sessions the others issued.
///
/// Format: one key per line, 160 hexadecimal digits (80 bytes: the 16-byte key name, the 32-byte cipher key, the
/// 32-byte HMAC-SHA256 key), as `openssl rand -hex 80` prints it. The first key encrypts new tickets; every key
/// decrypts. Blank lines and lines starting with `#` are ignored. To rotate: put a new key first, keep the old one
/// second until the session cache timeout has passed, then remove it; reload every node. The file must not be
/// readable by group or others (a warning otherwise): whoever has it can decrypt resumed sessions' secrets.
///
/// Without the file, keys are made at random in memory and rotated as Postfix's tlsmgr rotates them: each key
/// encrypts for half the session cache timeout and decrypts for half a timeout more.
public struct TLSSessionTicketKeyFile: Sendable {
    public var path: String
    public var keys: [TLSSessionTicketKey]

    /// Reads and checks the file; every problem names the parameter, the file and the line.
    public static func load(_ path: String, parameter: String = "tls_session_ticket_key_file")
        throws(TLSConfigurationError) -> (TLSSessionTicketKeyFile, [TLSConfigurationWarning])
    {
        let bytes: [UInt8]
        switch SystemFile.contents(of: path, limit: 1024 * 1024) {
        case .success(let contents): bytes = contents
        case .failure(let problem):
            throw TLSConfigurationError(
                .invalidTicketKeyFile, parameter: parameter, path: path,
                reason: "\(parameter): \(problem.describe(what: "ticket key file", path: path))")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var keys: [TLSSessionTicketKey] = []
        var names: Set<[UInt8]> = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            guard let decoded = Self.hexBytes(line), decoded.count == TLSSessionTicketKey.encodedLength else {
                throw TLSConfigurationError(
                    .invalidTicketKeyFile, parameter: parameter, path: path,
                    reason: "\(parameter): \(path) line \(number): expected 160 hexadecimal digits "
                        + "(a 16-byte key name, a 32-byte cipher key and a 32-byte HMAC key, "
                        + "as `openssl rand -hex 80` prints them), found \(line.count) characters")
            }
            let key = TLSSessionTicketKey(encoded: decoded)
            guard names.insert(key.name).inserted else {
                throw TLSConfigurationError(
                    .invalidTicketKeyFile, parameter: parameter, path: path,
                    reason: "\(parameter): \(path) line \(number): a second key with the same key name (first 32 hex digits)")
            }
            keys.append(key)
        }
        guard !keys.isEmpty else {
            throw TLSConfigurationError(
                .invalidTicketKeyFile, parameter: parameter, path: path,
                reason: "\(parameter): \(path) holds no ticket key; make one with: openssl rand -hex 80 > \(path)")
        }
        var warnings: [TLSConfigurationWarning] = []
        if let mode = CredentialFile.permissions(of: path), mode & 0o077 != 0 {
            warnings.append(TLSConfigurationWarning(
                parameter: parameter,
                "\(parameter): \(path) is accessible by group or others (mode \(CredentialFile.octal(mode))); "
                    + "ticket keys protect session secrets, use chmod 600"))
        }
        return (TLSSessionTicketKeyFile(path: path, keys: keys), warnings)
    }

    static func hexBytes(_ text: some StringProtocol) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return high == nil ? bytes : nil
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" || first == "\r" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result = result.dropLast() }
        return result
    }
}

/// The ticket keys one server context uses, and the OpenSSL callback that uses them (Postfix's `ticket_cb` with
/// the tlsmgr key rotation behind it).
final class TLSTicketKeyStore: @unchecked Sendable {
    private struct Slot {
        var key: TLSSessionTicketKey
        /// Until when the key encrypts new tickets (seconds since the epoch); decryption lasts `lifetime` longer.
        var encryptUntil: Int
    }

    /// The `EVP_CIPHER` (fetched, owned).
    let cipher: OpaquePointer
    let cipherName: String
    /// Half the session cache timeout: how long a rotating key encrypts, then how much longer it decrypts.
    let lifetime: Int
    /// Keys from a key file never expire and never rotate.
    let isFixed: Bool
    private let slots: Mutex<[Slot]>
    /// The clock, replaceable in tests.
    let now: @Sendable () -> Int

    init(
        cipher: OpaquePointer, cipherName: String, sessionTimeout: Int, fixedKeys: [TLSSessionTicketKey]?,
        now: @escaping @Sendable () -> Int = { Int(time(nil)) }
    ) {
        self.cipher = cipher
        self.cipherName = cipherName
        self.lifetime = max(1, sessionTimeout / 2)
        self.now = now
        if let fixedKeys {
            isFixed = true
            slots = Mutex(fixedKeys.map { Slot(key: $0, encryptUntil: Int.max) })
        } else {
            isFixed = false
            slots = Mutex([])
        }
    }

    deinit {
        EVP_CIPHER_free(cipher)
    }

    /// Fetches and checks `tls_session_ticket_cipher` as Postfix does: CBC mode, a 16-byte IV, a key of 16 to 32 bytes.
    static func fetchCipher(_ name: String, parameter: String) throws(TLSConfigurationError) -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let cipher = EVP_CIPHER_fetch(nil, name, nil) else {
            throw TLSConfigurationError(
                .invalidTicketCipher, parameter: parameter,
                reason: "\(parameter): invalid value: \(name); OpenSSL has no such cipher",
                openSSLErrors: OpenSSLErrorQueue.drain())
        }
        let keyLength = Int(EVP_CIPHER_get_key_length(cipher))
        guard sealpost_ctx_cipher_is_cbc(cipher) == 1, EVP_CIPHER_get_iv_length(cipher) == 16,
              keyLength >= 16, keyLength <= TLSSessionTicketKey.cipherKeyLength
        else {
            EVP_CIPHER_free(cipher)
            throw TLSConfigurationError(
                .invalidTicketCipher, parameter: parameter,
                reason: "\(parameter): invalid value: \(name); session tickets need a CBC-mode cipher with a "
                    + "128-bit block and a 128- to 256-bit key, such as aes-256-cbc")
        }
        return cipher
    }

    /// The key that encrypts a new ticket, making (and rotating in) a fresh one when the current one has expired.
    func encryptionKey() -> (key: TLSSessionTicketKey, expires: Int)? {
        let time = now()
        return slots.withLock { slots in
            if let current = slots.first, current.encryptUntil > time {
                return (current.key, current.encryptUntil)
            }
            guard !isFixed, let fresh = TLSSessionTicketKey.random() else { return nil }
            let slot = Slot(key: fresh, encryptUntil: time + lifetime - 1)
            // Two keys, as tlsmgr keeps them: the current one and the one it replaced.
            slots = [slot] + slots.prefix(1)
            return (slot.key, slot.encryptUntil)
        }
    }

    /// The key a presented ticket names, if it may still decrypt; and whether it is the current key.
    func decryptionKey(named name: UnsafePointer<UInt8>) -> (key: TLSSessionTicketKey, isCurrent: Bool)? {
        let wanted = Array(UnsafeBufferPointer(start: name, count: TLSSessionTicketKey.nameLength))
        let time = now()
        return slots.withLock { slots in
            for (index, slot) in slots.enumerated() where slot.key.name == wanted {
                if isFixed { return (slot.key, index == 0) }
                guard slot.encryptUntil.addingReportingOverflow(lifetime).partialValue > time else { return nil }
                return (slot.key, index == 0 && slot.encryptUntil > time)
            }
            return nil
        }
    }

    /// Installs the callback on a context whose state object holds this store.
    static func install(on context: OpaquePointer) -> Bool {
        sealpost_ctx_set_ticket_key_cb(context, ticketCallback) == 1
    }

    /// OpenSSL's return codes (Postfix's TLS_TKT_*).
    private static let noKeys: Int32 = -1, stale: Int32 = 0, accept: Int32 = 1, reissue: Int32 = 2

    private static let ticketCallback: @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, OpaquePointer?, OpaquePointer?, Int32
    ) -> Int32 = { ssl, name, iv, cipherContext, macContext, encrypt in
        guard let ssl, let name, let iv, let cipherContext, let macContext,
              let state = TLSContextState.of(SSL_get_SSL_CTX(ssl)), let store = state.ticketKeys
        else { return encrypt == 1 ? noKeys : stale }
        if encrypt == 1 {
            guard let (key, expires) = store.encryptionKey(), RAND_bytes(iv, 16) == 1,
                  store.setUp(mac: macContext, key: key),
                  EVP_EncryptInit_ex(cipherContext, store.cipher, nil, key.cipherKey, iv) == 1
            else {
                OpenSSLErrorQueue.clear()
                return noKeys
            }
            name.update(from: key.name, count: TLSSessionTicketKey.nameLength)
            state.log(ssl: ssl, mask: .cache) { "\($0): Issuing session ticket, key expiration: \(expires == Int.max ? -1 : expires)" }
            return accept
        }
        guard let (key, isCurrent) = store.decryptionKey(named: name),
              store.setUp(mac: macContext, key: key),
              EVP_DecryptInit_ex(cipherContext, store.cipher, nil, key.cipherKey, iv) == 1
        else {
            OpenSSLErrorQueue.clear()
            return stale
        }
        state.log(ssl: ssl, mask: .cache) { "\($0): Decrypting session ticket, key expiration: \(isCurrent ? "current" : "retired")" }
        // A ticket under a retired key still resumes, and the client gets a fresh ticket under the current key.
        return isCurrent ? accept : reissue
    }

    private func setUp(mac: OpaquePointer, key: TLSSessionTicketKey) -> Bool {
        key.hmacKey.withUnsafeBufferPointer { buffer in
            sealpost_ctx_ticket_mac_init(mac, "SHA256", buffer.baseAddress, buffer.count) == 1
        }
    }
}
