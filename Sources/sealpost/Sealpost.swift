import SealpostCLI

#if canImport(Glibc)
import Glibc
#endif

@main
enum Sealpost {
    static func main() async {
        if let status = await Personality.run(CommandLine.arguments) { exit(status) }
        await SealpostCommand.main()
    }
}
