#!/usr/bin/env python3
"""strongSwan's Python VICI client (PyPI package `vici`) against two running ikerd.

    vici_client.py MOON_SOCKET SUN_SOCKET
    vici_client.py --reference CHARON_SOCKET

MOON and SUN must serve these connections (tests/python_root.rs starts them so):

    moon: gw   127.0.0.1 -> 127.0.0.2, PSK, local id h1.example, remote id h2.example,
               child net 198.51.100.1/32 === 198.51.100.2/32
          trap 127.0.0.1 -> 127.0.0.2, child t 198.51.100.1/32 === 203.0.113.0/24, no
               start action
    sun:  gw   the mirror image of moon's gw

and no SA may be up. Through `vici.Session` only, as strongSwan's own Python tools would, it
asks for version and stats, lists the connections, brings gw/net up with `initiate` (iterating
the control-log stream) while a thread listens for ike-updown and child-updown on sun, lists
the SAs on both sides, reads and resets the counters, rekeys the Child SA (listening for
child-rekey), installs and uninstalls a trap, loads and unloads a connection and a shared key,
loads an openssl-made ECDSA key, certificate and CA and lists them, loads and unloads an
authority and a pool, takes the tunnel down with `terminate`, and clears the credentials.

Every answer is checked against the field names and values strongSwan gives; the first
mismatch ends the run with exit status 1 and says what was expected and what came. Needs
openssl.

With --reference the same checks, less those that need a tunnel, run against strongSwan's own
charon (which must have no connections; moon's are loaded over VICI first): so the expectations
are strongSwan's, not merely what ikerd answers.
"""

import hashlib
import importlib.metadata
import os
import platform
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import vici
from vici.exception import CommandException, EventUnknownException, SessionException

# The daemon's name in `version`: ikerd's, or strongSwan's with --reference.
DAEMON = "ikerd"
# Each request must be answered within this time (the initiate and terminate streams too).
SOCKET_TIMEOUT = 30
# The whole run, in case something stalls where a socket timeout does not reach.
RUN_LIMIT = 240


class Mismatch(Exception):
    """An answer that is not what strongSwan's clients expect."""


def expect(condition, what, got=None):
    if not condition:
        raise Mismatch(what if got is None else f"{what}; got {got!r}")


def equal(got, want, what):
    expect(got == want, f"{what}: expected {want!r}", got)


def session(path):
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(SOCKET_TIMEOUT)
    sock.connect(path)
    return vici.Session(sock)


def text(value):
    """A VICI value (bytes) as text."""
    expect(isinstance(value, bytes), "a value is bytes", value)
    return value.decode()


def step(name):
    print(f"-- {name}", flush=True)


def only_section(message, what):
    """The one (name, section) of a message keyed by a name, as list-sa and list-conn are."""
    sections = [(k, v) for k, v in message.items() if isinstance(v, dict)]
    equal(len(sections), 1, f"{what}: sections")
    return sections[0]


class Listener(threading.Thread):
    """Listens for events on its own session and queues them."""

    def __init__(self, path, events):
        super().__init__(daemon=True)
        self.session = session(path)
        self.events = events
        self.queue = queue.Queue()
        self.stop = threading.Event()
        self.registered = threading.Event()
        self.error = None

    def run(self):
        try:
            stream = self.session.listen(self.events, timeout=0.2)
            for name, message in stream:
                self.registered.set()
                if self.stop.is_set():
                    stream.close()
                    break
                if name is not None:
                    self.queue.put((name.decode(), message))
        except Exception as e:  # reported by next()
            self.error = e
            self.registered.set()

    def next(self, limit=10):
        try:
            return self.queue.get(timeout=limit)
        except queue.Empty:
            raise Mismatch(f"no event within {limit} s (listener error: {self.error!r})")


