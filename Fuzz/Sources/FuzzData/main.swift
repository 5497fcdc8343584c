import FuzzDriver

runLibFuzzer(fuzzData)
