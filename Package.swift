// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sealpost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sealpost", targets: ["sealpost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
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
        // The SMTP protocol as values: commands, replies, addresses, ESMTP parameters, strict CRLF
        // framing, DATA/BDAT decoding. NIOCore only; no I/O.
        .target(
            name: "SMTPCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Postfix's address rewriting and resolving (trivial-rewrite): address classes, relay
        // decisions, transports and next hops; match lists.
        .target(
            name: "SealpostRouting",
            dependencies: ["SealpostConfig"]
        ),
        // smtpd's access policy: restriction lists, access tables, relay decisions, recipient
        // validation, with Postfix's evaluation order and reply texts.
        .target(
            name: "SealpostPolicy",
            dependencies: [
                "SealpostConfig", "SealpostRouting",
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: [.linkedLibrary("resolv")]
        ),
        // The durable on-disk queue: message files, queue IDs, group commit, recovery.
        .target(
            name: "SealpostQueue",
            dependencies: [
                "SMTPCore", "SealpostConfig",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // SMTP AUTH: SASL mechanisms, the passwd-file and Dovecot back ends.
        .target(
            name: "SealpostSASL",
            dependencies: [
                "CSealpostShims", "SealpostConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A DNS stub resolver on NIO: MX and address lookups over UDP with TCP fallback, resolv.conf.
        .target(
            name: "SealpostDNS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Delivery agents: virtual (Maildir), local, lmtp and the smtp client.
        .target(
            name: "SealpostDelivery",
            dependencies: [
                "CSealpostShims", "SMTPCore", "SealpostConfig", "SealpostRouting", "SealpostQueue", "SealpostDNS",
                "SealpostTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SealpostLog",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SealpostTLS",
            dependencies: [
                "COpenSSL", "CSealpostShims", "SealpostConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SealpostServer",
            dependencies: [
                "SMTPCore", "SealpostConfig", "SealpostLog", "SealpostTLS", "SealpostPolicy", "SealpostQueue",
                "SealpostRouting", "SealpostSASL", "SealpostDelivery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SealpostCLI",
            dependencies: [
                "SealpostConfig", "SealpostLog", "SealpostTLS", "SealpostServer", "SealpostSASL", "SealpostQueue",
                "SealpostDNS", "SMTPCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sealpost",
            dependencies: ["SealpostCLI"]
        ),
        // Helpers shared by the test targets (temporary directories, waiting).
        .target(
            name: "SealpostTestSupport",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Tests/SealpostTestSupport"
        ),
        .testTarget(
            name: "SealpostConfigTests",
            dependencies: ["SealpostConfig", "SealpostTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "SMTPCoreTests",
            dependencies: [
                "SMTPCore", "SealpostTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SealpostRoutingTests",
            dependencies: ["SealpostRouting", "SealpostConfig", "SealpostTestSupport"]
        ),
        .testTarget(
            name: "SealpostPolicyTests",
            dependencies: ["SealpostPolicy", "SealpostRouting", "SealpostConfig", "SealpostTestSupport"],
            exclude: ["Recording"]
        ),
        .testTarget(
            name: "SealpostDeliveryTests",
            dependencies: [
                "SealpostDelivery", "SealpostQueue", "SealpostRouting", "SealpostConfig", "SealpostDNS", "SealpostTLS",
                "SMTPCore", "SealpostTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SealpostDNSTests",
            dependencies: [
                "SealpostDNS", "SealpostTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SealpostQueueTests",
            dependencies: [
                "SealpostQueue", "SMTPCore", "SealpostConfig", "SealpostTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SealpostSASLTests",
            dependencies: [
                "SealpostSASL", "SealpostConfig", "SealpostTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SealpostTLSTests",
            dependencies: [
                "SealpostTLS", "SealpostConfig", "SealpostTestSupport", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SealpostLogTests",
            dependencies: ["SealpostLog", "SealpostTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "SealpostCLITests",
            dependencies: ["sealpost", "SealpostCLI", "SealpostConfig", "SealpostTLS", "SealpostQueue", "SealpostTestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
