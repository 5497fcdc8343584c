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

/// Makes self-signed server certificates, for `sealpost run --demo` and for tests.
public enum SelfSignedCertificate {
    /// A new key and an X.509 v3 certificate for it, signed by itself with SHA-256, both as PEM.
    ///
    /// The certificate has a random 128-bit serial, `basicConstraints` critical CA:FALSE, the extended key
    /// usages serverAuth and clientAuth, subject and authority key identifiers, and the given DNS names and
    /// IP addresses as subjectAltName (the common name alone when `subjectAlternativeNames` is empty).
    /// It is valid from `notBefore` (default: now) for `validityDays` days; a start in the past makes
    /// expired certificates for tests. The key is unencrypted PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    public static func generate(
        key spec: KeySpec = .ecdsa(curve: "prime256v1"),
        commonName: String,
        subjectAlternativeNames: [String] = [],
        validityDays: Int = 365,
        notBefore: Date? = nil
    ) throws(TLSCredentialError) -> (certificatePEM: String, privateKeyPEM: String) {
        let names = try validatedNames(commonName: commonName, subjectAlternativeNames, validityDays: validityDays)
        let key = try PrivateKey.generate(spec)
        let start = time_t((notBefore ?? Date()).timeIntervalSince1970.rounded(.down))
        let certificate = try CertificateBuilder.selfSigned(
            key: key, commonName: commonName, subjectAlternativeNames: names,
            notBefore: start, notAfter: start + time_t(validityDays) * 86_400)
        return (certificate.pemEncoded, key.pemEncoded)
    }

    /// An X.509 v3 certificate for an existing key, signed by it with SHA-256, as PEM.
    ///
    /// The same certificate as ``generate(key:commonName:subjectAlternativeNames:validityDays:notBefore:)``
    /// makes, for a key the caller keeps: `postfix tls new-server-cert` renews the certificate and keeps
    /// the key, so that published "3 1 1" TLSA records stay valid.
    public static func certificatePEM(
        for key: PrivateKey,
        commonName: String,
        subjectAlternativeNames: [String] = [],
        validityDays: Int = 365,
        notBefore: Date? = nil
    ) throws(TLSCredentialError) -> String {
        let names = try validatedNames(commonName: commonName, subjectAlternativeNames, validityDays: validityDays)
        let start = time_t((notBefore ?? Date()).timeIntervalSince1970.rounded(.down))
        let certificate = try CertificateBuilder.selfSigned(
            key: key, commonName: commonName, subjectAlternativeNames: names,
            notBefore: start, notAfter: start + time_t(validityDays) * 86_400)
        return certificate.pemEncoded
    }

    /// Writes a key (mode 0600) and then its certificate (mode 0644), each atomically.
    ///
    /// The key goes first, so that a certificate file never exists without its key.
    public static func write(
        certificatePEM: String, toCertificateFile certificateFile: String,
        privateKeyPEM: String, toKeyFile keyFile: String
    ) throws(TLSCredentialError) {
        try CredentialFileWriter.writeAtomically(privateKeyPEM, to: keyFile, mode: 0o600)
        try CredentialFileWriter.writeAtomically(certificatePEM, to: certificateFile, mode: 0o644)
    }

    /// The names for subjectAltName (the common name when none are given), after checking the arguments.
    private static func validatedNames(
        commonName: String, _ subjectAlternativeNames: [String], validityDays: Int
    ) throws(TLSCredentialError) -> [String] {
        guard !commonName.isEmpty, commonName.utf8.count <= 64 else {
            throw TLSCredentialError(
                .invalidArgument, path: "", reason: "common name \"\(commonName)\" must have 1 to 64 bytes")
        }
        guard validityDays > 0 else {
            throw TLSCredentialError(.invalidArgument, path: "", reason: "validity of \(validityDays) days; it must be at least 1")
        }
        let names = subjectAlternativeNames.isEmpty ? [commonName] : subjectAlternativeNames
        for name in names where !isUsableSubjectAlternativeName(name) {
            throw TLSCredentialError(
                .invalidArgument, path: "", reason: "\"\(name)\" is neither a DNS name nor an IP address")
        }
        return names
    }

    /// A DNS name (letters, digits, hyphens, dots, a leading `*.` wildcard) or an IPv4/IPv6 address.
    static func isUsableSubjectAlternativeName(_ name: String) -> Bool {
        if CertificateBuilder.ipAddressBytes(name) != nil { return true }
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" && labels.count > 2 { labels.removeFirst() }
        guard !labels.isEmpty, name.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
        }
    }
}

