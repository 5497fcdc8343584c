/// A parsed `master.cf`: one ``MasterService`` per service entry, in file order.
///
/// Parsing follows Postfix's `postconf` (`pcf_parse_master_entry`): logical lines, fields split at
/// whitespace with `{ … }` grouping, at least eight fields, the same field checks and messages, and
/// daemon options normalized (`-oname=value` → `-o name=value`, `-o { name = value }` →
/// `-o name=value`).
public struct MasterConfFile: Sendable {
    public var path: String
    public var services: [MasterService]
    public var diagnostics: [ConfigurationDiagnostic]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        services = []
        diagnostics = []

        let (lines, warnings) = LogicalLineReader.read(bytes)
        for warning in warnings {
            diagnostics.append(.warning(.init(file: path, line: warning.line), warning.message, code: "syntax"))
        }
        var seen: [String: Int] = [:]
        for logical in lines {
            switch MasterService.parse(logical, path: path) {
            case .failure(let diagnostic):
                diagnostics.append(diagnostic)
            case .success(let (service, serviceDiagnostics)):
                diagnostics += serviceDiagnostics
                if let firstLine = seen[service.key] {
                    diagnostics.append(
                        .error(
                            .init(file: path, line: service.line),
                            "duplicate service \(service.key); it is already defined at line \(firstLine)",
                            code: "master-duplicate"))
                    continue
                }
                seen[service.key] = service.line
                services.append(service)
            }
        }
    }

    public func service(named name: String, type: MasterService.ServiceType) -> MasterService? {
        services.first { $0.name == name && $0.type == type }
    }
}

/// One `master.cf` service entry.
public struct MasterService: Sendable, Hashable {
    public enum ServiceType: String, Sendable, Hashable, CaseIterable {
        case inet, unix, fifo, pass
        case unixDatagram = "unix-dgram"
    }

    /// One `-o name=value` daemon option.
    public struct Override: Sendable, Hashable {
        public var name: String
        public var value: String
        /// The physical line of the `-o`.
        public var line: Int
    }

    /// The service field: a name (`smtp`), a port (`2525`), or `host:port` for inet services.
    public var name: String
    public var type: ServiceType
    /// The private, unpriv and chroot fields: `y`, `n` or `-` (the default).
    public var privateField: String
    public var unprivilegedField: String
    public var chrootField: String
    /// The wakeup field: `-`, or seconds with an optional `?`.
    public var wakeupField: String
    /// The maxproc field: `-` or a number.
    public var maxProcessesField: String
    /// The command name (`smtpd`), without its arguments.
    public var command: String
    /// Everything after the command, normalized as postconf prints it: `-o` and its `name=value`
    /// as two words, `{ … }` groups unwrapped.
    public var arguments: [String]
    /// The `-o` overrides, in order; a later one for the same name wins.
    public var overrides: [Override]
    /// The physical line where the entry starts.
    public var line: Int

    /// `name/type`, how postconf names a service.
    public var key: String { "\(name)/\(type.rawValue)" }

    /// The effective `-o` value for `parameter` in this service, if any.
    public func overrideValue(for parameter: String) -> Override? {
        overrides.last { $0.name == parameter }
    }

