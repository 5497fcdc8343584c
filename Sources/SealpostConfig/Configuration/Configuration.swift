#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loaded Sealpost configuration: `main.cf`, `master.cf`, everything found wrong with them, and
/// the typed parameter values of main.cf and of each service.
///
/// Loading never throws: problems become ``diagnostics``. A configuration with errors must not be
/// started (`run` refuses it, a reload keeps the old one).
public struct Configuration: Sendable {
    /// The configuration directory (`-c`, `$SEALPOST_CONFIG_DIR`, or `/etc/sealpost`).
    public let directory: String
    public let main: MainConfFile
    public let master: MasterConfFile
    public let host: HostFacts
    /// Every finding, errors first, then in file order.
    public let diagnostics: [ConfigurationDiagnostic]
    /// The typed values as main.cf sets them (no service overrides): what `conf` shows.
    public let global: ServiceConfiguration
    /// One entry per master.cf service, in file order.
    public let services: [ServiceConfiguration]

    /// The default configuration directory.
    public static let defaultDirectory = "/etc/sealpost"

    /// Reads `main.cf` and `master.cf` from `directory`.
    public static func load(directory: String, host: HostFacts = .current()) -> Configuration {
        let mainPath = directory.hasSuffix("/") ? directory + "main.cf" : directory + "/main.cf"
        let masterPath = directory.hasSuffix("/") ? directory + "master.cf" : directory + "/master.cf"
        var diagnostics: [ConfigurationDiagnostic] = []

        let mainBytes: [UInt8]
        switch readFile(mainPath) {
        case .success(let bytes): mainBytes = bytes
        case .failure(let error):
            diagnostics.append(.error(.init(file: mainPath), "cannot open: \(error)", code: "open"))
            mainBytes = []
        }
        let masterBytes: [UInt8]
        switch readFile(masterPath) {
        case .success(let bytes): masterBytes = bytes
        case .failure(let error):
            diagnostics.append(
                .warning(.init(file: masterPath), "cannot open: \(error); no services are defined", code: "open"))
            masterBytes = []
        }
        return Configuration(
            directory: directory,
            main: MainConfFile(path: mainPath, bytes: mainBytes),
            master: MasterConfFile(path: masterPath, bytes: masterBytes),
            host: host,
            loadDiagnostics: diagnostics)
    }

    /// Builds a configuration from already parsed files (tests, `conf -e` previews).
    public init(directory: String, main: MainConfFile, master: MasterConfFile, host: HostFacts, loadDiagnostics: [ConfigurationDiagnostic] = []) {
        self.directory = directory
        self.main = main
        self.master = master
        self.host = host

        let isDefaultDirectory = directory == Self.defaultDirectory
        let validator = Validator(main: main, master: master)
        var findings = loadDiagnostics + main.diagnostics + master.diagnostics

        let globalScope = ParameterScope(
            main: main, service: nil, configDirectory: directory, configDirectoryIsDefault: isDefaultDirectory, host: host)
        let global = ServiceConfiguration(scope: globalScope, validator: validator, findings: &findings)
        var services: [ServiceConfiguration] = []
        for service in master.services {
            let scope = ParameterScope(
                main: main, service: service, configDirectory: directory, configDirectoryIsDefault: isDefaultDirectory,
                host: host)
            services.append(ServiceConfiguration(scope: scope, validator: validator, findings: &findings))
        }
        findings += validator.nameFindings()

        self.global = global
        self.services = services
        self.diagnostics = Self.ordered(findings)
    }

    /// The configuration of the service `name/type`, if master.cf defines it.
    public func service(_ key: String) -> ServiceConfiguration? {
        services.first { $0.service?.key == key }
    }

    private static func ordered(_ findings: [ConfigurationDiagnostic]) -> [ConfigurationDiagnostic] {
        var seen: Set<ConfigurationDiagnostic> = []
        let unique = findings.filter { seen.insert($0).inserted }
        return unique.enumerated().sorted { lhs, rhs in
            let (l, r) = (lhs.element, rhs.element)
            if l.severity != r.severity { return l.severity < r.severity }
            if l.location?.file != r.location?.file { return (l.location?.file ?? "") < (r.location?.file ?? "") }
            if l.location?.line != r.location?.line { return (l.location?.line ?? 0) < (r.location?.line ?? 0) }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }
}

/// Reads a whole file; the error is the system's reason.
public func readFile(_ path: String) -> Result<[UInt8], FileReadError> {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return .failure(FileReadError(errno: errno)) }
    defer { close(descriptor) }
    return readAll(descriptor)
}

/// Reads an open file from its current offset to its end.
public func readAll(_ descriptor: Int32) -> Result<[UInt8], FileReadError> {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            return .failure(FileReadError(errno: errno))
        }
        if count == 0 { return .success(bytes) }
        bytes.append(contentsOf: chunk[0..<count])
    }
}

/// A failed read, described with `strerror`.
public struct FileReadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var errno: Int32
    public var description: String { String(cString: strerror(errno)) }
}
