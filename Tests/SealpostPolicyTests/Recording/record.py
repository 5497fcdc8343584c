#!/usr/bin/env python3
"""Record SMTP sessions against a private Postfix 3.7 and write them as Swift test fixtures.

    sudo python3 record.py [../Fixtures/RecordedPostfixSessions+Data.swift]

Needs root and Debian's postfix package. Builds a Postfix instance under
/tmp/sealpost-policy-recording (main.cf and tables as in Fixtures/RecordedPostfixSessions.swift,
one smtpd service per scenario of scenarios.py on 127.0.0.1:26100+ with the scenario's settings
as -o options), plays every dialogue with a raw SMTP client, collects the replies and smtpd's
log lines, stops Postfix, and writes the Swift fixture file. The client identity comes from
XCLIENT; a second XCLIENT in a scenario opens a new connection.
"""
import importlib.util, json, os, re, socket, subprocess, sys, time

BASE = "/tmp/sealpost-policy-recording"
ETC = BASE + "/etc"
LOG = BASE + "/maillog"
FIRST_PORT = 26100
HERE = os.path.dirname(os.path.abspath(__file__))

MAIN_CF = f"""\
compatibility_level = 3.7
queue_directory = {BASE}/queue
data_directory = {BASE}/data
maillog_file = {LOG}
maillog_file_prefixes = {BASE}
mail_owner = postfix
setgid_group = postdrop
biff = no
alias_database =
defer_transports = smtp, relay, local, virtual
smtpd_banner = $myhostname ESMTP
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 1000
myhostname = mx.example.com
mydomain = example.com
myorigin = $myhostname
mydestination = $myhostname, localhost.$mydomain, localhost, example.com
mynetworks = 10.0.0.0/8, [2001:db8::]/32
inet_interfaces = 127.0.0.1
inet_protocols = all
virtual_mailbox_domains = virtual.example
virtual_mailbox_maps = texthash:{ETC}/vmailbox
virtual_alias_domains = alias.example catchall.example
virtual_alias_maps = texthash:{ETC}/valias
relay_domains = relayed.example
relay_recipient_maps = texthash:{ETC}/relayrcpt
local_recipient_maps = texthash:{ETC}/localusers $alias_maps
alias_maps = texthash:{ETC}/aliases
smtpd_restriction_classes = myclass
myclass = reject_unauth_destination, permit
"""

TABLES = {
    "vmailbox": "box@virtual.example virtual.example/box/\nother@virtual.example virtual.example/other/\n",
    "valias": "info@alias.example box@virtual.example\nalias@virtual.example box@virtual.example\n"
              "postmaster@alias.example box@virtual.example\n@catchall.example box@virtual.example\n",
    "relayrcpt": "known@relayed.example x\n@sub.relayed.example x\n",
    "localusers": "alice x\nbob x\n",
    "aliases": "root alice\n",
    "access": """\
blocked.example REJECT
deferred.example DEFER
text.example REJECT go away
dsn.example REJECT 5.7.9 custom dsn text
num.example 553 5.7.2 numeric reply
num4.example 421 four twenty one
numnodsn.example 550 plain numeric
ok.example OK
relay.example RELAY
dunno.example DUNNO
dip.example DEFER_IF_PERMIT
dir.example DEFER_IF_REJECT
hold.example HOLD
discard.example DISCARD
warn.example WARN a warning
info.example INFO some info
list.example permit_mynetworks, reject
class.example myclass
bogus.example bogus_restriction
table.example hash:/etc/foo
prepend.example PREPEND X-Test: yes
redirect.example REDIRECT other@example.net
filter.example FILTER smtp:[127.0.0.1]:10026
bcc.example BCC spy@example.net
digits.example 12345
addrdsn.example REJECT 5.1.1 address dsn
unknownaction.example FROB something
spammer@ REJECT local part rule
user@exact.example REJECT exact address
user+ext@exact.example REJECT extension address
1.2.3.4 REJECT by address
10.9 REJECT by network
2001:db8:1 REJECT by v6 network
badhelo REJECT bad helo
<> REJECT null sender
.sub.parent.example REJECT subdomain
""",
}

