"""Throwaway mail servers for the benchmarks: Sealpost and a private Postfix 3.7 instance with the same
certificate, domain and services, a Dovecot that answers AUTH for both, and /proc readings of them.

Used by Benchmarks/compare and Benchmarks/limits (stdlib only; run as root). Every instance lives in its
own directory under one base directory; `Cleanup` stops them and removes that directory on exit, on
SIGINT and on SIGTERM.
"""
import atexit, os, re, shutil, signal, socket, ssl, subprocess, sys, tempfile, time

SENDER, RECIPIENT = "sender@remote.example", "demo@example.test"
AUTH_USER, AUTH_PASSWORD = "bench@example.test", "bench-password"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class SetupError(Exception):
    """A step that prepares or starts a server failed; the message says which and where to look."""


# ---------------------------------------------------------------------------------------------- tools

def require(tool, package):
    """The path of `tool` (also looked for in /usr/sbin), or SetupError naming the apt package."""
    path = shutil.which(tool) or next((f"{d}/{tool}" for d in ("/usr/sbin", "/usr/bin") if os.path.exists(f"{d}/{tool}")), None)
    if not path:
        raise SetupError(f"{tool} not found: apt-get install -y {package}")
    return path


def sealpost_binary(root):
    """$SEALPOST, or the release build of this checkout (built first; the build's own output on failure)."""
    if os.environ.get("SEALPOST"):
        return os.path.abspath(os.environ["SEALPOST"])
    scratch = ["--scratch-path", os.environ["SEALPOST_BUILD_SCRATCH"]] if os.environ.get("SEALPOST_BUILD_SCRATCH") else []
    build = subprocess.run(["swift", "build", "-c", "release", "--product", "sealpost"] + scratch, cwd=root,
                           capture_output=True, text=True)
    if build.returncode != 0:
        raise SetupError(f"swift build failed:\n{build.stdout[-3000:]}{build.stderr[-3000:]}")
    path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"] + scratch, cwd=root,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "sealpost")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_banner(port, timeout=30, process=None, tls=False):
    """Returns once 127.0.0.1:`port` greets with 220 (after a TLS handshake when `tls`: wrapper mode)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:
                with (context.wrap_socket(plain) if tls else plain) as s:
                    if s.recv(512).startswith(b"220"):
                        return
        except OSError:
            time.sleep(0.2)
    raise SetupError(f"no SMTP banner on 127.0.0.1:{port}")


def make_certificate(directory):
    """A self-signed RSA-2048 certificate for bench.example.test: (cert.pem, key.pem) in `directory`."""
    os.makedirs(directory, exist_ok=True)
    run = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
                          "-subj", "/CN=bench.example.test", "-keyout", f"{directory}/key.pem",
                          "-out", f"{directory}/cert.pem"], capture_output=True, text=True)
    if run.returncode != 0:
        raise SetupError(f"openssl req failed: {run.stderr.strip()}")
    return f"{directory}/cert.pem", f"{directory}/key.pem"


# ---------------------------------------------------------------------------------------------- /proc

def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def descendants(pid):
    """`pid` and every process below it, from one pass over /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(int(_stat_fields(entry)[1]), []).append(int(entry))
            except (OSError, IndexError):
                pass
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def tree_cpu(pid):
    """CPU seconds (user + system) of `pid`, its reaped children and every live process below it.

    A child that exits moves its time into its parent's cutime/cstime once reaped, so the sum only grows.
    """
    ticks = 0
    for number, process in enumerate(descendants(pid)):
        try:
            fields = _stat_fields(process)
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
        if number == 0:
            ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def memory_of(processes):
    """(processes still there, summed RSS KiB, summed PSS KiB) of the given pids.

    PSS divides each shared page among the processes that map it, so a sum over many processes that
    share their code (Postfix's smtpd) counts that code once, where summed RSS counts it every time.
    """
    count = rss = pss = 0
    for process in processes:
        try:
            with open(f"/proc/{process}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            count += 1
        except OSError:
            pass
    return count, rss, pss


def tree_memory(pid):
    """memory_of `pid` and every process below it."""
    return memory_of(descendants(pid))


def log_problems(path):
    """Distinct warning/error/fatal/panic lines of a maillog (pid, time and queue ids stripped), counted."""
    counts = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = re.search(r"\]: ((warning|error|fatal|panic): .*)", line)
                if m:
                    text = re.sub(r"\b(?=[A-Za-z]*[0-9])[0-9A-Za-z]{10,16}:", "ID:", m.group(1))
                    text = re.sub(r"(127\.0\.0\.1\]?):\d+", r"\1:PORT", text)
                    counts[text] = counts.get(text, 0) + 1
    except OSError:
        pass
    return counts


# ---------------------------------------------------------------------------------------------- clean-up

class Cleanup:
    """Stops what was started and removes the base directory, whatever way the script ends."""

    def __init__(self, prefix, keep=False):
        self.base = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.base, 0o755)
        self.keep, self.actions, self.done = keep, [], False
        atexit.register(self.run)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, self._signalled)

    def add(self, action):
        self.actions.append(action)

    def _signalled(self, number, _frame):
        print(f"\nstopped by signal {number}; cleaning up", file=sys.stderr, flush=True)
        self.run()
        os._exit(128 + number)

    def run(self):
        if self.done:
            return
        self.done = True
        for action in reversed(self.actions):
            try:
                action()
            except Exception as error:   # one failed stop must not keep the others from running
                print(f"clean-up: {error}", file=sys.stderr)
        if self.keep:
            print(f"kept {self.base}", file=sys.stderr)
        else:
            shutil.rmtree(self.base, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- servers

class Dovecot:
    """A Dovecot with no mail protocols: only its auth service, one passwd-file user, and an auth-client
    socket that any local user may connect to (Postfix's smtpd runs as postfix, Sealpost as nobody).

    The password is stored {PLAIN}: both servers ask the same Dovecot, and a cheap scheme keeps its CPU
    time (which neither server's figures include) small beside theirs.
    """

    def __init__(self, directory):
        self.executable = require("dovecot", "dovecot-core")
        self.directory = directory
        self.socket = f"{directory}/auth-client"
        os.makedirs(f"{directory}/run")
        with open(f"{directory}/passwd", "w") as f:
            f.write(f"{AUTH_USER}:{{PLAIN}}{AUTH_PASSWORD}\n")
        os.chmod(f"{directory}/passwd", 0o600)
        try:
            shutil.chown(f"{directory}/passwd", "dovecot")   # its auth process runs as default_internal_user
        except LookupError:
            pass
        with open(f"{directory}/dovecot.conf", "w") as f:
            f.write(f"""base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = {directory}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={directory}
}}
service auth {{
  unix_listener {self.socket} {{
    mode = 0666
  }}
}}
""")
        self.process = None

    def start(self):
        self.process = subprocess.Popen([self.executable, "-F", "-c", f"{self.directory}/dovecot.conf"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(f"{self.directory}/stderr", "w"), start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.socket)
                    return
            except OSError:
                time.sleep(0.1)
        raise SetupError(f"dovecot did not start; see {self.directory}/stderr and dovecot.log")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)   # its own session: the master and its children
            self.process.wait()
        self.process = None

    def cpu(self):
        return tree_cpu(self.process.pid) if self.process else 0.0


def _settings(directory, certificate, sasl_socket, process_limit):
    """main.cf lines both servers share: the domain, Maildir delivery, TLS, AUTH back end, no rate limits."""
    lines = f"""myhostname = bench.example.test
mydomain = example.test
# only the virtual domain: no local delivery, no aliases
mydestination =
queue_directory = {directory}/queue
data_directory = {directory}/data
maillog_file = {directory}/maillog
maillog_file_prefixes = {directory}
virtual_mailbox_domains = example.test
virtual_mailbox_base = {directory}/mail
virtual_mailbox_maps = static:example.test/demo/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_tls_cert_file = {certificate[0]}
smtpd_tls_key_file = {certificate[1]}
smtpd_tls_security_level = may
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
# idle sessions are held for minutes; Postfix would otherwise cut them to 10 s under stress
smtpd_timeout = 1200s
default_process_limit = {process_limit}
"""
    if sasl_socket:
        lines += f"smtpd_sasl_type = dovecot\nsmtpd_sasl_path = {sasl_socket}\n"
    return lines


def _service_lines(ports, smtpd):
    """master.cf lines for the smtp, submission and smtps services present in `ports` (name → port)."""
    authenticated = ("  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n"
                     "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n")
    text = ""
    for name, port in ports.items():
        text += f"127.0.0.1:{port} inet n - n - - {smtpd}\n  -o syslog_name=postfix/{name}\n"
        if name == "submission":
            text += "  -o smtpd_tls_security_level=encrypt\n  -o smtpd_tls_auth_only=yes\n" + authenticated
        elif name == "smtps":
            text += "  -o smtpd_tls_wrappermode=yes\n" + authenticated
    return text


class Server:
    """What the two servers have in common: a directory with a Maildir, ports by service name."""
    name = "server"

    def __init__(self, directory, certificate, services=("smtp",), sasl_socket=None, process_limit=100):
        self.directory = directory
        os.makedirs(directory)
        os.chmod(directory, 0o755)
        os.makedirs(f"{directory}/mail")
        os.chown(f"{directory}/mail", 65534, 65534)
        self.ports = {name: free_port() for name in services}
        self.port = self.ports[services[0]]
        self.maildir = f"{directory}/mail/example.test/demo/new"
        self.settings = _settings(directory, certificate, sasl_socket, process_limit)
        self.pid = None

    def delivered(self):
        try:
            return sum(1 for _ in os.scandir(self.maildir))
        except FileNotFoundError:
            return 0

    def empty_maildir(self):
        try:
            for entry in os.scandir(self.maildir):
                os.unlink(entry.path)
        except FileNotFoundError:
            pass

    def cpu(self):
        return tree_cpu(self.pid)

    def memory(self):
        return tree_memory(self.pid)

    def problems(self):
        return log_problems(f"{self.directory}/maillog")


class Sealpost(Server):
    name = "Sealpost"

    def __init__(self, binary, directory, certificate, **options):
        super().__init__(directory, certificate, **options)
        self.binary = binary
        with open(f"{directory}/main.cf", "w") as f:
            f.write(self.settings + "mail_owner = nobody\ninet_interfaces = loopback-only\n")
        with open(f"{directory}/master.cf", "w") as f:
            f.write(_service_lines(self.ports, "smtpd"))
        self.process = None

    def start(self):
        log = f"{self.directory}/maillog"
        offset = os.path.getsize(log) if os.path.exists(log) else 0
        self.process = subprocess.Popen([self.binary, "run", "-c", self.directory], stdin=subprocess.DEVNULL,
                                        stdout=open(f"{self.directory}/stdout", "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    f.seek(offset)
                    if "daemon started" in f.read():
                        for name, port in self.ports.items():
                            wait_for_banner(port, process=self.process, tls=name == "smtps")
                        self.pid = self.process.pid
                        return
            time.sleep(0.1)
        raise SetupError(f"Sealpost did not start; see {log} and {self.directory}/stdout")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def version(self):
        return subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout.strip()


class Postfix(Server):
    """Debian's Postfix with its own config_directory and queue_directory, started by `postfix -c DIR
    start` (no postmulti), every service unchrooted (Debian's init script, not `postfix start`, fills a
    chroot with the /etc files it needs)."""
    name = "Postfix"

    def __init__(self, directory, certificate, **options):
        super().__init__(directory, certificate, **options)
        self.postfix_command = require("postfix", "postfix")
        self.config = f"{directory}/etc"
        for sub in ("etc", "queue", "data"):
            os.makedirs(f"{directory}/{sub}")
        shutil.chown(f"{directory}/data", "postfix")
        with open(f"{self.config}/main.cf", "w") as f:
            f.write(self.settings + "compatibility_level = 3.7\ninet_interfaces = 127.0.0.1\n"
                    "inet_protocols = ipv4\nalias_maps =\nalias_database =\n")
        prototype = next(p for p in ("/etc/postfix/master.cf.proto", "/usr/share/postfix/master.cf.dist", "/etc/postfix/master.cf")
                         if os.path.exists(p))
        with open(prototype) as f:
            lines = f.read().splitlines()
        with open(f"{self.config}/master.cf", "w") as f:
            for line in lines:
                if re.match(r"#?(smtp|submission|smtps)\s+inet\s", line):
                    continue
                f.write(re.sub(r"^(\S+\s+(?:unix|unix-dgram|inet|fifo|pass)\s+\S+\s+\S+\s+)y(\s)", r"\1n\2", line) + "\n")
            f.write(_service_lines(self.ports, "smtpd"))
        self.postfix("check")
        self.running = False

    def postfix(self, command):
        result = subprocess.run([self.postfix_command, "-c", self.config, command], capture_output=True, text=True)
        if result.returncode != 0:
            tail = ""
            try:
                with open(f"{self.directory}/maillog", errors="replace") as f:
                    tail = "".join(f.readlines()[-5:])
            except OSError:
                pass
            raise SetupError(f"postfix -c {self.config} {command} failed ({result.returncode}): {result.stderr}{tail}")

    def start(self):
        self.postfix("start")
        self.running = True
        for name, port in self.ports.items():
            wait_for_banner(port, tls=name == "smtps")
        with open(f"{self.directory}/queue/pid/master.pid") as f:
            self.pid = int(f.read().split()[0])

    def stop(self):
        if not self.running:
            return
        self.running = False
        try:
            self.postfix("stop")
        except SetupError:
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.pid and os.path.exists(f"/proc/{self.pid}"):
            time.sleep(0.2)
        if self.pid and os.path.exists(f"/proc/{self.pid}"):
            for process in reversed(descendants(self.pid)):
                try:
                    os.kill(process, signal.SIGKILL)
                except OSError:
                    pass

    def smtpd_processes(self):
        """This instance's smtpd processes: children of its master named smtpd."""
        found = []
        for process in descendants(self.pid)[1:]:
            try:
                with open(f"/proc/{process}/comm") as f:
                    if f.read().strip() == "smtpd":
                        found.append(process)
            except OSError:
                pass
        return found

    def smtpd_memory(self):
        return memory_of(self.smtpd_processes())

    def version(self):
        return "Postfix " + subprocess.run(["postconf", "-dh", "mail_version"], capture_output=True, text=True).stdout.strip()
