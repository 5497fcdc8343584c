import FuzzDriver

runLibFuzzer(fuzzSession)
