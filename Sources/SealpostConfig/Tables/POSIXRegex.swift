#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX regular expression compiled with the C library's `regcomp()`, as Postfix's `regexp:`
/// tables use it.
///
/// `@unchecked Sendable`: the compiled `regex_t` is never changed after `regcomp()`, and POSIX
/// makes `regexec()` safe to call from several threads on the same expression (glibc locks inside).
final class POSIXRegex: CompiledPattern, @unchecked Sendable {
    /// `regcomp()` flags, named as in `<regex.h>`.
    struct Flags: OptionSet, Sendable {
        let rawValue: Int32
        static let extended = Flags(rawValue: REG_EXTENDED)
        static let ignoreCase = Flags(rawValue: REG_ICASE)
        static let newline = Flags(rawValue: REG_NEWLINE)
        static let noSubexpressions = Flags(rawValue: REG_NOSUB)
    }

    private let expression: UnsafeMutablePointer<regex_t>
    let captureCount: Int

    /// Compiles `pattern`; the failure is `regerror()`'s explanation.
    init(_ pattern: [UInt8], flags: Flags) throws(RuleProblem) {
        let expression = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        expression.initialize(to: regex_t())
        let status = (pattern + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { regcomp(expression, $0.baseAddress, flags.rawValue) }
        }
        guard status == 0 else {
            let message = Self.explain(status, expression)
            expression.deallocate()
            throw RuleProblem(message)
        }
        self.expression = expression
        captureCount = Int(expression.pointee.re_nsub)
    }

    deinit {
        regfree(expression)
        expression.deallocate()
    }

    func match(_ subject: UnsafeBufferPointer<UInt8>, groups: Int, scratch: PatternScratch) -> PatternMatch {
        let slots = groups > 0 ? groups + 1 : 0
        var found = [regmatch_t](repeating: regmatch_t(), count: max(slots, 1))
        let status = subject.withMemoryRebound(to: CChar.self) { text in
            regexec(expression, text.baseAddress, slots, &found, 0)
        }
        if status == noMatchStatus { return .noMatch }
        if status != 0 { return .failed(Self.explain(status, expression)) }
        guard slots > 0 else { return .matched([]) }
        return .matched(
            found.prefix(slots).map { slot in
                slot.rm_so < 0 ? nil : Int(slot.rm_so)..<Int(slot.rm_eo)
            })
    }

    private static func explain(_ status: Int32, _ expression: UnsafeMutablePointer<regex_t>) -> String {
        var text = [CChar](repeating: 0, count: 256)
        _ = regerror(status, expression, &text, text.count)
        return stringUpToNUL(text)
    }
}

/// `REG_NOMATCH` (an enumerator Swift does not import on every platform).
private let noMatchStatus: Int32 = 1
