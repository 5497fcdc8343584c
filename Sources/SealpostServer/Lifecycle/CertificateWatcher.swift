import Foundation
import Logging
import SealpostConfig
import SealpostLog
import SealpostTLS
import Synchronization

/// Notices when the files behind a service's `smtpd_tls_*` certificate parameters change on disk (a certbot
/// renewal, a `sealpost tls deploy-server-cert`) and gives the service's new connections a TLS context built from
/// them, without a restart; open sessions keep the context they started with.
///
/// Every `smtpd_tls_reload_interval` it compares a ``TLSCredentialFileSnapshot`` of each service's files with the
/// last one. On a change it loads and checks the new credentials (readable, key matching its certificate, not
/// expired) and swaps the context in only when all is well; otherwise it logs a warning naming the file and the
/// reason and the service keeps its old certificate. A half-finished renewal (new certificate, old key) is such a
/// failure, and the next poll, seeing the key change too, succeeds.
final class CertificateWatcher: Sendable {
    /// What is watched for one service.
    struct Watch: Sendable {
        var service: ServiceConfiguration
        var listener: SMTPListener
        var log: Logger
        var snapshot: TLSCredentialFileSnapshot
        /// Seconds between polls; 0 means not watched.
        var interval: Int
        var nextCheck: ContinuousClock.Instant
        /// Which call of ``CertificateWatcher/watch(service:listener:log:)`` made it, so that a check that ran
        /// across a configuration reload does not put back the older snapshot.
        var generation: Int
    }

    private let watches: Mutex<[String: Watch]> = Mutex([:])
    private let generations = Atomic<Int>(0)
    private let clock = ContinuousClock()

    /// Starts (or, after a reload, restarts) watching `listener`'s files as `service` names them. The snapshot is
    /// taken now: the context the listener has was just built from these files.
    func watch(service: ServiceConfiguration, listener: SMTPListener, log: Logger) {
        let files = Self.files(of: service, listener: listener)
        let interval = service.seconds("smtpd_tls_reload_interval")
        let now = clock.now
        let generation = generations.add(1, ordering: .relaxed).newValue
        watches.withLock { watches in
            guard listener.context.tls != nil, interval > 0 else {
                watches[listener.serviceKey] = nil
                return
            }
            watches[listener.serviceKey] = Watch(
                service: service, listener: listener, log: log, snapshot: TLSCredentialFileSnapshot.take(files),
                interval: interval, nextCheck: now + .seconds(interval), generation: generation)
        }
    }

    /// Polls until the task is cancelled.
    func run() async {
        while !Task.isCancelled {
            checkDue()
            do { try await Task.sleep(for: .milliseconds(250)) } catch { return }
        }
    }

    /// Checks every service whose poll is due.
    func checkDue() {
        let now = clock.now
        let due = watches.withLock { watches in
            watches.values.filter { $0.nextCheck <= now }.map { $0.listener.serviceKey }
        }
        for key in due { check(key) }
    }

    /// Compares one service's files with its last snapshot and reloads when they changed.
    func check(_ key: String) {
        guard var watch = watches.withLock({ $0[key] }) else { return }
        // The snapshot comes before the loading: a change while loading is seen at the next poll.
        let snapshot = TLSCredentialFileSnapshot.take(Self.files(of: watch.service, listener: watch.listener))
        let changed = watch.snapshot.changedPaths(in: snapshot)
        watch.nextCheck = clock.now + .seconds(watch.interval)
        if !changed.isEmpty {
            watch.snapshot = snapshot
            reload(watch, changed: changed)
        }
        let updated = watch
        watches.withLock { watches in
            // A configuration reload may have replaced the watch meanwhile; its snapshot is newer.
            guard watches[key]?.generation == updated.generation else { return }
            watches[key]?.snapshot = updated.snapshot
            watches[key]?.nextCheck = updated.nextCheck
        }
    }

    /// The service's certificate, key and CA files and the chain files of the SNI names clients have asked for (the
    /// `tls_server_sni_maps` tables reload themselves; a changed value names other files, built on first use).
    static func files(of service: ServiceConfiguration, listener: SMTPListener) -> [String] {
        TLSServerSettings.credentialFiles(service) + (listener.context.tls?.serverNameChainFiles ?? [])
    }

    private func reload(_ watch: Watch, changed: [String]) {
        let key = watch.listener.serviceKey
        do {
            let settings = try TLSServerSettings(watch.service)
            try settings.checkCertificatesCurrent()
            let context = try TLSServerContextBuilder.makeContext(settings, logger: watch.log)
            if let previous = watch.listener.context.tls { try context.preloadServerNames(like: previous) }
            watch.listener.replaceTLS(context)
            watch.log.info("certificate reloaded: service \(key): \(settings.certificateSummary)")
        } catch {
            let files = changed.isEmpty ? "" : " after a change to \(changed.joined(separator: ", "))"
            watch.log.warning(
                "service \(key): keeping the current certificate: new credentials\(files) do not load: \(error)")
        }
    }
}
