import ArgumentParser
import SealpostConfig

#if canImport(Glibc)
import Glibc
#endif

/// `-c DIR`: the configuration directory, as Postfix's `-c config_dir`.
struct ConfigDirectoryOption: ParsableArguments {
    @Option(
        name: .customShort("c"),
        help: ArgumentHelp(
            "The configuration directory with main.cf and master.cf.",
            discussion: "Default: $SEALPOST_CONFIG_DIR, then /etc/sealpost.",
            valueName: "dir"))
    var directory: String?

    /// The directory to use: `-c`, then `$SEALPOST_CONFIG_DIR`, then `/etc/sealpost`.
    var resolved: String {
        if let directory { return Self.withoutTrailingSlash(directory) }
        if let fromEnvironment = getenv("SEALPOST_CONFIG_DIR").map({ String(cString: $0) }), !fromEnvironment.isEmpty {
            return Self.withoutTrailingSlash(fromEnvironment)
        }
        return Configuration.defaultDirectory
    }

    private static func withoutTrailingSlash(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