/// Builds and signs X.509 certificates; owns the `X509` until it is complete.
enum CertificateBuilder {
    static func selfSigned(
        key: PrivateKey, commonName: String, subjectAlternativeNames: [String], notBefore: time_t, notAfter: time_t
    ) throws(TLSCredentialError) -> Certificate {
        OpenSSLErrorQueue.clear()
        guard let x509 = X509_new() else { throw failure("out of memory") }
        var handedOver = false
        defer { if !handedOver { X509_free(x509) } }

        guard X509_set_version(x509, Int(X509_VERSION_3)) == 1 else { throw failure("cannot set the version") }
        try setRandomSerial(x509)
        guard ASN1_TIME_set(X509_getm_notBefore(x509), notBefore) != nil,
              ASN1_TIME_set(X509_getm_notAfter(x509), notAfter) != nil
        else { throw failure("cannot set the validity period") }

        guard let name = X509_get_subject_name(x509),
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0) == 1,
              X509_set_issuer_name(x509, name) == 1
        else { throw failure("cannot set the subject name \"\(commonName)\"") }
        guard X509_set_pubkey(x509, key.pointer) == 1 else { throw failure("cannot set the public key") }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, x509, x509, nil, nil, 0)
        for (nid, value) in [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_ext_key_usage, "serverAuth,clientAuth"),
            (NID_subject_key_identifier, "hash"),
            (NID_authority_key_identifier, "keyid:always"),
        ] {
            guard let extensionObject = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw failure("cannot make the extension \(String(cString: OBJ_nid2sn(nid))) = \(value)")
            }
            defer { X509_EXTENSION_free(extensionObject) }
            guard X509_add_ext(x509, extensionObject, -1) == 1 else { throw failure("cannot add an extension") }
        }
        try addSubjectAlternativeNames(subjectAlternativeNames, to: x509)

        guard X509_sign(x509, key.pointer, EVP_sha256()) > 0 else { throw failure("cannot sign the certificate") }
        handedOver = true
        return Certificate(taking: x509)
    }

    private static func setRandomSerial(_ x509: OpaquePointer) throws(TLSCredentialError) {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else { throw failure("no random bytes for the serial number") }
        // Positive (RFC 5280 4.1.2.2) and always 16 bytes long.
        bytes[0] = (bytes[0] & 0x7f) | 0x40
        guard let number = BN_bin2bn(bytes, Int32(bytes.count), nil) else { throw failure("out of memory") }
        defer { BN_free(number) }
        guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(x509)) != nil else {
            throw failure("cannot set the serial number")
        }
    }

    private static func addSubjectAlternativeNames(_ names: [String], to x509: OpaquePointer) throws(TLSCredentialError) {
        guard let list = sealpost_sk_GENERAL_NAME_new_null() else { throw failure("out of memory") }
        defer { GENERAL_NAMES_free(list) }
        for name in names {
            guard let entry = GENERAL_NAME_new() else { throw failure("out of memory") }
            let ok: Bool
            if let address = ipAddressBytes(name) {
                if let octets = ASN1_OCTET_STRING_new(), ASN1_OCTET_STRING_set(octets, address, Int32(address.count)) == 1 {
                    GENERAL_NAME_set0_value(entry, GEN_IPADD, UnsafeMutableRawPointer(octets))
                    ok = true
                } else {
                    ok = false
                }
            } else if let text = ASN1_IA5STRING_new() {
                if ASN1_STRING_set(text, name, Int32(name.utf8.count)) == 1 {
                    GENERAL_NAME_set0_value(entry, GEN_DNS, UnsafeMutableRawPointer(text))
                    ok = true
                } else {
                    ASN1_IA5STRING_free(text)
                    ok = false
                }
            } else {
                ok = false
            }
            guard ok, sealpost_sk_GENERAL_NAME_push(list, entry) > 0 else {
                GENERAL_NAME_free(entry)
                throw failure("cannot add the subjectAltName \(name)")
            }
        }
        guard X509_add1_ext_i2d(x509, NID_subject_alt_name, UnsafeMutableRawPointer(list), 0, UInt(X509V3_ADD_DEFAULT)) == 1 else {
            throw failure("cannot add the subjectAltName extension")
        }
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 address in text form, nil for anything else.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    private static func failure(_ what: String) -> TLSCredentialError {
        TLSCredentialError(
            .certificateGenerationFailed, path: "", reason: "self-signed certificate: \(what)",
            openSSLErrors: OpenSSLErrorQueue.drain())
    }
}
