import SealpostCLI

@main
extension SealpostCommand {}