def openssl_pki(dir):
    """A CA and an ECDSA P-256 key and certificate for moon.example it signed, PEM files."""
    script = """set -e
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out caKey.pem
openssl req -x509 -new -key caKey.pem -days 30 -out caCert.pem \
  -subj '/O=ikerd test/CN=ikerd test CA' \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out moonKey.pem
printf 'subjectAltName = DNS:moon.example\\nbasicConstraints = CA:false\\n' > moon.ext
openssl req -new -key moonKey.pem -subj '/O=ikerd test/CN=moon.example' -out moon.csr
openssl x509 -req -in moon.csr -CA caCert.pem -CAkey caKey.pem -CAcreateserial \
  -days 30 -extfile moon.ext -out moonCert.pem
openssl x509 -in moonCert.pem -outform DER -out moonCert.der
openssl x509 -in caCert.pem -outform DER -out caCert.der
openssl pkey -in moonKey.pem -pubout -outform DER -out moonPub.der
"""
    subprocess.run(["sh", "-c", script], cwd=dir, check=True, capture_output=True)

    def read(name):
        with open(os.path.join(dir, name), "rb") as f:
            return f.read()

    return {n: read(n) for n in ["moonKey.pem", "moonCert.pem", "moonCert.der",
                                 "caCert.pem", "caCert.der", "moonPub.der"]}


def check_version(moon):
    step("version")
    v = moon.version()
    equal(list(v.keys()), ["daemon", "version", "sysname", "release", "machine"], "version keys")
    equal(text(v["daemon"]), DAEMON, "version.daemon")
    expect(text(v["version"]).count(".") == 2, "version.version is x.y.z", v["version"])
    uname = platform.uname()
    equal(text(v["sysname"]), uname.system, "version.sysname")
    equal(text(v["release"]), uname.release, "version.release")
    equal(text(v["machine"]), uname.machine, "version.machine")


def check_stats(moon, ike_sas):
    step("stats")
    s = moon.stats()
    for key in ["uptime", "workers", "queues", "scheduled", "ikesas", "plugins"]:
        expect(key in s, f"stats has {key}", list(s.keys()))
    expect(text(s["uptime"]["running"]) != "", "stats.uptime.running is set")
    expect(text(s["uptime"]["since"]) != "", "stats.uptime.since is set")
    for priority in ["critical", "high", "medium", "low"]:
        int(text(s["workers"]["active"][priority]))
        int(text(s["queues"][priority]))
    int(text(s["workers"]["total"]))
    int(text(s["scheduled"]))
    equal(text(s["ikesas"]["total"]), str(ike_sas), "stats.ikesas.total")
    equal(text(s["ikesas"]["half-open"]), "0", "stats.ikesas.half-open")
    expect(isinstance(s["plugins"], list), "stats.plugins is a list", s["plugins"])


def check_list_conns(moon):
    step("list-conns, get-conns")
    conns = {}
    for event in moon.list_conns():
        name, conn = only_section(event, "list-conn")
        conns[name] = conn
    equal(sorted(conns), ["gw", "trap"], "list-conns names")
    gw = conns["gw"]
    equal(gw["local_addrs"], [b"127.0.0.1"], "gw.local_addrs")
    equal(gw["remote_addrs"], [b"127.0.0.2"], "gw.remote_addrs")
    equal(text(gw["version"]), "IKEv2", "gw.version")
    equal(text(gw["local-1"]["class"]), "pre-shared key", "gw.local-1.class")
    equal(text(gw["local-1"]["id"]), "h1.example", "gw.local-1.id")
    equal(text(gw["remote-1"]["id"]), "h2.example", "gw.remote-1.id")
    net = gw["children"]["net"]
    equal(text(net["mode"]), "TUNNEL", "gw.children.net.mode")
    equal(net["local-ts"], [b"198.51.100.1/32"], "gw.children.net.local-ts")
    equal(net["remote-ts"], [b"198.51.100.2/32"], "gw.children.net.remote-ts")
    only = [only_section(e, "list-conn")[0] for e in moon.list_conns({"ike": "trap"})]
    equal(only, ["trap"], "list-conns ike=trap")
    names = [text(n) for n in moon.get_conns()["conns"]]
    equal(sorted(names), ["gw", "trap"], "get-conns.conns")


def list_sas(s, filters=None):
    """{name: section} of the IKE SAs listed."""
    sas = {}
    for event in s.list_sas(filters):
        name, sa = only_section(event, "list-sa")
        sas[name] = sa
    return sas


def only_child(sa, what):
    children = list(sa["child-sas"].items())
    equal(len(children), 1, f"{what}: Child SAs")
    return children[0]


