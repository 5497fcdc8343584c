/// A malformed pattern, replacement text or network, in Postfix's words.
struct RuleProblem: Error, ExpressibleByStringInterpolation {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    init(stringLiteral value: String) {
        message = value
    }

    init(stringInterpolation: DefaultStringInterpolation) {
        message = String(stringInterpolation: stringInterpolation)
    }
}
