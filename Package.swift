// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sealpost",
    platforms: [.macOS(.v15)],
    targets: [
        // The system's OpenSSL 3 (Debian: libssl-dev).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // PCRE2 (Debian: libpcre2-dev), for pcre: lookup tables as Postfix builds them.
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        // Real C functions wrapping OpenSSL and libcrypt macros; nothing else lives in C.
        .target(
            name: "CSealpostShims",
            dependencies: ["COpenSSL"],
            linkerSettings: [.linkedLibrary("crypt")]
        ),
        .target(
            name: "SealpostConfig",
            dependencies: ["CPCRE2"]
        ),
        .target(
            name: "SealpostTLS",
            dependencies: ["COpenSSL", "CSealpostShims"]
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
        .testTarget(
            name: "SealpostTLSTests",
            dependencies: ["SealpostTLS", "SealpostTestSupport"]
        ),
    ]
)
