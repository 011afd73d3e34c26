#!/usr/bin/env python3
"""Malformed VICI input against a running ikerd, from raw sockets (no VICI library).

    vici_malformed.py SOCKET [--pid PID] [--answer-limit S] [--rss-growth-limit MIB]

Each case opens its own connection to SOCKET, sends what it is about, and checks what the
daemon does with it against what ikerd's server promises (src/vici/server.rs):

- packet-level faults close the connection without an answer: a segment longer than 512 KiB
  (at once, without waiting for its bytes), a segment that ends early, an empty packet, a
  packet type a client may not send (unknown ones, or the daemon's own), a name cut short, not
  UTF-8 or followed by bytes where none belong;
- message-level faults in a CMD_REQUEST are answered with a CMD_RESPONSE `success = no` and
  an `errmsg` saying where and why, then the connection is closed: unbalanced sections or
  lists, list items outside a list, elements of unknown type, lengths past the end, sections
  nested deeper than the parser allows;
- a well-formed request for a command or event the daemon does not have is answered
  (CMD_UNKNOWN, EVENT_UNKNOWN) and the connection stays open; requests sent together are
  answered in order; a request of the largest size allowed is answered; a client gone before
  its answer harms no one;
- a client that stops inside a segment, or that does not read its answers, is closed after
  the server's 10 s, and holds up no one meanwhile;
- many connections at once are all answered, and the memory of segments that never complete
  goes with their connections.

These are ikerd's promises, stricter than the protocol's: strongSwan's charon 5.9.8 leaves the
connection open after most packet-level faults and answers most malformed messages as if they
were well-formed, so against it most of these cases fail while it keeps answering.

After every case a fresh connection must get an answer to `version` within --answer-limit
seconds (default 2). With --pid, the daemon must still be running at the end and its VmRSS
must not have grown by more than --rss-growth-limit MiB (default 64). Prints PASS or FAIL per
case and exits 1 if any failed, 2 on bad arguments.
"""

import argparse
import random
import select
import socket
import struct
import sys
import time

MAX_SEGMENT = 512 * 1024
# The server's time for a begun segment to complete and for an answer to be taken.
SERVER_TIMEOUT = 10
# How long to wait for the daemon to close a connection it should close at once.
PROMPT = 3

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT = 3, 4, 5, 6, 7
SECTION_START, SECTION_END, KEY_VALUE, LIST_START, LIST_ITEM, LIST_END = 1, 2, 3, 4, 5, 6


def segment(packet):
    return struct.pack("!I", len(packet)) + packet


def named(ty, name, message=b""):
    name = name if isinstance(name, bytes) else name.encode()
    return bytes([ty, len(name)]) + name + message


def request(command, message=b""):
    return segment(named(CMD_REQUEST, command, message))


def kv(key, value):
    return bytes([KEY_VALUE, len(key)]) + key.encode() + struct.pack("!H", len(value)) + value


def section(name, body):
    return bytes([SECTION_START, len(name)]) + name.encode() + body + bytes([SECTION_END])


def root_values(message):
    """The root's key/values of a well-formed message (sections and lists skipped)."""
    values, pos, depth = {}, 0, 0
    while pos < len(message):
        ty = message[pos]
        pos += 1
        if ty in (SECTION_START, KEY_VALUE, LIST_START):
            n = message[pos]
            name = message[pos + 1:pos + 1 + n].decode()
            pos += 1 + n
            if ty == SECTION_START:
                depth += 1
            if ty == KEY_VALUE:
                (n,) = struct.unpack("!H", message[pos:pos + 2])
                if depth == 0:
                    values[name] = message[pos + 2:pos + 2 + n]
                pos += 2 + n
        elif ty == LIST_ITEM:
            (n,) = struct.unpack("!H", message[pos:pos + 2])
            pos += 2 + n
        elif ty == SECTION_END:
            depth -= 1
        elif ty != LIST_END:
            raise ValueError(f"element type {ty} in the daemon's answer")
    return values


def packets(data):
    """The packets in `data`, and the bytes left after the last whole one."""
    out = []
    while len(data) >= 4:
        (n,) = struct.unpack("!I", data[:4])
        if len(data) < 4 + n:
            break
        out.append(data[4:4 + n])
        data = data[4 + n:]
    return out, data


