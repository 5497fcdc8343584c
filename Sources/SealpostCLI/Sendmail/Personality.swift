/// The names the binary answers to besides `sealpost`: installed as a symbolic link
/// `/usr/sbin/sendmail` (or `mailq`) → `sealpost`, it behaves as that program.
public enum Personality {
    /// Runs the program `arguments[0]` names, or `sealpost sendmail …`, and returns its exit
    /// status; nil when the invocation is for `SealpostCommand`.
    public static func run(_ arguments: [String]) async -> Int32? {
        guard let program = arguments.first else { return nil }
        let name = program.split(separator: "/").last.map(String.init) ?? program
        let rest = Array(arguments.dropFirst())
        switch name {
        case "sendmail": return await Sendmail.run(rest)
        case "mailq": return await Sendmail.run(["-bp"] + rest)
        case "newaliases": return await Sendmail.run(["-I"] + rest)
        default:
            // sendmail's own getopt parsing, not ArgumentParser's (-bp, -oi, -fsender, -q…);
            // only help goes to the subcommand's description.
            guard rest.first == "sendmail", rest.dropFirst().first != "--help" else { return nil }
            return await Sendmail.run(Array(rest.dropFirst()))
        }
    }
}
