internal import CPCRE2

/// A Perl-compatible regular expression compiled with PCRE2 (8-bit code units), as Postfix's
/// `pcre:` tables use it.
///
/// `@unchecked Sendable`: compiled PCRE2 code is read-only and may be shared between threads;
/// every match uses its own match data (from the lookup's ``PatternScratch``).
final class PCRE2Regex: CompiledPattern, @unchecked Sendable {
    /// PCRE2 compile options, named as in `pcre_table(5)`.
    struct Options: OptionSet, Sendable {
        let rawValue: UInt32
        static let caseless = Options(rawValue: UInt32(PCRE2_CASELESS))
        static let multiline = Options(rawValue: UInt32(PCRE2_MULTILINE))
        static let dotAll = Options(rawValue: UInt32(PCRE2_DOTALL))
        static let extended = Options(rawValue: UInt32(PCRE2_EXTENDED))
        static let anchored = Options(rawValue: UInt32(PCRE2_ANCHORED))
        static let dollarEndOnly = Options(rawValue: UInt32(PCRE2_DOLLAR_ENDONLY))
        static let ungreedy = Options(rawValue: UInt32(PCRE2_UNGREEDY))
    }

    private let code: OpaquePointer
    let captureCount: Int

    /// Compiles `pattern`; the failure names the offset and PCRE2's explanation, as Postfix logs it.
    init(_ pattern: [UInt8], options: Options) throws(RuleProblem) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = pattern.withUnsafeBufferPointer { buffer in
            pcre2_compile_8(buffer.baseAddress, buffer.count, options.rawValue, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw RuleProblem("error in regex at offset \(errorOffset): \(Self.explain(errorCode))")
        }
        code = compiled
        var count: UInt32 = 0
        _ = pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        captureCount = Int(count)
    }

    deinit {
        pcre2_code_free_8(code)
    }

    func match(_ subject: UnsafeBufferPointer<UInt8>, groups: Int, scratch: PatternScratch) -> PatternMatch {
        guard let data = scratch.pcreMatchData(pairs: captureCount + 1) else {
            return .failed("out of memory for PCRE2 match data")
        }
        let status = pcre2_match_8(code, subject.baseAddress, subject.count, 0, 0, data, nil)
        if status == PCRE2_ERROR_NOMATCH { return .noMatch }
        if status < 0 { return .failed(Self.explain(status)) }
        if status == 0 { return .failed("too many (...)") }
        guard groups > 0, let vector = pcre2_get_ovector_pointer_8(data) else { return .matched([]) }
        let pairs = Int(pcre2_get_ovector_count_8(data))
        return .matched(
            (0...groups).map { number in
                guard number < pairs, number < Int(status) else { return nil }
                let start = vector[2 * number]
                let end = vector[2 * number + 1]
                guard start != ~0, start <= end else { return nil }
                return start..<end
            })
    }

    fileprivate static func explain(_ code: Int32) -> String {
        var text = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &text, text.count)
        return length > 0 ? String(decoding: text.prefix(Int(length)), as: UTF8.self) : "unexpected pcre2 error code \(code)"
    }
}
