private let installationPath =
    "an installation path of Postfix's own programs and documents; Sealpost does not use it"

extension ParameterCatalogue {
    /// Identity, networks, address rewriting, message limits, files, logging and installation paths.
    static let general: [ParameterDefinition] = [
        // MARK: - Identity
        ParameterDefinition(
            "myhostname", .string, default: "",
            "fully qualified name of this host, used in the greeting, HELO and Received headers",
            status: .implemented),
        ParameterDefinition(
            "mydomain", .string, default: "",
            "internet domain of this host; the basis of several address defaults",
            status: .implemented),
        ParameterDefinition(
            "myorigin", .string, default: "$myhostname",
            "domain that locally posted mail appears to come from",
            status: .implemented),
        ParameterDefinition(
            "mail_name", .string, default: "Sealpost",
            "product name shown in the SMTP greeting and in generated messages",
            status: .implemented),
        ParameterDefinition(
            "mail_version", .string, default: SealpostVersion.string,
            "version of the running software, for banners and logs",
            status: .implemented),
        ParameterDefinition(
            "compatibility_level", .string, default: "3.7",
            "which generation of defaults applies to parameters whose default changed over time",
            status: .implemented),

        // MARK: - Destinations and networks
        ParameterDefinition(
            "mydestination", .list, default: "$myhostname, localhost.$mydomain, localhost",
            "domains this host delivers locally (the local domain class)",
            status: .implemented),
        ParameterDefinition(
            "mynetworks", .list, default: "",
            "client networks trusted to relay mail (permit_mynetworks)",
            status: .implemented),
        ParameterDefinition(
            "mynetworks_style", .choice(["class", "subnet", "host"]),
            default: "${{$compatibility_level} <level {2} ? {subnet} : {host}}",
            "how an unset mynetworks is derived: this host, its subnets or its address classes",
            status: .implemented),
        ParameterDefinition(
            "relay_domains", .list, default: "${{$compatibility_level} <level {2} ? {$mydestination} : {}}",
            "domains accepted from anywhere and passed on to other servers (the relay class)",
            status: .implemented),
        ParameterDefinition(
            "fast_flush_domains", .list, default: "$relay_domains",
            "domains whose deferred mail a client may ask to be delivered now with ETRN",
            status: .implemented),
        ParameterDefinition(
            "relay_recipient_maps", .tables, default: "",
            "tables of valid recipients in relay_domains; others are rejected at RCPT TO",
            status: .implemented),
        ParameterDefinition(
            "parent_domain_matches_subdomains", .list,
            default: "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps",
            "features in which a domain pattern also matches all of its subdomains",
            status: .implemented),
        ParameterDefinition(
            "inet_interfaces", .list, default: "all",
            "local addresses the SMTP server listens on: all, loopback-only or a list",
            status: .implemented),
        ParameterDefinition(
            "inet_protocols", .list, default: "all",
            "IP versions used for listening and outbound connections: ipv4, ipv6 or all",
            status: .implemented),
        ParameterDefinition(
            "proxy_interfaces", .list, default: "",
            "addresses that reach this host through a proxy or NAT and count as its own",
            status: .implemented),

        // MARK: - Address rewriting
        ParameterDefinition(
            "append_at_myorigin", .boolean, default: "yes",
            "append @$myorigin to addresses that have no domain",
            status: .implemented),
        ParameterDefinition(
            "append_dot_mydomain", .boolean, default: "${{$compatibility_level} <level {1} ? {yes} : {no}}",
            "append .$mydomain to addresses whose domain has no dot",
            status: .implemented),
        ParameterDefinition(
            "swap_bangpath", .boolean, default: "yes",
            "rewrite UUCP-style site!user addresses as user@site",
            status: .implemented),
        ParameterDefinition(
            "propagate_unmatched_extensions", .list, default: "canonical, virtual",
            "address tables that copy an unmatched address extension (user+ext) to their results",
            status: .implemented),
        ParameterDefinition(
            "resolve_dequoted_address", .boolean, default: "yes",
            "look for @, % and ! inside a quoted local part when resolving (stops relay tricks)",
            status: .implemented),
        ParameterDefinition(
            "resolve_null_domain", .boolean, default: "no",
            "resolve an address ending in @ as if the @ were not there",
            status: .implemented),
        ParameterDefinition(
            "resolve_numeric_domain", .boolean, default: "no",
            "resolve user@ipaddress as user@[ipaddress] instead of rejecting it",
            status: .implemented),
        ParameterDefinition(
            "allow_untrusted_routing", .boolean, default: "no",
            "let relay permissions apply to addresses with routing operators (%, !, @) in the local part",
            status: .implemented),
        ParameterDefinition(
            "empty_address_recipient", .string, default: "MAILER-DAEMON",
            "recipient of mail addressed to the null address",
            status: .implemented),
        ParameterDefinition(
            "allow_min_user", .boolean, default: "no",
            "allow recipient addresses that start with '-'",
            status: .implemented),
        ParameterDefinition(
            "show_user_unknown_table_name", .boolean, default: "yes",
            "name the table (virtual alias, virtual mailbox, …) in \"User unknown\" replies",
            status: .implemented),
        ParameterDefinition(
            "allow_percent_hack", .boolean, default: "yes",
            "rewrite user%domain@thishost as user@domain",
            status: .implemented),
        ParameterDefinition(
            "recipient_delimiter", .string, default: "",
            "characters separating a user name from an address extension (user+extension)",
            status: .implemented),
        ParameterDefinition(
            "owner_request_special", .boolean, default: "yes",
            "treat owner-name and name-request addresses specially in aliases and extension splitting",
            status: .implemented),
        ParameterDefinition(
            "canonical_maps", .tables, default: "",
            "address mapping tables for envelope and header addresses of senders and recipients",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "sender_canonical_maps", .tables, default: "",
            "address mapping tables applied to sender addresses only",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "recipient_canonical_maps", .tables, default: "",
            "address mapping tables applied to recipient addresses only",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "masquerade_domains", .list, default: "",
            "domains whose subdomain part is stripped from addresses (host.example.com to example.com)",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "masquerade_exceptions", .list, default: "",
            "user names that address masquerading leaves alone",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "local_header_rewrite_clients", .list, default: "permit_inet_interfaces",
            "clients whose header addresses are completed with $myorigin or $mydomain",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "remote_header_rewrite_domain", .string, default: "",
            "domain used to complete header addresses in mail from other clients; empty leaves them",
            status: .planned(.cleanup)),

        // MARK: - Message limits and content
        ParameterDefinition(
            "message_size_limit", .size, default: "10240000",
            "largest message accepted, envelope information included; 0 means no limit",
            status: .implemented),
        ParameterDefinition(
            "header_size_limit", .size, default: "102400",
            "most header text kept for one message header; the excess is dropped",
            status: .implemented, minimum: 1),
        ParameterDefinition(
            "line_length_limit", .size, default: "2048",
            "longest line kept whole; longer lines are split into pieces of this size",
            status: .planned(.cleanup), minimum: 512),
        ParameterDefinition(
            "smtputf8_enable", .boolean, default: "${{$compatibility_level} <level {1} ? {no} : {yes}}",
            "offer SMTPUTF8 and accept internationalised addresses and headers",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "strict_smtputf8", .boolean, default: "no",
            "refuse non-ASCII envelope addresses from clients that did not ask for SMTPUTF8",
            status: .implemented),
        ParameterDefinition(
            "header_checks", .tables, default: "",
            "pattern tables matched against top-level message headers, each with an action",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "mime_header_checks", .tables, default: "$header_checks",
            "pattern tables matched against MIME part headers",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "nested_header_checks", .tables, default: "$header_checks",
            "pattern tables matched against headers of attached messages",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "body_checks", .tables, default: "",
            "pattern tables matched against body lines, each with an action",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "body_checks_size_limit", .size, default: "51200",
            "how much of each body part body_checks looks at",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "message_drop_headers", .list, default: "bcc, content-length, resent-bcc, return-path",
            "header names removed from every message before it is queued",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "always_add_missing_headers", .boolean, default: "no",
            "add missing From, To, Date and Message-ID headers to mail from remote clients too",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "always_bcc", .string, default: "",
            "address that receives a blind copy of every message",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "sender_bcc_maps", .tables, default: "",
            "tables giving a blind-copy address per sender",
            status: .planned(.cleanup)),
        ParameterDefinition(
            "recipient_bcc_maps", .tables, default: "",
            "tables giving a blind-copy address per recipient",
            status: .planned(.cleanup)),

        // MARK: - Accounts and environment
        ParameterDefinition(
            "config_directory", .string, default: "/etc/sealpost",
            "directory that holds main.cf and master.cf",
            status: .implemented),
        ParameterDefinition(
            "queue_directory", .string, default: "/var/spool/sealpost",
            "root directory of the on-disk mail queue",
            status: .implemented),
        ParameterDefinition(
            "data_directory", .string, default: "/var/lib/sealpost",
            "directory for writable state such as caches and locks",
            status: .implemented),
        ParameterDefinition(
            "mail_owner", .string, default: "sealpost",
            "unprivileged account that owns the queue and runs the server once ports are bound",
            status: .implemented),
        ParameterDefinition(
            "default_privs", .string, default: "nobody",
            "account whose rights apply to deliveries to files named in aliases",
            status: .planned(.localDelivery)),
        ParameterDefinition(
            "setgid_group", .string, default: "postdrop",
            "group owning Postfix's set-group-id mail submission and queue commands",
            status: .ignored("Sealpost has no set-group-id submission commands such as postdrop and postqueue")),
        ParameterDefinition(
            "import_environment", .list,
            default: "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME",
            "environment variables kept, or set with name=value, when Sealpost starts",
            status: .ignored("Sealpost starts no external programs, so there is no environment to pass on")),
        ParameterDefinition(
            "export_environment", .list, default: "TZ MAIL_CONFIG LANG",
            "environment variables handed to external delivery programs",
            status: .ignored("Sealpost starts no external delivery programs to pass an environment to")),

        // MARK: - Logging
        ParameterDefinition(
            "maillog_file", .string, default: "",
            "file the mail log is written to; empty logs to standard error",
            status: .implemented),
        ParameterDefinition(
            "maillog_file_prefixes", .list, default: "/var, /dev/stdout",
            "path prefixes maillog_file must start with, guarding against typing mistakes",
            status: .implemented),
        ParameterDefinition(
            "maillog_file_permissions", .choice(["600", "0600", "640", "0640", "644", "0644"]), default: "0600",
            "permission bits given to maillog_file when it is created",
            status: .implemented, origin: .laterPostfix("3.9")),
        ParameterDefinition(
            "syslog_name", .string, default: "${multi_instance_name?{$multi_instance_name}:{postfix}}",
            "program name that starts each log record, as in postfix/smtpd",
            status: .implemented),
        ParameterDefinition(
            "syslog_facility", .string, default: "mail",
            "syslog facility of the log records",
            status: .ignored("Sealpost logs to maillog_file or standard error, not to syslog")),
        ParameterDefinition(
            "multi_instance_name", .string, default: "",
            "name of this instance in a postmulti set-up",
            status: .ignored("Sealpost has no postmulti instances; the name only feeds syslog_name's default")),
        ParameterDefinition(
            "debug_peer_list", .list, default: "",
            "clients and servers whose sessions are logged in more detail",
            status: .planned(.later)),
        ParameterDefinition(
            "debug_peer_level", .integer, default: "2",
            "how much more detail is logged for debug_peer_list peers",
            status: .planned(.later), minimum: 1),
        ParameterDefinition(
            "biff", .boolean, default: "yes",
            "notify the local biff (comsat) service of newly delivered mail",
            status: .ignored("Sealpost never notifies the comsat service; it behaves as with biff = no")),

        // MARK: - Installation paths
        ParameterDefinition(
            "command_directory", .string, default: "/usr/sbin",
            "where Postfix's administrative commands are installed",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "daemon_directory", .string, default: "/usr/lib/postfix/sbin",
            "where Postfix's daemon programs are installed",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "shlib_directory", .string, default: "/usr/lib/postfix",
            "where Postfix's shared libraries and plug-ins are installed",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "meta_directory", .string, default: "/etc/postfix",
            "where Postfix's installation metadata files live",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "html_directory", .string, default: "/usr/share/doc/postfix/html",
            "where Postfix's HTML documentation is installed",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "manpage_directory", .string, default: "/usr/share/man",
            "where Postfix's manual pages are installed",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "readme_directory", .string, default: "/usr/share/doc/postfix",
            "where Postfix's README files are installed",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "sample_directory", .string, default: "/etc/postfix",
            "where Postfix's sample configuration files are installed",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "sendmail_path", .string, default: "/usr/sbin/sendmail",
            "path of Postfix's sendmail-compatible submission command",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "newaliases_path", .string, default: "/usr/bin/newaliases",
            "path of Postfix's newaliases command",
            status: .ignored(installationPath)),
        ParameterDefinition(
            "mailq_path", .string, default: "/usr/bin/mailq",
            "path of Postfix's mailq command",
            status: .ignored(installationPath)),
    ]
}