def describe(packet):
    ty = packet[0] if packet else None
    names = ["CMD_REQUEST", "CMD_RESPONSE", "CMD_UNKNOWN", "EVENT_REGISTER",
             "EVENT_UNREGISTER", "EVENT_CONFIRM", "EVENT_UNKNOWN", "EVENT"]
    name = names[ty] if ty is not None and ty < len(names) else f"type {ty}"
    if ty == CMD_RESPONSE:
        try:
            return f"{name} {root_values(packet[1:])}"
        except (ValueError, IndexError, struct.error) as e:
            return f"{name} (unreadable: {e})"
    return name


class Daemon:
    def __init__(self, path, pid, answer_limit):
        self.path = path
        self.pid = pid
        self.answer_limit = answer_limit

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.answer_limit + PROMPT)
        sock.connect(self.path)
        return sock

    def version(self):
        """None if a fresh connection gets `version` answered in time, else why not."""
        start = time.monotonic()
        try:
            with self.connect() as sock:
                sock.sendall(request("version"))
                got, closed = read(sock, self.answer_limit, want=1)
        except OSError as e:
            return f"version request failed: {e}"
        took = time.monotonic() - start
        if not got:
            return f"no answer to version within {self.answer_limit} s (closed: {closed})"
        if got[0][:1] != bytes([CMD_RESPONSE]) or b"daemon" not in got[0]:
            return f"version answered with {describe(got[0])}"
        if took > self.answer_limit:
            return f"version took {took:.2f} s"
        return None

    def status(self):
        """/proc/PID/status as a dict, or None when the process is gone."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        return dict(line.split(":", 1) for line in lines if ":" in line)

    def rss_kib(self):
        status = self.status()
        return None if status is None else int(status["VmRSS"].split()[0])


def read(sock, wait, want=None):
    """The packets the daemon sends within `wait` s (stopping early once `want` came), and
    whether it closed the connection."""
    data, closed = b"", False
    end = time.monotonic() + wait
    while True:
        got, _ = packets(data)
        if want is not None and len(got) >= want:
            return got, False
        left = end - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(1 << 16)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    got, _ = packets(data)
    return got, closed


def send(sock, data, half_close=False):
    """Sends `data`; False when the daemon closed the connection before taking it all."""
    try:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


# --- what the daemon must do --------------------------------------------------------------

def closes(data, half_close=False):
    """The daemon closes the connection without answering."""
    def case(daemon):
        with daemon.connect() as sock:
            send(sock, data, half_close)
            got, closed = read(sock, PROMPT)
        if got:
            return f"answered {[describe(p) for p in got]}"
        if not closed:
            return f"connection still open after {PROMPT} s"
        return None
    return case


def refuses(body, command="version"):
    """The daemon answers the request `command` with `body` as its message with success = no
    and an errmsg, then closes."""
    def case(daemon):
        with daemon.connect() as sock:
            send(sock, request(command, body))
            got, closed = read(sock, PROMPT)
        if len(got) != 1 or got[0][:1] != bytes([CMD_RESPONSE]):
            return f"expected one CMD_RESPONSE, got {[describe(p) for p in got]}"
        values = root_values(got[0][1:])
        if values.get("success") != b"no" or not values.get("errmsg"):
            return f"expected success = no with an errmsg, got {values}"
        if not closed:
            return f"connection still open after the error ({values['errmsg'].decode()})"
        return f"ok: {values['errmsg'].decode()}"
    return case


def answers_and_stays(data, answer):
    """The daemon answers with a packet of type `answer` and keeps the connection: `version`
    on it is answered next."""
    def case(daemon):
        with daemon.connect() as sock:
            send(sock, data)
            got, closed = read(sock, PROMPT, want=1)
            if len(got) != 1 or got[0] != bytes([answer]):
                return f"expected {describe(bytes([answer]))}, got {[describe(p) for p in got]}"
            send(sock, request("version"))
            got, closed = read(sock, PROMPT, want=1)
        if len(got) != 1 or got[0][:1] != bytes([CMD_RESPONSE]):
            return f"version on the same connection: {[describe(p) for p in got]}, closed {closed}"
        return None
    return case


def answers_each(data, count):
    """The daemon answers `count` well-formed requests sent in one write, in order, each with a
    CMD_RESPONSE, and keeps the connection."""
    def case(daemon):
        with daemon.connect() as sock:
            send(sock, data)
            got, closed = read(sock, PROMPT, want=count)
        if len(got) != count or any(p[:1] != bytes([CMD_RESPONSE]) for p in got):
            return f"expected {count} CMD_RESPONSE, got {[describe(p) for p in got]}"
        if closed:
            return "connection closed"
        return None
    return case


def gone_before_the_answer(daemon):
    """Clients that send a request and close at once: the daemon's answers go nowhere, and it
    carries on."""
    for command in ["version", "stats", "list-sas", "list-conns", "get-counters"]:
        for _ in range(20):
            with daemon.connect() as sock:
                send(sock, segment(named(EVENT_REGISTER, "list-conn")) + request(command))
    return None


def largest_request():
    """A `version` request of 512 KiB: thousands of keys the command ignores."""
    room = MAX_SEGMENT - len(named(CMD_REQUEST, "version"))
    items, size, i = [], 0, 0
    while True:
        item = kv(f"k{i:05}", b"v" * 20)
        if size + len(item) + len(kv("z", b"")) > room:
            break
        items.append(item)
        size += len(item)
        i += 1
    filler = room - size
    # A last key whose value fills the segment to the byte.
    items.append(kv("z", b"f" * (filler - len(kv("z", b"")))))
    data = request("version", b"".join(items))
    assert len(data) == 4 + MAX_SEGMENT, len(data)
    return data


def garbage(seed, count):
    """Random bytes, then EOF: the daemon closes each connection (it may answer first, if the
    bytes happen to form a request)."""
    def case(daemon):
        rng = random.Random(seed)
        for i in range(count):
            data = rng.randbytes(rng.choice([1, 3, 7, 64, 1000, 65536]))
            if i % 2:
                # A plausible length, so the packet and message parsers see the bytes too.
                data = struct.pack("!I", len(data)) + data
            with daemon.connect() as sock:
                send(sock, data, half_close=True)
                _, closed = read(sock, PROMPT)
            if not closed:
                return f"blob {i} ({data[:8].hex()}...): connection still open after EOF"
        return None
    return case


def stalled(daemon):
    """Clients stopped inside a length, inside a segment, inside a 512 KiB segment, and one
    that sends requests and never reads: each is closed after the server's 10 s, and
    meanwhile `version` is answered at once, again and again."""
    big = struct.pack("!I", MAX_SEGMENT) + bytes(MAX_SEGMENT // 2)
    stalls = {
        "inside a length": b"\x00\x00",
        "inside a segment": struct.pack("!I", 100) + request("version")[4:] + b"\x03",
        "inside a 512 KiB segment": big,
    }
    socks = {}
    for what, data in stalls.items():
        sock = daemon.connect()
        send(sock, data)
        socks[what] = sock
    deaf = daemon.connect()
    deaf.setblocking(False)
    flood = request("version") * 20000
    sent = 0
    try:
        while sent < len(flood):
            sent += deaf.send(flood[sent:])
    except BlockingIOError:
        pass
    socks["never reading its answers"] = deaf
    start = time.monotonic()
    slow = []
    while time.monotonic() - start < SERVER_TIMEOUT - 1:
        why = daemon.version()
        if why:
            slow.append(f"{time.monotonic() - start:.1f} s in: {why}")
        time.sleep(0.5)
    problems = slow[:1] + ([f"and {len(slow) - 1} more slow answers"] if len(slow) > 1 else [])
    for what, sock in socks.items():
        if not hung_up(sock, start + SERVER_TIMEOUT + 5):
            problems.append(f"the client {what} is still connected after {SERVER_TIMEOUT + 5} s")
        sock.close()
    return "; ".join(problems) or None


def hung_up(sock, until):
    """Whether the daemon closes its end by `until`, seen without reading (reading would take
    the answers a client that never reads leaves unread)."""
    poll = select.poll()
    poll.register(sock, select.POLLRDHUP | select.POLLHUP)
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return False
        for _, events in poll.poll(left * 1000):
            if events & (select.POLLRDHUP | select.POLLHUP | select.POLLERR):
                return True


def many_at_once(count):
    """`count` connections opened together, each sending `version` before any reads: all are
    answered."""
    def case(daemon):
        socks = [daemon.connect() for _ in range(count)]
        try:
            for sock in socks:
                send(sock, request("version"))
            answered = 0
            end = time.monotonic() + 10
            pending = {s: b"" for s in socks}
            while pending and time.monotonic() < end:
                ready, _, _ = select.select(list(pending), [], [], 0.5)
                for sock in ready:
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        del pending[sock]
                        continue
                    pending[sock] += chunk
                    got, _ = packets(pending[sock])
                    if got:
                        answered += got[0][:1] == bytes([CMD_RESPONSE])
                        del pending[sock]
        finally:
            for sock in socks:
                sock.close()
        if answered != count:
            return f"{answered} of {count} answered within 10 s"
        return None
    return case


def big_stalled_crowd(count):
    """`count` connections each stopped 100 bytes short of a 512 KiB segment: a fresh `version`
    is answered meanwhile, and the memory they held goes when they close (the RSS check at the
    end)."""
    def case(daemon):
        socks = []
        try:
            for _ in range(count):
                sock = daemon.connect()
                send(sock, struct.pack("!I", MAX_SEGMENT) + bytes(MAX_SEGMENT - 100))
                socks.append(sock)
            why = daemon.version()
            rss = daemon.rss_kib() if daemon.pid else None
        finally:
            for sock in socks:
                sock.close()
        if why:
            return why
        return f"ok: VmRSS {rss} kB while they waited" if rss else None
    return case


def idle_crowd(count):
    """`count` idle connections held open: a fresh `version` is still answered in time."""
    def case(daemon):
        socks = [daemon.connect() for _ in range(count)]
        try:
            return daemon.version()
        finally:
            for sock in socks:
                sock.close()
    return case


CASES = [
    # Packet layer: the connection is closed, nothing is answered.
    ("length prefix cut short, then EOF", closes(b"\x00\x00", half_close=True)),
    ("segment announcing 512 KiB + 1", closes(struct.pack("!I", MAX_SEGMENT + 1))),
    ("segment announcing 4 GiB - 1", closes(b"\xff\xff\xff\xff")),
    ("segment announcing 512 KiB + 1, its bytes sent",
     closes(struct.pack("!I", MAX_SEGMENT + 1) + bytes(MAX_SEGMENT + 1))),
    ("zero-length segment", closes(segment(b""))),
    ("a hundred zero-length segments", closes(segment(b"") * 100)),
    ("segment shorter than announced, then EOF",
     closes(struct.pack("!I", 100) + request("version")[4:], half_close=True)),
    ("unknown packet type 8", closes(segment(b"\x08\x07version"))),
    ("unknown packet type 255", closes(segment(b"\xff" * 16))),
    ("CMD_RESPONSE from a client", closes(segment(bytes([CMD_RESPONSE])))),
    ("CMD_UNKNOWN from a client", closes(segment(bytes([CMD_UNKNOWN])))),
    ("EVENT_CONFIRM from a client", closes(segment(bytes([EVENT_CONFIRM])))),
    ("EVENT_UNKNOWN from a client", closes(segment(bytes([EVENT_UNKNOWN])))),
    ("EVENT from a client", closes(segment(named(EVENT, "log", kv("msg", b"hi"))))),
    ("CMD_REQUEST without a name length", closes(segment(bytes([CMD_REQUEST])))),
    ("CMD_REQUEST whose name length runs past the end",
     closes(segment(b"\x00\x10version"))),
    ("CMD_REQUEST whose name is not UTF-8", closes(segment(b"\x00\x02\xff\xfe"))),
    ("EVENT_REGISTER with bytes after its name", closes(segment(b"\x03\x03log\x01"))),
    ("EVENT_UNREGISTER whose name length runs past the end", closes(segment(b"\x04\xffx"))),
    # Message layer: answered success = no with an errmsg, then closed.
    ("SECTION_START without SECTION_END", refuses(bytes([SECTION_START, 1]) + b"a")),
    ("SECTION_END without SECTION_START", refuses(bytes([SECTION_END]))),
    ("more SECTION_ENDs than SECTION_STARTs", refuses(section("a", b"") + bytes([SECTION_END]))),
    ("LIST_START without LIST_END", refuses(bytes([LIST_START, 1]) + b"l")),
    ("LIST_END without LIST_START", refuses(bytes([LIST_END]))),
    ("LIST_ITEM outside a list", refuses(bytes([LIST_ITEM, 0, 1]) + b"x")),
    ("a list inside a list",
     refuses(bytes([LIST_START, 1]) + b"l" + bytes([LIST_START, 1]) + b"m" + bytes([6, 6]))),
    ("KEY_VALUE inside a list",
     refuses(bytes([LIST_START, 1]) + b"l" + kv("k", b"v") + bytes([LIST_END]))),
    ("SECTION_START inside a list",
     refuses(bytes([LIST_START, 1]) + b"l" + section("s", b"") + bytes([LIST_END]))),
    ("SECTION_END closing a list", refuses(bytes([LIST_START, 1]) + b"l" + bytes([SECTION_END]))),
    ("element type 0", refuses(b"\x00")),
    ("element type 7", refuses(b"\x07\x01k\x00\x01v")),
    ("element type 255", refuses(b"\xff" * 8)),
    ("KEY_VALUE whose value length runs past the end", refuses(b"\x03\x01k\xff\xffv")),
    ("KEY_VALUE whose name length runs past the end", refuses(b"\x03\x20k")),
    ("KEY_VALUE without a value length", refuses(b"\x03\x01k\x00")),
    ("LIST_ITEM whose length runs past the end",
     refuses(bytes([LIST_START, 1]) + b"l" + b"\x05\x01\x00x" + bytes([LIST_END]))),
    ("element name not UTF-8", refuses(b"\x03\x02\xff\xfe\x00\x00")),
    ("sections nested 5,000 deep, balanced",
     refuses(bytes([SECTION_START, 1]) + b"a" + (bytes([SECTION_START, 1]) + b"a") * 4999
             + bytes([SECTION_END]) * 5000)),
    ("sections nested 100,000 deep, never closed",
     refuses((bytes([SECTION_START, 1]) + b"a") * 100_000)),
    ("load-conn with an unclosed section", refuses(bytes([SECTION_START, 2]) + b"gw",
                                                    command="load-conn")),
    ("initiate with a stray LIST_END", refuses(kv("child", b"net") + bytes([LIST_END]),
                                               command="initiate")),
    # Well-formed, but for nothing the daemon has: answered, and the connection stays.
    ("unknown command", answers_and_stays(request("no-such-command"), CMD_UNKNOWN)),
    ("unknown event", answers_and_stays(segment(named(EVENT_REGISTER, "no-such-event")),
                                        EVENT_UNKNOWN)),
    ("unregistering an event never registered",
     answers_and_stays(segment(named(EVENT_UNREGISTER, "log")), EVENT_UNKNOWN)),
    ("two requests in one write", answers_each(request("version") + request("stats"), 2)),
    ("the largest segment allowed: 512 KiB of keys", answers_each(largest_request(), 1)),
    ("requests from clients gone before the answer", gone_before_the_answer),
    # Garbage.
    ("binary garbage, 40 blobs", garbage(seed=1, count=40)),
    ("binary garbage with plausible lengths, 40 more", garbage(seed=2, count=40)),
    # Clients that stall, and crowds.
    ("clients stalled mid-segment and one never reading", stalled),
    ("300 connections asking version at once", many_at_once(300)),
    ("500 idle connections held open", idle_crowd(500)),
    ("100 connections stopped inside 512 KiB segments", big_stalled_crowd(100)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("socket")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--answer-limit", type=float, default=2.0)
    parser.add_argument("--rss-growth-limit", type=int, default=64)
    args = parser.parse_args()
    daemon = Daemon(args.socket, args.pid, args.answer_limit)
    why = daemon.version()
    if why:
        print(f"FAIL before any case: {why}")
        return 1
    rss_before = daemon.rss_kib() if args.pid else None
    passed = failed = 0
    for name, case in CASES:
        start = time.monotonic()
        try:
            result = case(daemon)
        except OSError as e:
            result = f"{type(e).__name__}: {e}"
        note = None
        if result is not None and result.startswith("ok: "):
            note, result = result[4:], None
        after = daemon.version()
        if after:
            result = f"{result}; then {after}" if result else f"then {after}"
        took = time.monotonic() - start
        if result is None:
            passed += 1
            print(f"PASS {name} ({took:.1f} s){': ' + note if note else ''}", flush=True)
        else:
            failed += 1
            print(f"FAIL {name} ({took:.1f} s): {result}", flush=True)
    if args.pid:
        status = daemon.status()
        if status is None or status.get("State", "").split()[:1] == ["Z"]:
            failed += 1
            print(f"FAIL daemon {args.pid} is gone")
        else:
            rss_after = int(status["VmRSS"].split()[0])
            peak = status.get("VmHWM", "?").strip()
            grown = (rss_after - rss_before) // 1024
            verdict = "PASS" if grown <= args.rss_growth_limit else "FAIL"
            passed += verdict == "PASS"
            failed += verdict == "FAIL"
            print(f"{verdict} daemon {args.pid} alive, VmRSS {rss_before} kB before and "
                  f"{rss_after} kB after (limit +{args.rss_growth_limit} MiB), peak {peak}")
    print(f"vici_malformed: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
