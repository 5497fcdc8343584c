import Foundation
import Testing

@testable import SealpostTLS
import SealpostTestSupport

/// The TLS tests' name for the shared openssl fixtures.
typealias Fixtures = OpenSSLFixtures

extension Array where Element == CredentialFinding {
    var codes: [TLSCredentialError.Code] { map(\.code) }
    var errorCodes: [TLSCredentialError.Code] { filter { $0.severity == .error }.map(\.code) }
    var warningCodes: [TLSCredentialError.Code] { filter { $0.severity == .warning }.map(\.code) }
}

/// Runs `body` and returns the `TLSCredentialError` it throws, recording an issue when it throws none
/// or throws something else.
func credentialError<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> TLSCredentialError? {
    #expect(throws: TLSCredentialError.self, sourceLocation: sourceLocation) { _ = try body() }
}
