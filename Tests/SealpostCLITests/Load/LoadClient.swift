/// The load generator: one asyncio program (Python 3's standard library only) that keeps many SMTP
/// sessions busy and watches the daemon while it does.
///
/// Session *i* is plaintext on smtp, STARTTLS on smtp, or STARTTLS with AUTH PLAIN on submission
/// (`i % 3`). Each sends messages in a loop, `--reuse` per connection before it says QUIT and
/// connects again, until the deadline; every message carries a unique `X-Token` header, written to
/// `--tokens` once its DATA got a 250. Anything else — another reply, a timeout, a refused or
/// broken connection — is counted as an error by kind. A thread samples the daemon's resident
/// memory (`/proc/PID/status`) every second. The result is one JSON object on standard output.
///
/// Sessions start spread over a ramp (a tenth of the run, at most 20 s), so that a load of
/// thousands does not arrive as a single SYN flood.
enum LoadClient {
    static let script = #"""
        import argparse, asyncio, base64, collections, json, os, ssl, sys, threading, time

        parser = argparse.ArgumentParser()
        parser.add_argument("--smtp", type=int, required=True)
        parser.add_argument("--submission", type=int, required=True)
        parser.add_argument("--sessions", type=int, required=True)
        parser.add_argument("--seconds", type=float, required=True)
        parser.add_argument("--reuse", type=int, default=5)
        parser.add_argument("--cafile", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--recipient", required=True)
        parser.add_argument("--pid", type=int, required=True)
        parser.add_argument("--tokens", required=True)
        parser.add_argument("--prefix", default="load")
        parser.add_argument("--timeout", type=float, default=120)
        args = parser.parse_args()

        MODES = ("plain", "starttls", "auth")
        errors = collections.Counter()
        acknowledged = collections.Counter()
        connections = collections.Counter()
        tokens = open(args.tokens, "w")
        context = ssl.create_default_context(cafile=args.cafile)
        body = ("".join("line %02d of a message sent by the Sealpost load test\r\n" % n for n in range(12))).encode()

        samples = []
        sampling = True
        def rss_kib():
            try:
                with open("/proc/%d/status" % args.pid) as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            return int(line.split()[1])
            except OSError:
                return None
        def sample():
            start = time.monotonic()
            while sampling:
                value = rss_kib()
                if value is not None:
                    samples.append((round(time.monotonic() - start, 1), value))
                time.sleep(1)

        class Refused(Exception):
            pass

        async def reply(reader, expected, step):
            lines = []
            while True:
                line = await asyncio.wait_for(reader.readline(), args.timeout)
                if not line:
                    raise ConnectionError("connection closed at %s" % step)
                lines.append(line)
                if len(line) < 4 or line[3:4] != b"-":
                    break
            code = lines[-1][:3].decode(errors="replace")
            if code != expected:
                raise Refused("%s %s" % (step, code))

        async def command(reader, writer, text, expected, step):
            writer.write(text.encode() + b"\r\n")
            await writer.drain()
            await reply(reader, expected, step)

        async def session(number, start_at, deadline):
            mode = MODES[number % 3]
            port = args.submission if mode == "auth" else args.smtp
            sender = args.user if mode == "auth" else "load@remote.example"
            await asyncio.sleep(max(0, start_at - time.monotonic()))
            count = 0
            while time.monotonic() < deadline:
                writer = None
                try:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), args.timeout)
                    connections[mode] += 1
                    await reply(reader, "220", "greeting")
                    await command(reader, writer, "EHLO load%d.example" % number, "250", "EHLO")
                    if mode != "plain":
                        await command(reader, writer, "STARTTLS", "220", "STARTTLS")
                        await asyncio.wait_for(writer.start_tls(context, server_hostname="mx.example.test"), args.timeout)
                        await command(reader, writer, "EHLO load%d.example" % number, "250", "EHLO after TLS")
                    if mode == "auth":
                        credentials = base64.b64encode(("\0%s\0%s" % (args.user, args.password)).encode()).decode()
                        await command(reader, writer, "AUTH PLAIN " + credentials, "235", "AUTH")
                    for _ in range(args.reuse):
                        if time.monotonic() >= deadline:
                            break
                        token = "%s-%s-%d-%d" % (args.prefix, mode, number, count)
                        count += 1
                        await command(reader, writer, "MAIL FROM:<%s>" % sender, "250", "MAIL")
                        await command(reader, writer, "RCPT TO:<%s>" % args.recipient, "250", "RCPT")
                        await command(reader, writer, "DATA", "354", "DATA")
                        header = "From: <%s>\r\nTo: <%s>\r\nSubject: load %s\r\nX-Token: %s\r\n\r\n" % (sender, args.recipient, token, token)
                        writer.write(header.encode() + body + b".\r\n")
                        await writer.drain()
                        await reply(reader, "250", "end of data")
                        tokens.write(token + "\n")
                        acknowledged[mode] += 1
                    await command(reader, writer, "QUIT", "221", "QUIT")
                except Refused as refusal:
                    errors["reply: %s" % refusal] += 1
                    await asyncio.sleep(0.5)
                except (asyncio.TimeoutError, TimeoutError):
                    errors["timeout"] += 1
                    await asyncio.sleep(0.5)
                except (OSError, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as error:
                    errors["connection: %s" % type(error).__name__] += 1
                    await asyncio.sleep(0.5)
                finally:
                    if writer is not None:
                        writer.close()
                        try:
                            await asyncio.wait_for(writer.wait_closed(), 5)
                        except Exception:
                            pass

        async def main():
            begin = time.monotonic()
            ramp = min(20.0, args.seconds / 10)
            deadline = begin + args.seconds
            await asyncio.gather(*(session(n, begin + ramp * n / args.sessions, deadline) for n in range(args.sessions)))
            return time.monotonic() - begin

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        elapsed = asyncio.run(main())
        sampling = False
        sampler.join()
        tokens.close()
        json.dump({
            "sessions": args.sessions, "seconds": round(elapsed, 1),
            "acknowledged": dict(acknowledged), "connections": dict(connections),
            "errors": dict(errors), "rss_kib": samples,
        }, sys.stdout)
        """#
}
