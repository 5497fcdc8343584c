// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sealpost",
    platforms: [.macOS(.v15)],
    targets: [
        // PCRE2 (Debian: libpcre2-dev), for pcre: lookup tables as Postfix builds them.
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .target(
            name: "SealpostConfig",
            dependencies: ["CPCRE2"]
        ),
        // Helpers shared by the test targets (temporary directories, waiting).
        .target(
            name: "SealpostTestSupport",
            path: "Tests/SealpostTestSupport"
        ),
        .testTarget(
            name: "SealpostConfigTests",
            dependencies: ["SealpostConfig", "SealpostTestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
