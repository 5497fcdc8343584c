private let oneProcess = "Sealpost is one process; concurrency comes from other limits"
private let noWorkerProcesses =
    "Sealpost is one long-running process without Postfix's short-lived worker processes"

extension ParameterCatalogue {
    /// The queue manager: retries, lifetimes, concurrency, notices and bounces, and the process-model knobs.
    static let queue: [ParameterDefinition] = [
        // MARK: - Retries and lifetimes
        ParameterDefinition(
            "queue_run_delay", .time(defaultUnit: "s"), default: "300s",
            "how often the deferred queue is scanned for mail to retry",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "minimal_backoff_time", .time(defaultUnit: "s"), default: "300s",
            "shortest wait before a deferred message is tried again",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "maximal_backoff_time", .time(defaultUnit: "s"), default: "4000s",
            "longest wait before a deferred message is tried again",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "maximal_queue_lifetime", .time(defaultUnit: "d"), default: "5d",
            "how long undeliverable mail is retried before it is bounced",
            status: .implemented, maximum: 8640000),
        ParameterDefinition(
            "bounce_queue_lifetime", .time(defaultUnit: "d"), default: "5d",
            "how long an undeliverable bounce message is retried before it is dropped",
            status: .implemented, maximum: 8640000),
        ParameterDefinition(
            "delay_warning_time", .time(defaultUnit: "h"), default: "0h",
            "how long mail waits before the sender is warned of the delay; 0 means never",
            status: .implemented),
        ParameterDefinition(
            "transport_retry_time", .time(defaultUnit: "s"), default: "60s",
            "pause before a transport that failed is used again",
            status: .planned(.queue), minimum: 1),
        ParameterDefinition(
            "defer_transports", .list, default: "",
            "transports whose mail is held in the queue instead of being delivered",
            status: .implemented),
        ParameterDefinition(
            "soft_bounce", .boolean, default: "no",
            "turn permanent delivery and reject errors into temporary ones, a safety net while testing",
            status: .implemented),
        ParameterDefinition(
            "confirm_delay_cleared", .boolean, default: "no",
            "tell the sender when mail they were warned about has been delivered",
            status: .planned(.queue)),
        ParameterDefinition(
            "hopcount_limit", .integer, default: "50",
            "Received and Delivered-To headers after which mail is bounced as looping",
            status: .planned(.queue), minimum: 1),

        // MARK: - Concurrency and recipients
        ParameterDefinition(
            "default_destination_concurrency_limit", .integer, default: "20",
            "parallel deliveries to one destination by one transport",
            status: .implemented),
        ParameterDefinition(
            "initial_destination_concurrency", .integer, default: "5",
            "parallel deliveries to a destination before its concurrency is raised",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "default_destination_recipient_limit", .integer, default: "50",
            "recipients per delivery to one destination",
            status: .implemented),
        ParameterDefinition(
            "default_destination_rate_delay", .time(defaultUnit: "s"), default: "0s",
            "pause between deliveries to the same destination; 0 means none",
            status: .planned(.queue)),
        ParameterDefinition(
            "default_transport_rate_delay", .time(defaultUnit: "s"), default: "0s",
            "pause between any two deliveries by the same transport; 0 means none",
            status: .planned(.queue)),
        ParameterDefinition(
            "default_destination_concurrency_failed_cohort_limit", .integer, default: "1",
            "failed connection rounds after which a destination is treated as down",
            status: .implemented),
        ParameterDefinition(
            "default_recipient_limit", .integer, default: "20000",
            "recipients held in memory per transport",
            status: .planned(.queue)),
        ParameterDefinition(
            "default_extra_recipient_limit", .integer, default: "1000",
            "spare in-memory recipient slots per transport, used when one message preempts another",
            status: .planned(.queue)),
        ParameterDefinition(
            "qmgr_message_active_limit", .integer, default: "20000",
            "most messages in the active queue at one time",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "qmgr_message_recipient_limit", .integer, default: "20000",
            "recipients the queue manager holds in memory, and the size of its dead-destination cache",
            status: .planned(.queue), minimum: 1),

        // MARK: - Limits per transport
        ParameterDefinition(
            "smtp_destination_concurrency_limit", .integer, default: "$default_destination_concurrency_limit",
            "parallel SMTP deliveries to one destination",
            status: .implemented),
        ParameterDefinition(
            "smtp_destination_recipient_limit", .integer, default: "$default_destination_recipient_limit",
            "recipients per SMTP delivery",
            status: .implemented),
        ParameterDefinition(
            "smtp_destination_rate_delay", .time(defaultUnit: "s"), default: "$default_destination_rate_delay",
            "pause between SMTP deliveries to the same destination",
            status: .planned(.queue)),
        ParameterDefinition(
            "lmtp_destination_concurrency_limit", .integer, default: "$default_destination_concurrency_limit",
            "parallel LMTP deliveries to one destination",
            status: .implemented),
        ParameterDefinition(
            "lmtp_destination_recipient_limit", .integer, default: "$default_destination_recipient_limit",
            "recipients per LMTP delivery",
            status: .implemented),
        ParameterDefinition(
            "relay_destination_concurrency_limit", .integer, default: "$default_destination_concurrency_limit",
            "parallel deliveries to one destination by the relay transport",
            status: .implemented),
        ParameterDefinition(
            "relay_destination_recipient_limit", .integer, default: "$default_destination_recipient_limit",
            "recipients per delivery by the relay transport",
            status: .implemented),
        ParameterDefinition(
            "relay_destination_rate_delay", .time(defaultUnit: "s"), default: "$default_destination_rate_delay",
            "pause between relay transport deliveries to the same destination",
            status: .planned(.queue)),
        ParameterDefinition(
            "local_destination_concurrency_limit", .integer, default: "2",
            "parallel local deliveries to one recipient",
            status: .implemented),
        ParameterDefinition(
            "local_destination_recipient_limit", .integer, default: "1",
            "recipients per local delivery",
            status: .implemented),
        ParameterDefinition(
            "virtual_destination_concurrency_limit", .integer, default: "$default_destination_concurrency_limit",
            "parallel virtual mailbox deliveries to one domain",
            status: .implemented),
        ParameterDefinition(
            "virtual_destination_recipient_limit", .integer, default: "$default_destination_recipient_limit",
            "recipients per virtual mailbox delivery",
            status: .implemented),

        // MARK: - Notices and bounces
        ParameterDefinition(
            "notify_classes", .list, default: "resource, software",
            "problem classes reported to the postmaster: bounce, delay, policy, protocol, resource, software…",
            status: .implemented),
        ParameterDefinition(
            "bounce_notice_recipient", .string, default: "postmaster",
            "who gets a copy of each bounce when notify_classes has bounce",
            status: .implemented),
        ParameterDefinition(
            "2bounce_notice_recipient", .string, default: "postmaster",
            "who gets bounces that could not be delivered to their sender",
            status: .implemented),
        ParameterDefinition(
            "delay_notice_recipient", .string, default: "postmaster",
            "who gets delay warnings when notify_classes has delay",
            status: .implemented),
        ParameterDefinition(
            "error_notice_recipient", .string, default: "postmaster",
            "who gets reports of protocol, policy, resource and software problems",
            status: .planned(.queue)),
        ParameterDefinition(
            "double_bounce_sender", .string, default: "double-bounce",
            "sender address of notices to the postmaster; mail sent to it is dropped to stop loops",
            status: .implemented),
        ParameterDefinition(
            "bounce_size_limit", .size, default: "50000",
            "how much of an undeliverable message is returned with the bounce",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "bounce_template_file", .string, default: "",
            "file with replacement texts for bounce, delay and success notices",
            status: .planned(.queue)),

        // MARK: - Queue files and logging
        ParameterDefinition(
            "enable_long_queue_ids", .boolean, default: "yes",
            "use long, time-ordered queue IDs instead of short hexadecimal ones",
            status: .ignored("Sealpost always uses long queue IDs; its queue file names depend on them")),
        ParameterDefinition(
            "queue_minfree", .size, default: "0",
            "free space the queue file system must keep before mail is accepted; 0 means no check",
            status: .implemented),
        ParameterDefinition(
            "delay_logging_resolution_limit", .integer, default: "2",
            "digits after the decimal point in the delays that are logged",
            status: .planned(.queue), maximum: 6),

        // MARK: - Process model
        ParameterDefinition(
            "default_process_limit", .integer, default: "100",
            "most processes of one service that run at the same time",
            status: .ignored(oneProcess), minimum: 1),
        ParameterDefinition(
            "max_idle", .time(defaultUnit: "s"), default: "100s",
            "idle time after which a worker process exits",
            status: .ignored(noWorkerProcesses), minimum: 1),
        ParameterDefinition(
            "max_use", .integer, default: "100",
            "requests a worker process handles before it exits",
            status: .ignored(noWorkerProcesses), minimum: 1),
    ]
}