MASTER_HEAD = """\
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def load_scenarios():
    spec = importlib.util.spec_from_file_location("scenarios", os.path.join(HERE, "scenarios.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SCENARIOS


def set_up(scenarios):
    for directory in (ETC, BASE + "/queue", BASE + "/data"):
        os.makedirs(directory, exist_ok=True)
    subprocess.run(["chown", "postfix", BASE + "/data"], check=True)
    with open(ETC + "/main.cf", "w") as f:
        f.write(MAIN_CF)
    for name, text in TABLES.items():
        with open(f"{ETC}/{name}", "w") as f:
            f.write(text)
    lines = [MASTER_HEAD]
    for index, scenario in enumerate(scenarios):
        lines.append(f"127.0.0.1:{FIRST_PORT + index} inet n - n - - smtpd")
        lines.append(f"  -o syslog_name=rec{index}")
        for name, value in scenario.get("overrides", {}).items():
            lines.append(f"  -o {{ {name} = {value} }}")
    with open(ETC + "/master.cf", "w") as f:
        f.write("\n".join(lines) + "\n")


def postfix(command):
    # postfix(1) reports start-up problems on a terminal only.
    return subprocess.run(["script", "-qc", f"postfix -c {ETC} {command}", "/dev/null"], capture_output=True, text=True)


def read_reply(stream):
    lines = []
    while True:
        line = stream.readline()
        if not line:
            lines.append("<EOF>")
            break
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            break
    return lines


def play(scenario, index):
    port = FIRST_PORT + index
    transcript = []

    def connect():
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        stream = sock.makefile("rb")
        transcript.append({"command": "<connect>", "reply": read_reply(stream)})
        return sock, stream

    sock, stream = connect()
    sent_xclient = False
    for step in scenario["steps"]:
        if step.startswith("XCLIENT"):
            if sent_xclient:
                # The client XCLIENT names is not itself allowed to use XCLIENT.
                try:
                    sock.sendall(b"QUIT\r\n")
                    read_reply(stream)
                except OSError:
                    pass
                sock.close()
                sock, stream = connect()
            sent_xclient = True
        try:
            sock.sendall(step.encode() + b"\r\n")
            reply = read_reply(stream)
        except OSError as error:
            transcript.append({"command": step, "reply": [f"<error: {error}>"]})
            break
        transcript.append({"command": step, "reply": reply})
        if reply[-1] == "<EOF>":
            break
        if reply[-1].startswith("354 "):
            sock.sendall(b".\r\n")
            transcript.append({"command": "<end of data>", "reply": read_reply(stream)})
    try:
        sock.sendall(b"QUIT\r\n")
        read_reply(stream)
    except OSError:
        pass
    sock.close()
    return transcript


# --- Swift output ---

POLICY_ACTIONS = ("reject", "reject_warning", "warn", "info", "hold", "discard", "filter", "redirect", "bcc",
                  "permit", "hangup")
SERVER_WARNINGS = ("Illegal address syntax", "reject: ETRN")
QUEUE_ID = re.compile(r"\b[0-9A-F]{10,12}\b")


def normalize(line):
    line = line.replace(ETC, "$TABLES")
    line = QUEUE_ID.sub("QUEUEID", line)
    # XCLIENT stands in for a new connection: the connect-time check logs "CONNECT".
    return line.replace(": XCLIENT from ", ": CONNECT from ")


def is_policy_log(line):
    if line.startswith("warning: "):
        return not any(text in line for text in SERVER_WARNINGS)
    if line.startswith("mapping DSN status"):
        return True
    match = re.match(r"^(NOQUEUE|QUEUEID): ([a-z_]+): ", line)
    return bool(match and match.group(2) in POLICY_ACTIONS)


def swift_string(text):
    if '"#' in text or "\n" in text:
        raise ValueError(f"cannot write as a raw string: {text!r}")
    return '#"' + text + '"#'


def write_swift(sessions, path):
    out = [
        "// Generated by Recording/record.py from SMTP sessions with Postfix 3.7.11 (Debian 12's",
        "// postfix package) over Recording/scenarios.py; do not edit by hand. Normalized: queue IDs are",
        "// QUEUEID, the table directory is $TABLES, and the connect-time check that Postfix logs as",
        "// \"XCLIENT from\" (XCLIENT stands in for a new connection) is \"CONNECT from\". The log lines",
        "// are those of the access policy.",
        "",
        "extension RecordedPostfixSessions {",
        "    static let sessions: [RecordedSession] = [",
    ]
    for session in sessions:
        overrides = ", ".join(f"({swift_string(k)}, {swift_string(normalize(v))})" for k, v in session["overrides"].items())
        out += ["        RecordedSession(", f"            name: {swift_string(session['name'])},",
                f"            overrides: [{overrides}],", "            exchanges: ["]
        for exchange in session["transcript"]:
            reply = ", ".join(swift_string(normalize(line)) for line in exchange["reply"])
            out.append(f"                .init({swift_string(exchange['command'])}, [{reply}]),")
        out += ["            ],", "            log: ["]
        for line in map(normalize, session["log"]):
            if is_policy_log(line):
                out.append(f"                {swift_string(line)},")
        out.append("            ]),")
    out += ["    ]", "}"]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../Fixtures/RecordedPostfixSessions+Data.swift")
    scenarios = load_scenarios()
    postfix("stop")
    time.sleep(1)
    set_up(scenarios)
    open(LOG, "w").close()
    started = postfix("start")
    if "fatal" in started.stdout:
        sys.exit(started.stdout)
    time.sleep(2)
    sessions = []
    for index, scenario in enumerate(scenarios):
        sessions.append({"name": scenario["name"], "overrides": scenario.get("overrides", {}),
                         "transcript": play(scenario, index)})
    time.sleep(1.5)
    with open(LOG, encoding="utf-8", errors="replace") as f:
        log = f.read().splitlines()
    postfix("stop")
    for index, session in enumerate(sessions):
        tag = f" rec{index}/smtpd["
        session["log"] = [re.sub(r"^.*?\]: ", "", line) for line in log if tag in line]
    with open(BASE + "/recorded.json", "w") as f:
        json.dump(sessions, f, indent=1)
    write_swift(sessions, output)


if __name__ == "__main__":
    main()
