/// What a set of chain files yields: the (key, chain) pairs, and warnings about objects that were skipped.
public struct ChainFileContents: Sendable {
    /// One entry per key, in file order.
    public var certifiedKeys: [CertifiedKey]
    /// Skipped PEM objects and second keys that were ignored.
    public var warnings: [CredentialFinding]
    /// Every file that held a private key (whose permissions matter).
    public var keyFiles: [String]
}
