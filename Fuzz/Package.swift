// swift-tools-version:6.1
// libFuzzer targets for SMTPCore, SealpostConfig and the DNS message decoder. A package of its own so
// that `-sanitize=fuzzer` touches nothing in the main build; Sources/SMTPCore, Sources/SealpostConfig
// and Sources/CPCRE2 are symbolic links to the main package's modules, Sources/SealpostDNSMessage holds
// links to the three files of SealpostDNS that read and write messages (the rest needs NIOPosix).
// The main package has no library product to depend on. Build and run with `Fuzz/run`.
import PackageDescription

let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
let fuzzLink: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
/// For modules whose internal parsers the targets reach with `@testable import`.
let fuzzTestableFlags: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-enable-testing"])]

func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name,
        dependencies: dependencies + ["FuzzDriver"],
        swiftSettings: fuzzFlags,
        linkerSettings: fuzzLink
    )
}

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let smtpCore: [Target.Dependency] = ["SMTPCore", nioCore]

let package = Package(
    name: "sealpost-fuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ] + (withSession ? sessionPackages : []),
    targets: [
        .target(
            name: "SMTPCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: fuzzFlags
        ),
        // PCRE2 (Debian: libpcre2-dev), as the main package declares it.
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .target(name: "SealpostConfig", dependencies: ["CPCRE2"], swiftSettings: fuzzTestableFlags),
        .target(name: "SealpostDNSMessage", swiftSettings: fuzzTestableFlags),
        .target(name: "FuzzDriver"),
        fuzzTarget("FuzzCommands", smtpCore),
        fuzzTarget("FuzzData", smtpCore),
        fuzzTarget("FuzzBDAT", smtpCore),
        fuzzTarget("FuzzReplies", smtpCore),
        fuzzTarget("FuzzAddresses", smtpCore),
        fuzzTarget("FuzzConfig", ["SealpostConfig"]),
        fuzzTarget("FuzzTables", ["SealpostConfig"]),
        fuzzTarget("FuzzDNS", ["SealpostDNSMessage"]),
    ] + (withSession ? sessionTargets : [])
)

// FuzzSession needs the whole server: some twenty times the code of the other targets, and minutes
// more to build. It is part of the package only when SEALPOST_FUZZ_SESSION is set (`Fuzz/run`
// sets it when FuzzSession is asked for), so the bounded run in CI builds only the parsers.
var withSession: Bool { Context.environment["SEALPOST_FUZZ_SESSION"] != nil }

var sessionPackages: [Package.Dependency] {
    [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ]
}

var sessionTargets: [Target] {
    [
        // The server and what it stands on, for FuzzSession: the session's own modules are
        // instrumented; the rest (TLS, SASL, delivery, DNS) is built plainly, which keeps the build
        // shorter. The declarations repeat the main package's.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "CSealpostShims", dependencies: ["COpenSSL"], linkerSettings: [.linkedLibrary("crypt")]),
        .target(name: "SealpostLog", dependencies: [log]),
        .target(name: "SealpostRouting", dependencies: ["SealpostConfig"]),
        .target(
            name: "SealpostPolicy", dependencies: ["SealpostConfig", "SealpostRouting", log], swiftSettings: fuzzFlags,
            linkerSettings: [.linkedLibrary("resolv")]),
        .target(name: "SealpostQueue", dependencies: ["SMTPCore", "SealpostConfig", log], swiftSettings: fuzzFlags),
        .target(name: "SealpostSASL", dependencies: ["CSealpostShims", "SealpostConfig", nioCore, nioPosix, log]),
        .target(name: "SealpostDNS", dependencies: [nioCore, nioPosix]),
        .target(name: "SealpostTLS", dependencies: ["COpenSSL", "CSealpostShims", "SealpostConfig", nioCore, log]),
        .target(
            name: "SealpostDelivery",
            dependencies: [
                "CSealpostShims", "SMTPCore", "SealpostConfig", "SealpostRouting", "SealpostQueue", "SealpostDNS",
                "SealpostTLS", nioCore, nioPosix, log,
            ]),
        .target(
            name: "SealpostServer",
            dependencies: [
                "SMTPCore", "SealpostConfig", "SealpostLog", "SealpostTLS", "SealpostPolicy", "SealpostQueue",
                "SealpostRouting", "SealpostSASL", "SealpostDelivery", nioCore, nioPosix, log,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: fuzzTestableFlags),
        .executableTarget(
            name: "FuzzSession",
            dependencies: [
                "FuzzDriver", "SealpostServer", "SealpostConfig", "SealpostLog", "SealpostPolicy", "SealpostQueue",
                "SealpostSASL", nioCore, log, .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: fuzzFlags + [.swiftLanguageMode(.v5)],
            linkerSettings: fuzzLink
        ),
    ]
}
