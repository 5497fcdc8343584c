/// A compiled `regexp:` or `pcre:` pattern.
protocol CompiledPattern: Sendable {
    /// The number of capturing groups.
    var captureCount: Int { get }

    /// Matches `subject` (no NUL inside; a NUL follows it in memory for C interfaces that need
    /// one), recording up to `groups` capturing groups; `scratch` is per-lookup working memory.
    func match(_ subject: UnsafeBufferPointer<UInt8>, groups: Int, scratch: PatternScratch) -> PatternMatch
}
