// Configuration files: main.cf and master.cf parsing, `$name` expansion, and the whole typed
// configuration built from both.
import FuzzDriver
import SealpostConfig

/// The line that separates main.cf from master.cf in an input.
let masterSeparator = Array("\n%%master.cf\n".utf8)

let host = HostFacts(
    hostname: "mail.example.com",
    interfaceAddresses: [
        .init(address: "127.0.0.1", prefixLength: 8, isIPv6: false),
        .init(address: "192.0.2.10", prefixLength: 24, isIPv6: false),
        .init(address: "::1", prefixLength: 128, isIPv6: true),
    ],
    processID: 4242)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let (mainBytes, masterBytes) = split(input)
    let main = MainConfFile(path: "/fuzz/main.cf", bytes: mainBytes)
    let master = MasterConfFile(path: "/fuzz/master.cf", bytes: masterBytes)
    checkMain(main)
    checkMaster(master)
    checkExpansion(main)
    // The whole configuration: every parameter typed and checked, per service. It costs some fifty
    // times the rest, so only for one input in four (by its last byte: the same input, the same path).
    guard (input.last ?? 0) & 3 == 0 else { return 0 }
    let configuration = Configuration(directory: "/fuzz", main: main, master: master, host: host)
    require(configuration.services.count == master.services.count)
    for diagnostic in configuration.diagnostics {
        require(!diagnostic.message.isEmpty, "a diagnostic without a message")
        if let file = diagnostic.location?.file {
            require(file.hasPrefix("/fuzz/"), "a diagnostic names a file that was not read: \(file)")
        }
    }
    return 0
}

func split(_ input: [UInt8]) -> ([UInt8], [UInt8]) {
    guard input.count >= masterSeparator.count else { return (input, []) }
    for start in 0...(input.count - masterSeparator.count)
    where input[start..<(start + masterSeparator.count)].elementsEqual(masterSeparator) {
        return (Array(input[..<start]) + [UInt8(ascii: "\n")], Array(input[(start + masterSeparator.count)...]))
    }
    return (input, [])
}

/// Entries are well formed, and written out as `name = value` lines they parse back the same.
func checkMain(_ main: MainConfFile) {
    var lastLine = 0
    for entry in main.entries {
        require(!entry.name.isEmpty, "an entry without a name")
        require(!entry.name.utf8.contains(where: { isSpace($0) || $0 == UInt8(ascii: "=") }), "a name with space or =")
        require(!entry.value.utf8.contains(0) && !entry.value.utf8.contains(0x0A), "a value with NUL or LF")
        require(PostfixList.trimmed(entry.value) == entry.value, "a value with surrounding space")
        require(entry.line > lastLine, "entries out of line order")
        lastLine = entry.line
        require(main.effective[entry.name] != nil)
    }
    for (name, entry) in main.effective {
        require(main.entries.last { $0.name == name } == entry, "the effective entry is not the last one")
    }
    let rendered = main.entries.map { "\($0.name) = \($0.value)\n" }.joined()
    let again = MainConfFile(path: "/fuzz/main.cf", bytes: Array(rendered.utf8))
    require(
        again.entries.map { [$0.name, $0.value] } == main.entries.map { [$0.name, $0.value] },
        "main.cf does not round-trip: \(rendered.debugDescription)")
    require(!again.diagnostics.contains { $0.severity == .error }, "rendered main.cf has errors")
}

/// Services have valid fields and unique keys; written out again (fields and `-o` options only),
/// they parse back to the same fields and options.
func checkMaster(_ master: MasterConfFile) {
    var keys: Set<String> = []
    for service in master.services {
        require(keys.insert(service.key).inserted, "duplicate service \(service.key)")
        for field in [service.privateField, service.unprivilegedField, service.chrootField] {
            require(["y", "n", "-"].contains(field), "bad flag field \(field)")
        }
        require(!service.name.isEmpty && !service.command.isEmpty)
        for override in service.overrides {
            require(!override.name.isEmpty && !override.name.utf8.contains(where: { isSpace($0) || $0 == UInt8(ascii: "=") }))
        }
    }
    let simple = master.services.filter { service in
        ([service.name, service.command] + service.overrides.map { "\($0.name)=\($0.value)" }).allSatisfy {
            PostfixList.bracesBalance($0) && !$0.hasPrefix("{")
        } && !service.name.utf8.contains(where: isSpace) && !service.command.utf8.contains(where: isSpace)
            && !service.command.hasPrefix("-")
    }
    var rendered = ""
    for service in simple {
        rendered += [
            service.name, service.type.rawValue, service.privateField, service.unprivilegedField, service.chrootField,
            service.wakeupField, service.maxProcessesField, service.command,
        ].joined(separator: " ")
        for override in service.overrides { rendered += "\n  -o { \(override.name) = \(override.value) }" }
        rendered += "\n"
    }
    let again = MasterConfFile(path: "/fuzz/master.cf", bytes: Array(rendered.utf8))
    require(again.services.count == simple.count, "master.cf does not round-trip: \(rendered.debugDescription)")
    for (original, reparsed) in zip(simple, again.services) {
        require(original.key == reparsed.key && original.command == reparsed.command)
        require(
            original.overrides.map { [$0.name, $0.value] } == reparsed.overrides.map { [$0.name, $0.value] },
            "master.cf options do not round-trip: \(rendered.debugDescription)")
    }
}

/// Expansion ends (recursive definitions included), and text whose `$` are doubled expands to itself.
func checkExpansion(_ main: MainConfFile) {
    let values = main.effective.mapValues(\.value)
    for recursive in [true, false] {
        let expander = ParameterExpander(recursive: recursive) { values[$0] }
        for entry in main.entries.prefix(8) {
            let outcome = expander.expand(entry.value)
            require(outcome.value.utf8.count <= 1 << 20, "expansion grew without bound")
            if !entry.value.utf8.contains(UInt8(ascii: "$")) {
                require(outcome.value == entry.value && outcome.problems.isEmpty, "text without $ changed")
            }
            let escaped = entry.value.replacingDollars()
            let literal = expander.expand(escaped)
            require(literal.value == entry.value && literal.problems.isEmpty, "$$ does not give $")
            _ = ParameterExpander.referencedNames(in: entry.value)
        }
    }
}

extension String {
    func replacingDollars() -> String {
        var bytes: [UInt8] = []
        for byte in utf8 {
            bytes.append(byte)
            if byte == UInt8(ascii: "$") { bytes.append(byte) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
