#!/usr/bin/env python3
"""Hostile and unlucky clients against `isoscope serve`, each with what must still hold.

    http_attack.py SCENARIO --port P --pid PID [--tls CA_FILE] [--auth USER:PASSWORD]

Prints one line of figures per scenario (scrape latencies, the daemon's peak RSS from
/proc/PID/status) and exits 1 with the reason when a check fails. Attackers connect from
127.0.0.2..127.0.0.9 (all loopback) so that the per-client cap does not hit the scrapes, which
come from 127.0.0.1 as Prometheus would come from its own address.
"""
import argparse
import base64
import socket
import ssl
import statistics
import sys
import threading
import time

ARGS = None


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def rss_kb(field):
    for line in open(f"/proc/{ARGS.pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def connect(src="127.0.0.1", timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", ARGS.port))
    if ARGS.tls:
        ctx = ssl.create_default_context(cafile=ARGS.tls)
        s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    return s


def auth_header(credentials=None):
    cred = credentials if credentials is not None else ARGS.auth
    if not cred:
        return b""
    return b"Authorization: Basic " + base64.b64encode(cred.encode()) + b"\r\n"


def request(path, extra=b"", close=True):
    return (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth_header() + extra +
            (b"Connection: close\r\n" if close else b"") + b"\r\n")


def read_all(s, limit=1 << 30):
    out = b""
    try:
        while len(out) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError, ssl.SSLError, OSError):
        pass
    return out


def responses(data):
    """Status codes of the responses in `data` (bodies skipped by Content-Length)."""
    codes = []
    while data.startswith(b"HTTP/1."):
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        codes.append(int(lines[0].split()[1]))
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        data = rest[length:]
    return codes


def scrape(path="/metrics", timeout=5.0):
    """One scrape on a new connection: (status, seconds)."""
    t0 = time.monotonic()
    try:
        s = connect(timeout=timeout)
        s.sendall(request(path))
        data = read_all(s)
        s.close()
        codes = responses(data)
        return (codes[0] if codes else 0), time.monotonic() - t0
    except OSError:
        return 0, time.monotonic() - t0


def scrapes_during(attack, seconds, n_attackers):
    """Runs `attack(stop_event, index)` in n_attackers threads; a scrape every second meanwhile.
    Every scrape must answer 200 within 1 s. Returns the latencies."""
    stop = threading.Event()
    threads = [threading.Thread(target=attack, args=(stop, i), daemon=True)
               for i in range(n_attackers)]
    for t in threads:
        t.start()
    time.sleep(1.5)  # the attack is in place before the first scrape
    lat = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        code, dt = scrape()
        lat.append(dt)
        if code != 200 or dt > 1.0:
            stop.set()
            fail(f"scrape under attack: status {code} after {dt:.3f} s")
        time.sleep(max(0.0, 1.0 - dt))
    stop.set()
    for t in threads:
        t.join(5)
    return lat


def figures(name, lat=None, **extra):
    parts = [name]
    if lat:
        parts.append(f"scrapes={len(lat)} p50_ms={1000 * statistics.median(lat):.1f} "
                     f"max_ms={1000 * max(lat):.1f}")
    parts += [f"{k}={v}" for k, v in extra.items()]
    parts.append(f"peak_rss_mb={rss_kb('VmHWM') / 1024:.1f}")
    print(" ".join(parts), flush=True)


# --- scenarios -------------------------------------------------------------------------------

def slowloris(interval):
    def attack(stop, i):
        src = f"127.0.0.{2 + i % 4}"
        while not stop.is_set():
            try:
                s = connect(src, timeout=10)
                s.sendall(b"GET /metrics HTTP/1.1\r\n")
                while not stop.is_set():
                    time.sleep(interval)
                    s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                time.sleep(0.05)  # cut by the server: reconnect
    lat = scrapes_during(attack, 8, 16)
    figures(f"slowloris_every_{interval}s", lat, attackers=16)


def auth_flood():
    if not ARGS.auth:
        fail("auth_flood needs --auth")
    user = ARGS.auth.split(":")[0]
    bad = (b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth_header(user + ":wrong") +
           b"\r\n")
    code, _ = scrape()  # the right credentials, verified once before the flood
    if code != 200:
        fail(f"scrape with the right credentials: {code}")

    def attack(stop, i):
        src = f"127.0.0.{2 + i % 4}"
        while not stop.is_set():
            try:
                s = connect(src, timeout=5)
                while not stop.is_set():  # keep-alive: ignores Connection: close
                    s.sendall(bad)
                    if not s.recv(4096):
                        break
            except OSError:
                pass
    lat = scrapes_during(attack, 10, 16)
    figures("wrong_password_flood", lat, attackers=16)


def range_amplification():
    ranges = b"bytes=" + b",".join([b"0-"] * 2700)
    req = request("/api/v1/detectors/demo/bundle", b"Range: " + ranges + b"\r\n")
    s = connect()
    s.sendall(req)
    data = read_all(s)
    codes = responses(data)
    if codes != [200]:
        fail(f"Range request: {codes}, expected one 200 with the whole bundle")
    body = data.partition(b"\r\n\r\n")[2]
    if len(body) != ARGS.bundle_size:
        fail(f"Range request: body of {len(body)} bytes, the bundle has {ARGS.bundle_size}")
    before = rss_kb("VmHWM")

    def attack(stop, i):
        while not stop.is_set():
            try:
                a = connect(f"127.0.0.{2 + i}", timeout=10)
                a.sendall(req)
                read_all(a)
                a.close()
            except OSError:
                pass
    lat = scrapes_during(attack, 5, 3)
    grown = (rss_kb("VmHWM") - before) / 1024
    if grown > 64 and not ARGS.no_rss_limits:
        fail(f"peak RSS grew by {grown:.0f} MB under Range requests")
    figures("range_2700", lat, hwm_growth_mb=f"{grown:.1f}")


