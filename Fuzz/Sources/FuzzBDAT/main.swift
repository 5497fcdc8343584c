import FuzzDriver

runLibFuzzer(fuzzBDAT)
