import SealpostConfig

/// A configuration made from main.cf (and master.cf) text, on a fixed host.
func configuration(main: String, master: String = "", directory: String = "/etc/sealpost") -> Configuration {
    Configuration(
        directory: directory,
        main: MainConfFile(path: "\(directory)/main.cf", bytes: Array(main.utf8)),
        master: MasterConfFile(path: "\(directory)/master.cf", bytes: Array(master.utf8)),
        host: HostFacts(hostname: "mx.example.com", interfaceAddresses: [], processID: 1))
}
