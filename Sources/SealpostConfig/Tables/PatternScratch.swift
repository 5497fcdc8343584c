internal import CPCRE2

/// Working memory for one lookup: PCRE2 match data, made once and reused for every rule.
final class PatternScratch {
    private var matchData: OpaquePointer?
    private var matchDataPairs = 0

    init() {}

    deinit {
        if let matchData { pcre2_match_data_free_8(matchData) }
    }

    /// Match data with room for at least `pairs` offset pairs.
    func pcreMatchData(pairs: Int) -> OpaquePointer? {
        if let matchData, matchDataPairs >= pairs { return matchData }
        if let matchData { pcre2_match_data_free_8(matchData) }
        matchData = pcre2_match_data_create_8(UInt32(pairs), nil)
        matchDataPairs = matchData == nil ? 0 : pairs
        return matchData
    }
}