def check_initiate(moon, sun_path):
    step("initiate (control-log streamed) with sun listening for ike-updown and child-updown")
    listener = Listener(sun_path, ["ike-updown", "child-updown"])
    listener.start()
    expect(listener.registered.wait(10), "the listener registered within 10 s")
    logs = list(moon.initiate({"child": "net", "ike": "gw", "timeout": "20000"}))
    expect(len(logs) > 0, "initiate streamed control-log events")
    for log in logs:
        for key in ["group", "level", "msg"]:
            expect(key in log, f"control-log has {key}", log)
        expect(0 <= int(text(log["level"])) <= 1, "control-log level within loglevel 1", log)
    msgs = [text(log["msg"]) for log in logs]
    for m in msgs:
        print(f"   control-log: {m}")
    expect(any(m.startswith("initiating IKE_SA gw[") for m in msgs),
           "control-log says it initiates IKE_SA gw", msgs)
    expect(any(m.startswith("IKE_SA gw[") and " established between 127.0.0.1[h1.example]"
               "...127.0.0.2[h2.example]" in m for m in msgs),
           "control-log says IKE_SA gw is established", msgs)
    expect(any(m.startswith("CHILD_SA net{") and "established with SPIs" in m for m in msgs),
           "control-log says CHILD_SA net is established", msgs)
    named = [log for log in logs if "ikesa-name" in log]
    expect(named, "control-log names the IKE SA", logs)
    equal(text(named[0]["ikesa-name"]), "gw", "control-log ikesa-name")
    int(text(named[0]["ikesa-uniqueid"]))

    name, ike_up = listener.next()
    equal(name, "ike-updown", "first event on sun")
    equal(ike_up.get("up"), b"yes", "ike-updown up")
    gw = ike_up["gw"]
    equal(text(gw["state"]), "ESTABLISHED", "ike-updown gw.state")
    equal(text(gw["local-id"]), "h2.example", "ike-updown gw.local-id")
    equal(text(gw["remote-id"]), "h1.example", "ike-updown gw.remote-id")
    expect("initiator" not in gw, "sun is not the initiator", gw)
    expect("child-sas" not in gw, "ike-updown has no child-sas", gw)
    name, child_up = listener.next()
    equal(name, "child-updown", "second event on sun")
    equal(child_up.get("up"), b"yes", "child-updown up")
    child_name, child = only_child(child_up["gw"], "child-updown")
    expect(child_name.startswith("net-"), "child-updown names net-<uniqueid>", child_name)
    equal(text(child["state"]), "INSTALLED", "child-updown state")
    listener.stop.set()
    listener.join(5)
    expect(not listener.is_alive(), "the listener stopped")
    return text(child["spi-in"])


def check_list_sas(moon, sun, sun_spi_in):
    step("list-sas on both sides")
    m, s = list_sas(moon), list_sas(sun)
    equal(list(m), ["gw"], "moon's IKE SAs")
    equal(list(s), ["gw"], "sun's IKE SAs")
    m, s = m["gw"], s["gw"]
    for sa, who in [(m, "moon"), (s, "sun")]:
        equal(text(sa["version"]), "2", f"{who} gw.version")
        equal(text(sa["state"]), "ESTABLISHED", f"{who} gw.state")
        expect(len(text(sa["initiator-spi"])) == 16, f"{who} initiator-spi is 8 bytes hex", sa)
        for key in ["encr-alg", "prf-alg", "dh-group", "established", "uniqueid"]:
            expect(key in sa, f"{who} gw has {key}", list(sa))
    equal(text(m["local-host"]), "127.0.0.1", "moon gw.local-host")
    equal(text(m["remote-host"]), "127.0.0.2", "moon gw.remote-host")
    equal(m.get("initiator"), b"yes", "moon gw.initiator")
    expect("initiator" not in s, "sun gw has no initiator key", s)
    equal(s["initiator-spi"], m["initiator-spi"], "the IKE SPIs match (initiator)")
    equal(s["responder-spi"], m["responder-spi"], "the IKE SPIs match (responder)")
    _, mc = only_child(m, "moon")
    _, sc = only_child(s, "sun")
    for c, who in [(mc, "moon"), (sc, "sun")]:
        equal(text(c["name"]), "net", f"{who} child name")
        equal(text(c["state"]), "INSTALLED", f"{who} child state")
        equal(text(c["mode"]), "TUNNEL", f"{who} child mode")
        equal(text(c["protocol"]), "ESP", f"{who} child protocol")
        expect(len(text(c["spi-in"])) == 8, f"{who} spi-in is 4 bytes hex", c)
        for key in ["bytes-in", "packets-in", "bytes-out", "packets-out", "install-time"]:
            int(text(c[key]))
    equal(mc["local-ts"], [b"198.51.100.1/32"], "moon child local-ts")
    equal(mc["remote-ts"], [b"198.51.100.2/32"], "moon child remote-ts")
    equal(text(mc["spi-in"]), text(sc["spi-out"]), "moon's inbound SPI is sun's outbound")
    equal(text(mc["spi-out"]), text(sc["spi-in"]), "moon's outbound SPI is sun's inbound")
    equal(text(sc["spi-in"]), sun_spi_in, "sun's inbound SPI as child-updown said")
    equal(list_sas(moon, {"ike": "nope"}), {}, "list-sas ike=nope")
    print(f"   IKE SA {text(m['initiator-spi'])}_i {text(m['responder-spi'])}_r, "
          f"{text(m['encr-alg'])}-{text(m['encr-keysize'])}/{text(m['prf-alg'])}/"
          f"{text(m['dh-group'])}; Child SA moon in {text(mc['spi-in'])} "
          f"out {text(mc['spi-out'])}, sun in {text(sc['spi-in'])} out {text(sc['spi-out'])}")
    return text(mc["spi-in"]), text(mc["spi-out"])


