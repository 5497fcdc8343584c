/// What one non-blocking OpenSSL call on a ``TLSConnection`` came to.
///
/// OpenSSL's "want read" and "want write" are not failures: with memory BIOs they mean the call
/// needs bytes from the peer that have not arrived yet, so they become ``incomplete``, apart
/// from the real failures.
public enum TLSConnectionResult<Value> {
    /// The call did everything it was asked to; the value says how much, where that matters.
    case complete(Value)
    /// The call needs more bytes from the network (SSL_ERROR_WANT_READ / WANT_WRITE); call it again
    /// after ``TLSConnection/consumeDataFromNetwork(_:)``.
    case incomplete
    /// The call failed; the connection cannot be used any further (except for
    /// ``TLSConnectionError/Code/closedByPeer``, after which a shutdown may still be sent).
    case failed(TLSConnectionError)
}

extension TLSConnectionResult: Sendable where Value: Sendable {}
