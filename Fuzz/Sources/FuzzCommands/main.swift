import FuzzDriver

runLibFuzzer(fuzzCommands)
