"""Open many idle SMTP sessions at once and hold them, for memory per session and connections held.

One asyncio loop in the calling process: each session connects, reads the 220 greeting and, for TLS,
sends EHLO, STARTTLS, EHLO; then it sends nothing more. A session counts as held when it got that far
and the server has not closed it by the time `hold` returns.
"""
import asyncio, resource, ssl, time


def raise_open_file_limit(wanted):
    """Raise RLIMIT_NOFILE (soft and, as root, hard) to at least `wanted`; returns the soft limit in effect."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def client_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class SessionError(Exception):
    pass


async def _reply(reader):
    """The final line of one (possibly multi-line) SMTP reply."""
    while True:
        line = await reader.readline()
        if not line:
            raise SessionError("connection closed")
        if line[3:4] != b"-":
            return line


async def _expect(reader, writer, code, command=None):
    if command is not None:
        writer.write(command)
        await writer.drain()
    line = await _reply(reader)
    if not line.startswith(code):
        raise SessionError(f"{command!r}: {line[:100]!r}")


async def _open(port, tls, context, limit, timeout):
    async with limit:
        async def steps():
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                await _expect(reader, writer, b"220")
                if tls:
                    await _expect(reader, writer, b"250", b"EHLO client.example\r\n")
                    await _expect(reader, writer, b"220", b"STARTTLS\r\n")
                    await writer.start_tls(context)
                    await _expect(reader, writer, b"250", b"EHLO client.example\r\n")
            except BaseException:
                writer.close()
                raise
            return reader, writer
        return await asyncio.wait_for(steps(), timeout)


async def _hold(port, count, tls, while_held, settle, parallel, timeout):
    limit, context = asyncio.Semaphore(parallel), client_context() if tls else None
    started = time.monotonic()
    results = await asyncio.gather(*(_open(port, tls, context, limit, timeout) for _ in range(count)),
                                   return_exceptions=True)
    opened = [r for r in results if not isinstance(r, BaseException)]
    errors = {}
    for r in results:
        if isinstance(r, BaseException):
            key = type(r).__name__ + (f": {r}" if str(r) else "")
            errors[key[:120]] = errors.get(key[:120], 0) + 1
    opening = time.monotonic() - started
    await asyncio.sleep(settle)
    reading = while_held()
    await asyncio.sleep(0.2)
    held = sum(1 for reader, writer in opened if not reader.at_eof() and not writer.transport.is_closing())
    for _, writer in opened:
        writer.transport.abort()
    await asyncio.sleep(0.1)
    return dict(attempted=count, opened=len(opened), held=held, errors=errors, opening=opening, reading=reading)


def hold(port, count, tls=False, while_held=lambda: None, settle=3.0, parallel=100, timeout=60.0):
    """Opens `count` sessions on 127.0.0.1:`port`, waits `settle` seconds, calls `while_held()` (its result
    is returned as "reading"), then counts the sessions still open and closes them all.

    At most `parallel` sessions are being opened at a time, so the listen queue never overflows; a session
    not through its greeting (and TLS) within `timeout` seconds counts as failed.
    """
    return asyncio.run(_hold(port, count, tls, while_held, settle, parallel, timeout))