    static func parse(_ logical: LogicalLine, path: String) -> Result<(MasterService, [ConfigurationDiagnostic]), ConfigurationDiagnostic> {
        let location = SourceLocation(file: path, line: logical.firstLine)
        let words = Self.splitFields(logical.text)
        guard words.count >= 8 else {
            return .failure(
                .error(
                    location,
                    "bad field count: \"\(PostfixList.normalizedWhitespace(logical.text))\"; expected "
                        + "service type private unpriv chroot wakeup maxproc command [args]",
                    code: "master-syntax"))
        }
        func fieldError(_ field: String, _ value: String, _ expected: String) -> ConfigurationDiagnostic {
            .error(
                location,
                "invalid \(field) field \"\(value)\" in \"\(PostfixList.normalizedWhitespace(logical.text))\"; expected \(expected)",
                code: "master-syntax")
        }
        guard let type = ServiceType(rawValue: words[1].text) else {
            return .failure(fieldError("type", words[1].text, "inet, unix, unix-dgram, fifo or pass"))
        }
        for (index, field) in [(2, "private"), (3, "unpriv"), (4, "chroot")] {
            let text = words[index].text
            guard text.count == 1, "yn-".contains(text) else {
                return .failure(fieldError(field, text, "y, n or -"))
            }
        }
        let wakeup = words[5].text
        let wakeupDigits = wakeup.hasSuffix("?") ? String(wakeup.dropLast()) : wakeup
        guard wakeup == "-" || (!wakeupDigits.isEmpty && wakeupDigits.allSatisfy(\.isASCIIDigit)) else {
            return .failure(fieldError("wakeup", wakeup, "-, or a number of seconds with an optional ?"))
        }
        let maxproc = words[6].text
        guard maxproc == "-" || (!maxproc.isEmpty && maxproc.allSatisfy(\.isASCIIDigit)) else {
            return .failure(fieldError("maxproc", maxproc, "- or a number"))
        }

        var diagnostics: [ConfigurationDiagnostic] = []
        var arguments: [String] = []
        var overrides: [Override] = []
        var index = 8
        var inOptions = true
        while index < words.count {
            let word = words[index]
            let wordLocation = SourceLocation(file: path, line: logical.line(atUTF8Offset: word.offset))
            if inOptions && (!word.text.hasPrefix("-") || word.text == "--") { inOptions = false }
            guard inOptions else {
                arguments.append(unbraced(word.text, at: wordLocation, into: &diagnostics))
                index += 1
                continue
            }
            // An option letter that takes a value may share its word with other letters
            // ("-vo name=value") or with the value ("-oname=value").
            var option = word.text
            var attachedValue: String?
            if let oIndex = option.dropFirst().firstIndex(of: "o") {
                let afterO = option.index(after: oIndex)
                if afterO < option.endIndex { attachedValue = String(option[afterO...]) }
                let before = String(option[option.startIndex..<oIndex])
                if before != "-" { arguments.append(before) }
                option = "-o"
            }
            guard option == "-o" else {
                arguments.append(option)
                index += 1
                continue
            }
            var rawValue: String
            if let attachedValue {
                rawValue = attachedValue
            } else if index + 1 < words.count {
                index += 1
                rawValue = words[index].text
            } else {
                diagnostics.append(.error(wordLocation, "-o needs a name=value argument", code: "master-syntax"))
                break
            }
            let valueLocation = SourceLocation(file: path, line: logical.line(atUTF8Offset: words[index].offset))
            rawValue = unbraced(rawValue, at: valueLocation, into: &diagnostics)
            switch MainConfFile.splitNameValue(rawValue) {
            case .success(let (name, value)):
                arguments += ["-o", "\(name)=\(value)"]
                overrides.append(Override(name: name, value: value, line: valueLocation.line ?? logical.firstLine))
            case .failure(let problem):
                arguments += ["-o", rawValue]
                diagnostics.append(
                    .error(
                        valueLocation,
                        "service \(words[0].text)/\(type.rawValue): -o \(rawValue): \(problem.rawValue); expected -o name=value",
                        code: "master-syntax"))
            }
            index += 1
        }

        let service = MasterService(
            name: words[0].text, type: type,
            privateField: words[2].text, unprivilegedField: words[3].text, chrootField: words[4].text,
            wakeupField: wakeup, maxProcessesField: maxproc,
            command: words[7].text, arguments: arguments, overrides: overrides,
            line: logical.firstLine)
        return .success((service, diagnostics))
    }

    private static func unbraced(_ text: String, at location: SourceLocation, into diagnostics: inout [ConfigurationDiagnostic]) -> String {
        guard text.hasPrefix("{") else { return text }
        switch PostfixList.unbrace(text) {
        case .success(let inner):
            return inner
        case .failure(let error):
            diagnostics.append(.error(location, "\(error)", code: "master-syntax"))
            return text
        }
    }

    /// Splits a master.cf line at whitespace, keeping `{ … }` groups whole, and remembers where
    /// each word starts (for line numbers).
    static func splitFields(_ text: String) -> [(text: String, offset: Int)] {
        var words: [(String, Int)] = []
        var word: [UInt8] = []
        var wordStart = 0
        var depth = 0
        for (offset, byte) in text.utf8.enumerated() {
            if depth == 0 && isPostfixSpace(byte) {
                if !word.isEmpty {
                    words.append((String(decoding: word, as: UTF8.self), wordStart))
                    word.removeAll(keepingCapacity: true)
                }
                continue
            }
            if word.isEmpty { wordStart = offset }
            if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") && depth > 0 {
                depth -= 1
            }
            word.append(byte)
        }
        if !word.isEmpty { words.append((String(decoding: word, as: UTF8.self), wordStart)) }
        return words
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
