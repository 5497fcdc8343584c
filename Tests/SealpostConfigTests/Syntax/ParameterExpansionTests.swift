import Testing

@testable import SealpostConfig

/// Expected results recorded from Postfix 3.7.11's `postconf -xh` with `a = alpha`, `empty =`.
@Suite struct ParameterExpansionTests {
    let values: [String: String] = ["a": "alpha", "empty": "", "compatibility_level": "3.7"]

    func expand(_ text: String) -> ParameterExpander.Outcome {
        ParameterExpander(lookup: { values[$0] }).expand(text)
    }

    @Test(arguments: [
        ("${a?yes}", "yes"),
        ("${a:no}", ""),
        ("${empty?yes}", ""),
        ("${empty:no}", "no"),
        ("${undefined_q:dflt}", "dflt"),
        ("${a?{x y}:{p q}}", "x y"),
        ("${empty?{x y}:{p q}}", "p q"),
        ("${{$a} == {alpha} ? {eq} : {ne}}", "eq"),
        ("${{10} < {9} ? {lt} : {ge}}", "ge"),
        ("${{abc} < {abd} ? {lt} : {ge}}", "lt"),
        ("$$a and $(a) and ${a}x", "$a and alpha and alphax"),
        ("${a?$a-$a}", "alpha-alpha"),
        ("${{3.6} <level {3.10} ? {older} : {newer}}", "older"),
        ("${{$compatibility_level} <level {2} ? {subnet} : {host}}", "host"),
        ("${a?text:with:colons}", "text:with:colons"),
        ("${{$a} != {alpha}}", ""),
        ("${{$a} == {alpha}}", "true"),
        ("${empty?{x}:fallback $a}", "fallback alpha"),
        ("pre${a}post$a.x", "prealphapostalpha.x"),
        ("${a ? {sp}}", "sp"),
        ("${{1}=={1}?{t}:{f}}", "t"),
        ("${{1} == {1} ? {t} }", "t"),
        ("${ a }", "alpha"),
        ("no references at all", "no references at all"),
    ])
    func matchesPostfix(_ input: String, _ expected: String) {
        let outcome = expand(input)
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(outcome.value == expected)
    }

    @Test(arguments: [
        ("${a?{x}junk}", "\":\" expected at: \"...x}>>>junk\""),
        ("$", "empty macro name: \"$\""),
        ("${}", "empty macro name: \"${}\""),
        ("${a", "truncated macro reference: \"${a\""),
        ("${{x} <foo {y}}", "bad operator suffix at: \"...<>>>foo\""),
        ("${a b}", "attribute name syntax error at: \"...a>>> b\""),
        ("${{2} <level {x}}", "malformed compatibility level syntax: \"x\""),
        ("${fn{x}}", "unknown function \"fn\" at \"...>>>fn{x}\""),
        ("${{x} {y}}", "\"==\" or \"!=\" or \"<\" or \"<=\" or \">=\" or \">\" expected at: \"...x}>>>{y}\""),
    ])
    func reportsSyntaxErrorsAsPostfixDoes(_ input: String, _ problem: String) {
        #expect(expand(input).problems == [problem])
    }

    @Test func undefinedNamesAreEmptyAndReported() {
        let outcome = expand("x${nothing}y$nothing")
        #expect(outcome.value == "xy")
        #expect(outcome.undefinedNames == ["nothing"])
        #expect(outcome.problems.isEmpty)
    }

    @Test func recursionIsExpandedLazily() {
        let chain = ["top": "[$middle]", "middle": "<$bottom>", "bottom": "end"]
        #expect(ParameterExpander(lookup: { chain[$0] }).expand("$top").value == "[<end>]")
        #expect(ParameterExpander(recursive: false, lookup: { chain[$0] }).expand("$top").value == "[$middle]")
    }

    @Test func loopsStopWithTheNestingError() {
        let loop = ["r1": "$r2", "r2": "$r1"]
        let outcome = ParameterExpander(lookup: { loop[$0] }).expand("$r1")
        #expect(outcome.problems.count == 1)
        #expect(outcome.problems[0].hasPrefix("unreasonable macro call nesting"))
    }

    @Test func loopsThroughRelationalOperandsStopToo() {
        let loop = ["r": "${{$r} == {x} ? {a} : {b}}"]
        let outcome = ParameterExpander(lookup: { loop[$0] }).expand("$r")
        #expect(!outcome.problems.isEmpty)
    }

    @Test func exponentialGrowthIsBounded() {
        var table: [String: String] = ["p0": String(repeating: "x", count: 64)]
        for level in 1...30 { table["p\(level)"] = "$p\(level - 1)$p\(level - 1)" }
        let outcome = ParameterExpander(lookup: { table[$0] }).expand("$p30")
        #expect(outcome.problems.contains { $0.contains("longer than") })
        #expect(outcome.value.utf8.count <= 1 << 20)
    }

    // Found by Fuzz/FuzzConfig (Corpus/FuzzConfig/10-expansion-without-output): definitions that
    // each use the next twice and end in no text never reach the result limit, and took 2^31 steps.
    @Test func exponentialWorkWithoutOutputIsBounded() {
        var table: [String: String] = ["p31": "${nothing?x}"]
        for level in 0..<31 { table["p\(level)"] = "$p\(level + 1)$p\(level + 1)" }
        let outcome = ParameterExpander(lookup: { table[$0] }).expand("$p0")
        #expect(outcome.value == "")
        #expect(outcome.problems.count == 1)
        #expect(outcome.problems.first?.hasPrefix("unreasonable amount of macro expansion") == true)
    }

    @Test func scanFindsNamesInEveryBranch() {
        let names = ParameterExpander.referencedNames(
            in: "$one ${two?{$three}:{$four}} ${{$five} == {x} ? {$six} : {y}} $$notaname")
        #expect(Set(names) == ["one", "two", "three", "four", "five", "six"])
    }

    @Test func compatibilityLevelsCompareNumberByNumber() throws {
        #expect(try #require(CompatibilityLevel("3.10")) > #require(CompatibilityLevel("3.9")))
        #expect(try #require(CompatibilityLevel("3")) == #require(CompatibilityLevel("3.0.0")))
        #expect(CompatibilityLevel("3.") == nil)
        #expect(CompatibilityLevel("3.1024") == nil)
        #expect(CompatibilityLevel("x") == nil)
    }
}
