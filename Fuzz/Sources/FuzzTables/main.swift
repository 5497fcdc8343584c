import FuzzDriver

runLibFuzzer(fuzzTables)
