import FuzzDriver

runLibFuzzer(fuzzConfig)