def check_counters(moon):
    step("get-counters, reset-counters")
    c = moon.get_counters({"name": "gw"})["counters"]["gw"]
    equal(text(c["ike-init-out-req"]), "1", "counters gw.ike-init-out-req")
    equal(text(c["ike-init-in-resp"]), "1", "counters gw.ike-init-in-resp")
    equal(text(c["ike-auth-out-req"]), "1", "counters gw.ike-auth-out-req")
    every = moon.get_counters({"all": "yes"})["counters"]
    expect("gw" in every, "get-counters all=yes lists gw", list(every))
    glob = moon.get_counters()["counters"][""]
    int(text(glob["ike-init-out-req"]))
    moon.reset_counters({"name": "gw"})
    # strongSwan forgets a connection's counters when they are reset.
    try:
        after = moon.get_counters({"name": "gw"})
        raise Mismatch(f"gw's counters after a reset: {after}")
    except CommandException as e:
        expect("no counters found" in str(e), "reset gw counters are gone", str(e))


def check_rekey(moon, moon_path, sun, before):
    step("rekey, with moon listening for child-rekey")
    listener = Listener(moon_path, ["child-rekey"])
    listener.start()
    expect(listener.registered.wait(10), "the listener registered within 10 s")
    r = moon.rekey({"child": "net"})
    equal(r.get("success"), b"yes", "rekey success")
    equal(text(r["matches"]), "1", "rekey matches")
    name, rekeyed = listener.next()
    equal(name, "child-rekey", "event on moon")
    pair = rekeyed["gw"]["child-sas"]["net"]
    equal((text(pair["old"]["spi-in"]), text(pair["old"]["spi-out"])), before,
          "child-rekey old SPIs")
    expect(pair["new"]["spi-in"] != pair["old"]["spi-in"], "child-rekey new SPIs", pair)
    equal(text(pair["new"]["name"]), "net", "child-rekey new name")
    listener.stop.set()
    listener.join(5)
    end = time.monotonic() + 10
    while True:
        m, s = list_sas(moon), list_sas(sun)
        if "gw" in m and "gw" in s:
            mine = [c for c in m["gw"]["child-sas"].values() if c["state"] == b"INSTALLED"]
            theirs = [c for c in s["gw"]["child-sas"].values() if c["state"] == b"INSTALLED"]
            if (len(m["gw"]["child-sas"]) == 1 and len(mine) == 1 and len(theirs) == 1
                    and (text(mine[0]["spi-in"]), text(mine[0]["spi-out"])) != before
                    and mine[0]["spi-in"] == theirs[0]["spi-out"]
                    and mine[0]["spi-out"] == theirs[0]["spi-in"]):
                break
        expect(time.monotonic() < end, "a new Child SA pair within 10 s", (m, s))
        time.sleep(0.1)
    try:
        moon.rekey({"child": "nope"})
        raise Mismatch("rekey of child nope succeeded")
    except CommandException:
        pass