def header_flood():
    before = rss_kb("VmHWM")
    line = b"X-Big: " + b"a" * 8000 + b"\r\n"
    s = connect(timeout=10)
    sent = 0
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(20000):
            s.sendall(line)
            sent += len(line)
    except OSError:
        pass
    data = read_all(s)
    codes = responses(data)
    if 200 in codes:
        fail(f"{sent} bytes of headers were answered {codes}")
    grown = (rss_kb("VmHWM") - before) / 1024
    if grown > 32 and not ARGS.no_rss_limits:
        fail(f"peak RSS grew by {grown:.0f} MB for one header flood")
    if sent >= 20000 * len(line):
        fail("the server read all 160 MB of headers")
    code, dt = scrape()
    if code != 200:
        fail(f"scrape after the header flood: {code}")
    figures("header_flood", [dt], sent_before_cut_kb=sent // 1024, answer=codes,
            hwm_growth_mb=f"{grown:.1f}")


def protocol():
    # Pipelining: three requests in one write, three answers.
    s = connect()
    s.sendall(request("/healthz", close=False) * 2 + request("/healthz"))
    codes = responses(read_all(s))
    if codes != [200, 200, 200]:
        fail(f"pipelined requests: {codes}")
    # A GET body is refused and the connection closed, in one segment or later.
    smuggled = b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
    for delay in (0, 0.3):
        s = connect()
        s.sendall(request("/metrics", b"Content-Length: %d\r\n" % len(smuggled), close=False))
        time.sleep(delay)
        try:
            s.sendall(smuggled)
        except OSError:
            pass
        codes = responses(read_all(s))
        if codes != [400]:
            fail(f"GET with a body (sent after {delay} s): {codes}, expected [400] only")
    # HTTP/1.1 without Host.
    s = connect()
    s.sendall(b"GET /healthz HTTP/1.1\r\n" + auth_header() + b"\r\n")
    codes = responses(read_all(s))
    if codes != [400]:
        fail(f"HTTP/1.1 without Host: {codes}")
    # nosniff on every answer, a NUL in the path refused.
    for path, want in (("/healthz", 200), ("/nope", 404), ("/index.html%00.js", 400)):
        s = connect()
        s.sendall(request(path))
        data = read_all(s)
        codes = responses(data)
        if codes != [want] or b"X-Content-Type-Options: nosniff" not in data:
            fail(f"{path}: {codes}, nosniff {b'nosniff' in data}")
    figures("protocol", pipelined=3)


def per_client_cap():
    held = []
    for _ in range(8):
        s = connect("127.0.0.9", timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\n")  # an unfinished head holds its slot
        held.append(s)
    time.sleep(0.3)
    s = connect("127.0.0.9", timeout=5)
    s.sendall(request("/healthz"))
    codes = responses(read_all(s))
    if codes != [503]:
        fail(f"the 9th connection of one client: {codes}, expected [503]")
    code, _ = scrape()
    if code != 200:
        fail(f"another client while one is capped: {code}")
    # Seven more clients at their cap: 64 connections asked for, as many as there are
    # workers. The last ones are kept for new clients, so a scrape still answers.
    for src in range(2, 9):
        for _ in range(8):
            s = connect(f"127.0.0.{src}", timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            held.append(s)
    time.sleep(0.3)
    code, dt = scrape()
    if code != 200 or dt > 1.0:
        fail(f"scrape with 64 connections held by 8 clients: {code} after {dt:.3f} s")
    refused = 0
    for h in held:
        h.settimeout(0.05)
        try:
            refused += b" 503 " in h.recv(100)
        except OSError:
            pass
        h.close()
    figures("per_client_cap", [dt], cap=8, held=len(held), refused_503=refused)


def keepalive_latency():
    s = connect()
    lat = []
    for _ in range(20):
        t0 = time.monotonic()
        s.sendall(request("/healthz", close=False))
        data = b""
        while not data.endswith(b"ok\n"):
            chunk = s.recv(4096)
            if not chunk:
                fail("connection closed during keep-alive")
            data += chunk
        lat.append(time.monotonic() - t0)
        if len(lat) % 4 == 0:  # at most 5 requests per connection
            s.close()
            s = connect()
    med = statistics.median(lat)
    if med > 0.01:
        fail(f"keep-alive response median {1000 * med:.1f} ms (Nagle + delayed ACK is ~40)")
    figures("keepalive_latency", lat)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--tls")
    p.add_argument("--auth")
    p.add_argument("--bundle-size", type=int, default=0)
    # ASan keeps freed memory in quarantine (256 MB): peak RSS says nothing there.
    p.add_argument("--no-rss-limits", action="store_true")
    ARGS = p.parse_args()
    {
        "slowloris": lambda: slowloris(2.0),
        "slowloris_fast": lambda: slowloris(0.5),
        "auth_flood": auth_flood,
        "range": range_amplification,
        "header_flood": header_flood,
        "protocol": protocol,
        "per_client_cap": per_client_cap,
        "keepalive_latency": keepalive_latency,
    }[ARGS.scenario]()


if __name__ == "__main__":
    main()
