import Testing

@testable import SealpostCLI

/// posttls-finger's destination syntax: MX lookups unless bracketed, ports by number or service name.
@Suite("finger destinations")
struct FingerDestinationTests {
    @Test("the forms posttls-finger accepts", arguments: [
        ("example.com", FingerDestination(host: "example.com", port: 25, lookUpMX: true)),
        ("example.com:587", FingerDestination(host: "example.com", port: 587, lookUpMX: true)),
        ("example.com:submission", FingerDestination(host: "example.com", port: 587, lookUpMX: true)),
        ("[mx.example.com]", FingerDestination(host: "mx.example.com", port: 25, lookUpMX: false)),
        ("[192.0.2.1]:smtps", FingerDestination(host: "192.0.2.1", port: 465, lookUpMX: false)),
        ("[ipv6:2001:db8::1]:2525", FingerDestination(host: "2001:db8::1", port: 2525, lookUpMX: false)),
        ("inet:[127.0.0.1]:24", FingerDestination(host: "127.0.0.1", port: 24, lookUpMX: false)),
    ])
    func parses(_ text: String, _ expected: FingerDestination) throws {
        #expect(try FingerDestination(parsing: text) == expected)
    }

    @Test("malformed destinations are refused with the reason", arguments: [
        ("[127.0.0.1", "malformed destination"), ("[127.0.0.1]x", "malformed destination"), ("", "malformed destination"),
        ("example.com:nosuchservice", "unknown service"), ("example.com:70000", "unknown service"), ("a b:25", "malformed destination"),
    ])
    func refuses(_ text: String, _ reason: String) {
        #expect {
            try FingerDestination(parsing: text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("address literals are told from host names")
    func addresses() {
        #expect(FingerDestination.isAddress("192.0.2.1"))
        #expect(FingerDestination.isAddress("2001:db8::1"))
        #expect(!FingerDestination.isAddress("192.0.2.300"))
        #expect(!FingerDestination.isAddress("mx.example.com"))
    }
}
