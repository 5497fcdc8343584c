import ArgumentParser
import SealpostConfig

/// `sealpost conf`: show and edit the configuration with postconf(1)'s options and output.
struct ConfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conf",
        abstract: "Show or edit main.cf and master.cf parameters, like postconf(1).",
        discussion: """
            With no options, shows every parameter Sealpost knows with its value (from main.cf, or \
            the default). Name parameters to show only those. name=value arguments edit main.cf \
            (as with -e).
            """,
        helpNames: [.long]
    )

    @OptionGroup var config: ConfigDirectoryOption

    @Flag(name: .customShort("n"), help: "Show only parameters set in main.cf.")
    var nonDefault = false
    @Flag(name: .customShort("d"), help: "Show default values instead of the configured ones.")
    var defaults = false
    @Flag(name: .customShort("x"), help: "Expand $name references in values.")
    var expand = false
    @Flag(name: .customShort("h"), help: "Show values only, without 'name = '.")
    var hideNames = false
    @Flag(name: .customShort("f"), help: "Fold long lines at 80 columns.")
    var fold = false
    @Flag(name: .customShort("M"), help: "Show master.cf service entries (optionally: service or service/type).")
    var masterEntries = false
    @Flag(name: .customShort("P"), help: "Show master.cf -o overrides as service/type/name = value.")
    var masterParameters = false
    @Flag(name: .customShort("e"), help: "Edit main.cf: set each name=value argument.")
    var editSet = false
    @Flag(name: .customShort("#"), help: "Edit main.cf: comment out each named parameter.")
    var editCommentOut = false
    @Flag(name: .customShort("X"), help: "Edit main.cf: remove each named parameter.")
    var editRemove = false

    @Argument(help: "Parameter names, name=value assignments, or master.cf filters.")
    var arguments: [String] = []

    func validate() throws {
        let edits = [editSet, editCommentOut, editRemove].filter { $0 }.count
        if edits > 1 { throw ValidationError("-e, -# and -X cannot be combined") }
        if edits == 1 && (masterEntries || masterParameters) {
            throw ValidationError("editing master.cf is not supported yet; edit main.cf or the file itself")
        }
        if masterEntries && masterParameters { throw ValidationError("-M and -P cannot be combined") }
        if (editCommentOut || editRemove) && arguments.isEmpty { throw ValidationError("name the parameters to edit") }
    }

    func run() throws {
        let directory = config.resolved
        let impliedEdit = !editCommentOut && !editRemove && !masterEntries && !masterParameters
            && !arguments.isEmpty && arguments.allSatisfy { $0.contains("=") }
        if editSet || impliedEdit {
            try edit(directory: directory, .set)
            return
        }
        if editCommentOut || editRemove {
            try edit(directory: directory, editCommentOut ? .commentOut : .remove)
            return
        }

        let configuration = Configuration.load(directory: directory)
        reportPostconfWarnings(configuration)
        if configuration.diagnostics.contains(where: { $0.code == "syntax" && $0.severity == .error }) {
            throw ExitCode(1)
        }
        if masterEntries {
            showMasterEntries(configuration)
        } else if masterParameters {
            showMasterParameters(configuration)
        } else {
            showParameters(configuration)
        }
    }

    // MARK: - Parameters

    private func showParameters(_ configuration: Configuration) {
        let scope = configuration.global.scope
        let names: [String]
        if !arguments.isEmpty {
            names = arguments
        } else if nonDefault {
            var explicit = Set(configuration.main.effective.keys)
            if case .commandLine? = scope.raw("config_directory")?.source { explicit.insert("config_directory") }
            names = explicit.sorted()
        } else {
            let userDefined = configuration.main.effective.keys.filter {
                ParameterCatalogue.definition(named: $0) == nil
            }
            names = Set(ParameterCatalogue.byName.keys).union(userDefined).sorted()
        }

        for name in names {
            guard var shown = defaults ? scope.defaultValue(name) : scope.raw(name)?.value else {
                Terminal.warning("\(name): unknown parameter")
                continue
            }
            if !arguments.isEmpty && ParameterCatalogue.definition(named: name) == nil
                && configuration.main.effective[name] == nil && PostfixReferenceDefaults.values[name] != nil
            {
                Terminal.warning("\(name): a Postfix parameter that Sealpost does not support")
            }
            if expand { shown = scope.expand(shown).value }
            Terminal.out(PostconfFormat.line(hideNames ? shown : "\(name) = \(shown)", fold: fold))
        }
    }

    // MARK: - master.cf

    private func showMasterEntries(_ configuration: Configuration) {
        for serviceConfiguration in configuration.services {
            guard let service = serviceConfiguration.service, matches(service) else { continue }
            let text = PostconfFormat.masterEntry(service, fold: fold) { value in
                expand ? serviceConfiguration.scope.expand(value).value : value
            }
            Terminal.out(text)
        }
    }

    private func showMasterParameters(_ configuration: Configuration) {
        for serviceConfiguration in configuration.services {
            guard let service = serviceConfiguration.service else { continue }
            var effective: [String: String] = [:]
            for override in service.overrides { effective[override.name] = override.value }
            for name in effective.keys.sorted() {
                let key = "\(service.key)/\(name)"
                guard arguments.isEmpty || arguments.contains(key) || arguments.contains(service.key)
                    || arguments.contains(service.name)
                else { continue }
                var value = effective[name]!
                if expand { value = serviceConfiguration.scope.expand(value).value }
                Terminal.out(PostconfFormat.line(hideNames ? value : "\(key) = \(value)", fold: fold))
            }
        }
    }

    private func matches(_ service: MasterService) -> Bool {
        arguments.isEmpty || arguments.contains(service.name) || arguments.contains(service.key)
    }

    // MARK: - Editing

    private enum EditKind { case set, commentOut, remove }

    private func edit(directory: String, _ kind: EditKind) throws {
        let path = directory + "/main.cf"
        let edit: MainConfEditor.Edit
        switch kind {
        case .set:
            switch MainConfEditor.parseAssignments(arguments) {
            case .success(let pairs): edit = .set(pairs)
            case .failure(let error): throw failure(error.message)
            }
        case .commentOut, .remove:
            switch MainConfEditor.parseNames(arguments) {
            case .success(let names): edit = kind == .commentOut ? .commentOut(names) : .remove(names)
            case .failure(let error): throw failure(error.message)
            }
        }
        do {
            for warning in try MainConfEditor.edit(fileAt: path, edit) { Terminal.warning(warning) }
        } catch {
            throw failure(error.message)
        }
        if case .set(let pairs) = edit {
            for (name, _) in pairs where ParameterCatalogue.definition(named: name) == nil {
                if PostfixReferenceDefaults.values[name] != nil {
                    Terminal.warning("\(name) is a Postfix parameter that Sealpost does not support")
                } else {
                    Terminal.warning("\(name): unknown parameter; `sealpost check` tells whether it is used")
                }
            }
        }
    }

    private func failure(_ message: String) -> ExitCode {
        Terminal.fatal(message)
        return ExitCode(1)
    }

    /// The warnings postconf prints while reading the files: syntax problems, overridden entries,
    /// undefined references and unused parameters.
    private func reportPostconfWarnings(_ configuration: Configuration) {
        let shown: Set<String> = ["syntax", "override", "undefined-parameter", "unknown-parameter", "expansion", "open", "master-syntax"]
        for diagnostic in configuration.diagnostics where shown.contains(diagnostic.code) {
            Terminal.diagnostic(diagnostic.severity == .error ? "error" : "warning", diagnostic.description)
        }
    }
}