def check_traps(moon):
    step("install, list-policies, uninstall")
    equal(list(moon.list_policies({"trap": "yes"})), [], "list-policies before install")
    moon.install({"child": "t", "ike": "trap"})
    policies = list(moon.list_policies({"trap": "yes"}))
    equal(len(policies), 1, "list-policies after install")
    name, policy = only_section(policies[0], "list-policy")
    equal(name, "trap/t", "list-policy name")
    equal(text(policy["mode"]), "TUNNEL", "list-policy mode")
    equal(policy["local-ts"], [b"198.51.100.1/32"], "list-policy local-ts")
    equal(policy["remote-ts"], [b"203.0.113.0/24"], "list-policy remote-ts")
    equal(list(moon.list_policies({"drop": "yes", "pass": "yes"})), [],
          "list-policies drop and pass")
    moon.uninstall({"child": "t"})
    equal(list(moon.list_policies({"trap": "yes"})), [], "list-policies after uninstall")
    try:
        moon.install({"child": "nope"})
        raise Mismatch("install of child nope succeeded")
    except CommandException as e:
        expect("nope" in str(e) or "not found" in str(e), "install nope says why", str(e))


def check_load_conn(moon):
    step("load-shared, get-shared, load-conn, unload-conn, unload-shared")
    moon.load_shared({"id": "py-psk", "type": "IKE", "data": "0sdGVzdA==",
                      "owners": ["h3.example"]})
    keys = [text(k) for k in moon.get_shared()["keys"]]
    expect("py-psk" in keys, "get-shared lists py-psk", keys)
    conn = {"py": {
        "local_addrs": ["127.0.0.1"],
        "remote_addrs": ["127.0.0.3"],
        "proposals": ["aes256gcm16-prfsha384-x25519"],
        "local": {"auth": "psk", "id": "h1.example"},
        "remote": {"auth": "psk", "id": "h3.example"},
        "children": {"pynet": {"local_ts": ["198.51.100.1/32"],
                               "remote_ts": ["198.51.100.3/32"],
                               "esp_proposals": ["aes128gcm16"]}},
    }}
    moon.load_conn(conn)
    names = [text(n) for n in moon.get_conns()["conns"]]
    expect("py" in names, "get-conns lists py", names)
    listed = [only_section(e, "list-conn") for e in moon.list_conns({"ike": "py"})]
    equal([n for n, _ in listed], ["py"], "list-conns ike=py")
    py = listed[0][1]
    equal(py["remote_addrs"], [b"127.0.0.3"], "py.remote_addrs")
    equal(py["children"]["pynet"]["remote-ts"], [b"198.51.100.3/32"], "py child remote-ts")
    try:
        moon.load_conn({"bad": {"local_addrs": ["127.0.0.1"], "rekey_tme": "1h"}})
        raise Mismatch("load-conn with an unknown key succeeded")
    except CommandException as e:
        expect("rekey_tme" in str(e), "load-conn names the unknown key", str(e))
    moon.unload_conn({"name": "py"})
    names = [text(n) for n in moon.get_conns()["conns"]]
    expect("py" not in names, "get-conns no longer lists py", names)
    moon.unload_shared({"id": "py-psk"})
    keys = [text(k) for k in moon.get_shared()["keys"]]
    expect("py-psk" not in keys, "get-shared no longer lists py-psk", keys)
    try:
        moon.unload_conn({"name": "py"})
        raise Mismatch("unloading py twice succeeded")
    except CommandException:
        pass


