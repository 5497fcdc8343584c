import FuzzDriver

runLibFuzzer(fuzzReplies)
