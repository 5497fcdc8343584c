// libFuzzer's driver, started from a fuzz target's own entry point: SwiftPM gives every executable a
// main of its own, so the one libFuzzer brings cannot be used.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// Runs libFuzzer with the process's arguments on `testOneInput`, then exits with its status.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = Optional(CommandLine.unsafeArgv)
    exit(runFuzzerDriver(&argc, &argv, testOneInput))
}

/// Stops with `message` when an invariant does not hold. Unlike `precondition`, the message is
/// printed in optimized builds too, so a finding's log says which invariant broke.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = "invariant broken",
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