def check_creds(moon, pki):
    step("load-key, load-cert, list-certs")
    answer = moon.load_key({"type": "ecdsa", "data": pki["moonKey.pem"]})
    # strongSwan's key id: SHA-1 of the public key's subjectPublicKey (the EC point).
    point = pki["moonPub.der"][-65:]
    expect(point[0] == 4, "an uncompressed P-256 point ends the public key", point.hex())
    equal(text(answer["id"]), hashlib.sha1(point).hexdigest(), "load-key id")
    keys = [text(k) for k in moon.get_keys()["keys"]]
    expect(text(answer["id"]) in keys, "get-keys lists the key", keys)
    moon.unload_key({"id": text(answer["id"])})
    equal(moon.get_keys()["keys"], [], "get-keys after unload-key")
    moon.load_key({"type": "ecdsa", "data": pki["moonKey.pem"]})
    moon.load_cert({"type": "X509", "flag": "NONE", "data": pki["moonCert.pem"]})
    moon.load_cert({"type": "X509", "flag": "CA", "data": pki["caCert.pem"]})
    certs = list(moon.list_certs())
    by_flag = {text(c["flag"]): c for c in certs}
    equal(sorted(by_flag), ["CA", "NONE"], "list-certs flags")
    for c in certs:
        equal(text(c["type"]), "X509", "list-cert type")
    equal(by_flag["NONE"]["data"], pki["moonCert.der"], "list-cert data of moon's certificate")
    equal(by_flag["NONE"].get("has_privkey"), b"yes", "moon's certificate has its key")
    equal(by_flag["CA"]["data"], pki["caCert.der"], "list-cert data of the CA")
    expect("has_privkey" not in by_flag["CA"], "the CA has no key here", by_flag["CA"])
    cas = list(moon.list_certs({"type": "X509", "flag": "CA"}))
    equal([c["data"] for c in cas], [pki["caCert.der"]], "list-certs flag=CA")
    subject = list(moon.list_certs({"subject": "O=ikerd test, CN=moon.example"}))
    equal([c["data"] for c in subject], [pki["moonCert.der"]], "list-certs by subject")
    try:
        moon.load_cert({"type": "X509", "flag": "NONE", "data": b"not a certificate"})
        raise Mismatch("load-cert of garbage succeeded")
    except CommandException:
        pass


def check_authorities_and_pools(moon, pki):
    step("load-authority, list-authorities, get-authorities, load-pool, get-pools, unloads")
    moon.load_authority({"test": {"cacert": pki["caCert.pem"]}})
    equal([text(a) for a in moon.get_authorities()["authorities"]], ["test"],
          "get-authorities")
    listed = list(moon.list_authorities())
    equal(len(listed), 1, "list-authorities")
    name, authority = only_section(listed[0], "list-authority")
    equal(name, "test", "list-authority name")
    equal(text(authority["cacert"]), "O=ikerd test, CN=ikerd test CA", "list-authority cacert")
    equal(authority["crl_uris"], [], "list-authority crl_uris")
    moon.unload_authority({"name": "test"})
    equal(moon.get_authorities()["authorities"], [], "get-authorities after unload")
    moon.load_pool({"p": {"addrs": "10.3.0.0/24", "dns": ["192.0.2.53"]}})
    moon.load_pool({"q": {"addrs": "10.4.0.77/24"}})
    pools = moon.get_pools()
    equal(list(pools), ["p", "q"], "get-pools")
    # charon 5.9.8's answers: the address as written, without the network address (when it
    # is the one written) and the broadcast address.
    equal((text(pools["p"]["base"]), text(pools["p"]["size"])), ("10.3.0.0", "254"),
          "get-pools p base and size")
    equal((text(pools["q"]["base"]), text(pools["q"]["size"])), ("10.4.0.77", "178"),
          "get-pools q base and size")
    equal((text(pools["p"]["online"]), text(pools["p"]["offline"])), ("0", "0"),
          "get-pools p leases")
    equal(list(moon.get_pools({"name": "q"})), ["q"], "get-pools name=q")
    moon.unload_pool({"name": "p"})
    moon.unload_pool({"name": "q"})
    equal(dict(moon.get_pools()), {}, "get-pools after unload")
    try:
        moon.unload_pool({"name": "p"})
        raise Mismatch("unloading pool p twice succeeded")
    except CommandException:
        pass


def check_clear_creds(moon):
    step("clear-creds")
    moon.clear_creds()
    equal(moon.get_shared()["keys"], [], "get-shared after clear-creds")
    equal(moon.get_keys()["keys"], [], "get-keys after clear-creds")
    equal(list(moon.list_certs()), [], "list-certs after clear-creds")


