import FuzzDriver

runLibFuzzer(fuzzDNS)
