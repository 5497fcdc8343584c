import Testing

@testable import SealpostConfig

@Suite struct PostfixListTests {
    @Test func splitsAtCommasAndWhitespace() {
        #expect(PostfixList.split("a, b,c\td\n  e,,") == ["a", "b", "c", "d", "e"])
        #expect(PostfixList.split("") == [])
    }

    @Test func keepsBraceGroupsTogether() {
        #expect(
            PostfixList.split("check_sender_access { inline:{ a=b, c=d } }, reject")
                == ["check_sender_access", "{ inline:{ a=b, c=d } }", "reject"])
        #expect(PostfixList.split("regexp:{{/^[^A-Z]/ Bogus}}") == ["regexp:{{/^[^A-Z]/ Bogus}}"])
    }

    @Test func unbracesLikeExtpar() {
        #expect(PostfixList.unbrace("{ a b }") == .success("a b"))
        #expect(PostfixList.unbrace("{{x}}") == .success("{x}"))
        #expect(PostfixList.unbrace("a") == .failure(.noOpeningBrace("a")))
        #expect(PostfixList.unbrace("{a") == .failure(.missingClosingBrace("{a")))
        #expect(PostfixList.unbrace("{a}b") == .failure(.textAfterClosingBrace("{a}b")))
    }

    @Test func normalizesWhitespaceLikePostconf() {
        #expect(PostfixList.normalizedWhitespace("  a,   b\t\tc \n") == "a, b c")
        #expect(PostfixList.normalizedWhitespace("{ x  y }") == "{ x y }")
    }
}