def check_terminate(moon, sun, sun_path):
    step("terminate (control-log streamed) with sun listening for ike-updown")
    listener = Listener(sun_path, ["ike-updown", "child-updown"])
    listener.start()
    expect(listener.registered.wait(10), "the listener registered within 10 s")
    logs = list(moon.terminate({"ike": "gw", "timeout": "20000"}))
    msgs = [text(log["msg"]) for log in logs]
    expect(any(m.startswith("deleting IKE_SA gw[") for m in msgs),
           "control-log says it deletes IKE_SA gw", msgs)
    equal(list_sas(moon), {}, "moon's IKE SAs after terminate")
    seen = []
    while True:
        name, message = listener.next()
        seen.append(name)
        if name == "ike-updown":
            expect("up" not in message, "ike-updown of a closed IKE SA has no up", message)
            break
    end = time.monotonic() + 10
    while list_sas(sun):
        expect(time.monotonic() < end, "sun's IKE SA gone within 10 s")
        time.sleep(0.1)
    listener.stop.set()
    listener.join(5)
    try:
        list(moon.terminate({"ike": "gw", "timeout": "2000"}))
        raise Mismatch("terminating gw twice succeeded")
    except CommandException as e:
        expect("no matching SAs" in str(e), "a second terminate finds nothing", str(e))


def check_refusals(moon):
    step("unknown command, unknown event, unknown connection")
    try:
        moon.request("no-such-command")
        raise Mismatch("an unknown command was answered")
    except SessionException as e:
        expect("(CMD_RESPONSE)" in str(e) and "type 2" in str(e),
               "an unknown command is answered CMD_UNKNOWN", str(e))
    try:
        for _ in moon.listen(["no-such-event"], timeout=1):
            break
        raise Mismatch("registering an unknown event succeeded")
    except EventUnknownException:
        pass
    try:
        list(moon.initiate({"child": "nope", "timeout": "5000"}))
        raise Mismatch("initiating child nope succeeded")
    except CommandException:
        pass
    # The session still works after the refusals.
    equal(text(moon.version()["daemon"]), DAEMON, "version after the refusals")


def load_moon(moon):
    """moon's connections, loaded over VICI (into a charon that has none)."""
    def conn(child, remote_ts):
        return {
            "version": "2",
            "local_addrs": ["127.0.0.1"],
            "remote_addrs": ["127.0.0.2"],
            "proposals": ["aes256gcm16-prfsha384-x25519"],
            "local": {"auth": "psk", "id": "h1.example"},
            "remote": {"auth": "psk", "id": "h2.example"},
            "children": {child: {"local_ts": ["198.51.100.1/32"], "remote_ts": [remote_ts]}},
        }
    moon.load_shared({"id": "ike", "type": "IKE", "data": "0x00112233445566778899"})
    moon.load_conn({"gw": conn("net", "198.51.100.2/32")})
    moon.load_conn({"trap": conn("t", "203.0.113.0/24")})


def reference(path):
    """The checks that need no tunnel, against strongSwan's charon."""
    global DAEMON
    DAEMON = "charon"
    moon = session(path)
    with tempfile.TemporaryDirectory() as dir:
        pki = openssl_pki(dir)
    load_moon(moon)
    check_version(moon)
    check_stats(moon, 0)
    check_list_conns(moon)
    check_traps(moon)
    check_load_conn(moon)
    check_creds(moon, pki)
    check_authorities_and_pools(moon, pki)
    check_clear_creds(moon)
    check_refusals(moon)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    moon_path, sun_path = sys.argv[1], sys.argv[2]

    def too_long(*_):
        print(f"FAIL: not done within {RUN_LIMIT} s", file=sys.stderr, flush=True)
        os._exit(1)

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(RUN_LIMIT)
    print(f"vici {importlib.metadata.version('vici')} from {vici.__file__}")
    try:
        if moon_path == "--reference":
            reference(sun_path)
            print("PASS: strongSwan's Python vici client against strongSwan's charon")
            return 0
        moon, sun = session(moon_path), session(sun_path)
        with tempfile.TemporaryDirectory() as dir:
            pki = openssl_pki(dir)
        check_version(moon)
        check_stats(moon, 0)
        check_list_conns(moon)
        equal(list_sas(moon), {}, "no IKE SA before initiate")
        sun_spi_in = check_initiate(moon, sun_path)
        before = check_list_sas(moon, sun, sun_spi_in)
        check_stats(moon, 1)
        check_counters(moon)
        check_rekey(moon, moon_path, sun, before)
        check_traps(moon)
        check_load_conn(moon)
        check_creds(moon, pki)
        check_authorities_and_pools(moon, pki)
        check_terminate(moon, sun, sun_path)
        check_clear_creds(moon)
        check_refusals(moon)
    except Mismatch as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        traceback.print_exc()
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print("PASS: strongSwan's Python vici client against ikerd")
    return 0


if __name__ == "__main__":
    sys.exit(main())
