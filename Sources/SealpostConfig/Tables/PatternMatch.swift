/// The outcome of matching one pattern.
enum PatternMatch {
    case noMatch
    /// `groups[0]` is the whole match, `groups[n]` group n (nil when it did not take part).
    case matched([Range<Int>?])
    /// The matcher gave up (a resource limit, for example); Postfix logs it and treats the rule as
    /// not satisfied, whatever its polarity.
    case failed(String)
}
