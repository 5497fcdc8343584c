#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
internal import COpenSSL
internal import CSealpostShims

/// What a certificate says about itself, as plain values that can be logged, compared and sent across tasks.
public struct CertificateDetails: Sendable, Hashable {
    /// The subject in RFC 2253 form, most specific part first: `CN=mail.example.com,O=Example,C=DE`
    /// (what `openssl x509 -noout -subject -nameopt RFC2253` prints after `subject=`).
    public var subject: String
    /// The subject's first commonName, nil when it has none.
    public var subjectCommonName: String?
    /// The issuer in RFC 2253 form.
    public var issuer: String
    /// The issuer's first commonName, nil when it has none.
    public var issuerCommonName: String?
    /// The subjectAltName DNS names and IP addresses (as text, `192.0.2.1` or `2001:db8::1`), in certificate order.
    public var subjectAlternativeNames: [String]
    /// The start of the validity period.
    public var notBefore: Date
    /// The end of the validity period.
    public var notAfter: Date
    /// The serial number in uppercase hex, whole bytes, no separators (`openssl x509 -serial` form).
    public var serial: String
    /// The algorithm and size of the certified public key.
    public var publicKey: KeyType
    /// Whether basicConstraints says CA:TRUE.
    public var isCA: Bool
    /// Whether the certificate names itself as issuer and its signature verifies with its own key
    /// (OpenSSL's `X509_self_signed`, which also wants keyCertSign when a keyUsage extension is present).
    public var isSelfSigned: Bool
    /// SHA-256 of the DER certificate, uppercase hex with colons (`openssl x509 -noout -fingerprint -sha256`).
    public var sha256Fingerprint: String
    /// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex: the data of a TLSA `3 1 1` record.
    public var subjectPublicKeyInfoSHA256: String

    /// Whether `date` lies within notBefore…notAfter.
    public func isValid(at date: Date) -> Bool {
        notBefore <= date && date <= notAfter
    }

    /// A short label for messages: the subject commonName, else the whole subject.
    public var displayName: String {
        subjectCommonName.map { "CN=\($0)" } ?? (subject.isEmpty ? "(empty subject)" : subject)
    }
}

extension CertificateDetails {
    /// Reads everything out of an `X509` (borrowed, not freed here).
    init(x509 certificate: OpaquePointer) {
        OpenSSLErrorQueue.clear()
        defer { OpenSSLErrorQueue.clear() }

        let subjectName = X509_get_subject_name(certificate)
        let issuerName = X509_get_issuer_name(certificate)
        self.subject = X509Text.rfc2253(subjectName)
        self.subjectCommonName = X509Text.firstCommonName(subjectName)
        self.issuer = X509Text.rfc2253(issuerName)
        self.issuerCommonName = X509Text.firstCommonName(issuerName)
        self.subjectAlternativeNames = X509Text.subjectAlternativeNames(certificate)
        self.notBefore = X509Text.date(X509_get0_notBefore(certificate))
        self.notAfter = X509Text.date(X509_get0_notAfter(certificate))
        self.serial = X509Text.serialHex(certificate)
        if let key = X509_get0_pubkey(certificate) {
            self.publicKey = KeyType(evpKey: key)
            self.subjectPublicKeyInfoSHA256 = Digest.lowercaseHex(Digest.sha256(Digest.subjectPublicKeyInfo(of: key)))
        } else {
            self.publicKey = KeyType(algorithm: .other("unknown"), bits: 0)
            self.subjectPublicKeyInfoSHA256 = ""
        }
        self.isCA = (X509_get_extension_flags(certificate) & UInt32(EXFLAG_CA)) != 0
        self.isSelfSigned = X509_self_signed(certificate, 1) == 1

        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        if X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 {
            self.sha256Fingerprint = Digest.colonHex(Array(digest.prefix(Int(length))))
        } else {
            self.sha256Fingerprint = ""
        }
    }
}

/// Turning the ASN.1 parts of a certificate into Swift values.
enum X509Text {
    /// An `X509_NAME` in RFC 2253 form.
    static func rfc2253(_ name: OpaquePointer?) -> String {
        guard let name, let bio = MemoryBIO() else { return "" }
        guard X509_NAME_print_ex(bio.pointer, name, 0, sealpost_xn_flags_rfc2253()) >= 0 else { return "" }
        return bio.text
    }

    /// The first commonName of an `X509_NAME`, as UTF-8.
    static func firstCommonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index),
              let value = X509_NAME_ENTRY_get_data(entry)
        else { return nil }
        return utf8(value)
    }

    /// An `ASN1_STRING` of any string type, converted to UTF-8.
    static func utf8(_ string: UnsafePointer<ASN1_STRING>) -> String? {
        var output: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&output, string)
        guard length >= 0, let output else { return nil }
        defer { sealpost_openssl_free(output) }
        return String(decoding: UnsafeBufferPointer(start: output, count: Int(length)), as: UTF8.self)
    }

    /// The raw bytes of an `ASN1_STRING`.
    static func bytes(_ string: UnsafePointer<ASN1_STRING>) -> [UInt8] {
        let length = Int(ASN1_STRING_length(string))
        guard length > 0, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    /// DNS names and IP addresses from the subjectAltName extension.
    static func subjectAlternativeNames(_ certificate: OpaquePointer) -> [String] {
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(names) }
        var result: [String] = []
        for index in 0..<sealpost_sk_GENERAL_NAME_num(names) {
            guard let name = sealpost_sk_GENERAL_NAME_value(names, index) else { continue }
            switch name.pointee.type {
            case GEN_DNS:
                if let value = name.pointee.d.dNSName { result.append(String(decoding: bytes(value), as: UTF8.self)) }
            case GEN_IPADD:
                if let value = name.pointee.d.iPAddress, let text = ipAddressText(bytes(value)) { result.append(text) }
            default:
                continue
            }
        }
        return result
    }

    /// `192.0.2.1` or `2001:db8::1` from 4 or 16 address bytes.
    static func ipAddressText(_ address: [UInt8]) -> String? {
        let family: Int32
        switch address.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// An `ASN1_TIME` as a `Date` (the epoch when it cannot be read).
    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return Date(timeIntervalSince1970: 0) }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// The serial number as uppercase hex.
    static func serialHex(_ certificate: OpaquePointer) -> String {
        guard let serial = X509_get0_serialNumber(certificate),
              let number = ASN1_INTEGER_to_BN(serial, nil)
        else { return "" }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { return "" }
        defer { sealpost_openssl_free(hex) }
        return String(cString: hex)
    }

    /// `2025-03-01 12:00:00 UTC`.
    static func utcText(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "\(date)" }
        var buffer = [CChar](repeating: 0, count: 40)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S UTC", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
