// swift-tools-version:6.1
// libFuzzer targets for SMTPCore. A package of its own so that `-sanitize=fuzzer` touches nothing in the
// main build; Sources/SMTPCore is a symbolic link to the main package's module (the main package has no
// library product to depend on). Build and run with `Fuzz/run`.
import PackageDescription

let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
let fuzzLink: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]

func fuzzTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["SMTPCore", "FuzzDriver", .product(name: "NIOCore", package: "swift-nio")],
        swiftSettings: fuzzFlags,
        linkerSettings: fuzzLink
    )
}

let package = Package(
    name: "sealpost-fuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(
            name: "SMTPCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .target(name: "FuzzDriver"),
        fuzzTarget("FuzzCommands"),
        fuzzTarget("FuzzData"),
        fuzzTarget("FuzzBDAT"),
        fuzzTarget("FuzzReplies"),
    ]
)
