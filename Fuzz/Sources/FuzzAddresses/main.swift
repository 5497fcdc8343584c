import FuzzDriver

runLibFuzzer(fuzzAddresses)
