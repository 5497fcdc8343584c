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

let smtpCore: [Target.Dependency] = ["SMTPCore", .product(name: "NIOCore", package: "swift-nio")]

let package = Package(
    name: "sealpost-fuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
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
    ]
)
