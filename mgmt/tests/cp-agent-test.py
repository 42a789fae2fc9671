#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""
The agent channel of a real moat-controlplane, from the outside: a real
process on loopback, real TLS, a real SQLite file, and a client written
from docs/protocol.md (agentwire.py).  Tokens good and bad, certificates
of another workspace, removed hosts, broken and stalled frames, restarts
and kills of the control plane, hosts that go quiet.

  cp-agent-test.py PATH-TO-moat-controlplane

Every check has a name and prints ok/FAIL; exit 1 when one failed.
"""
import hashlib
import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentwire as aw  # noqa: E402
import cptest  # noqa: E402
from cptest import ControlPlane, check  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
import datetime  # noqa: E402


def audit_hash(r):
    """docs: "moat-audit-v1\\n", then LEN:BYTES\\n of each field."""
    h = hashlib.sha256(b"moat-audit-v1\n")
    for k in ("seq", "time", "actor", "source", "action", "workspace",
              "target", "result", "detail", "prev"):
        v = r[k]
        b = (str(v) if isinstance(v, int) else v).encode()
        h.update(b"%d:" % len(b) + b + b"\n")
    return h.hexdigest()


def chain_ok(records):
    prev = "0" * 64
    for i, r in enumerate(records):
        if r["seq"] != i + 1 or r["prev"] != prev or audit_hash(r) != r["hash"]:
            return False, "record %d" % r["seq"]
        prev = r["hash"]
    return True, ""


def actions(cp):
    return [(r["action"], r["result"]) for r in cp.audit()]


def expect_error(name, m, code):
    return check(name, m.get("type") == "error" and m.get("code") == code,
                 repr(m)[:300])


def test_enroll(cp, tmp):
    fp = aw.fingerprint(cp.cafile)
    check("ca.crt fingerprint is sha256:64 hex", fp.startswith("sha256:") and len(fp) == 71)
    tok = cp.token(max_uses=2, labels={"role": "web"}, description="two hosts")
    secret = tok["token"]
    check("token secret is moat-tok-...", secret.startswith("moat-tok-"))
    h = aw.Host(cp.addr, cp.cafile, tmp, "web1")
    m = h.enroll(secret)
    check("enroll: enrolled", m["type"] == "enrolled", repr(m)[:200])
    check("enrolled: labels of the token", m.get("labels") == {"role": "web"}, repr(m.get("labels")))
    check("enrolled: heartbeat interval 1", m.get("heartbeat_interval") == 1)
    cert = x509.load_der_x509_certificate(m["cert"])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    check("host certificate SAN moat:host:WS:HOST",
          uris == ["moat:host:%s:%s" % (m["workspace_id"], m["host_id"])], repr(uris))
    ca = x509.load_der_x509_certificate(m["ca"])
    check("host certificate issued by the workspace CA", cert.issuer == ca.subject)
    c, w = h.session()
    check("hello: welcome", w.get("type") == "welcome" and w.get("host_id") == h.host_id, repr(w)[:200])
    for seq in (1, 2, 3):
        c.send("heartbeat", **aw.heartbeat(seq))
        a = c.recv()
        check("heartbeat %d acked" % seq, a.get("type") == "heartbeat_ack" and a.get("seq") == seq)
    got = cp.host(h.host_id)
    check("API: host healthy", got and got.get("state") == "healthy", repr(got)[:300])
    check("API: host connected", got and got.get("connected") is True, repr(got)[:300])
    check("API: host labels", got and got.get("labels") == {"role": "web"}, repr(got)[:300])
    # renew: a new key; the old certificate stays good (previous serial)
    k2 = aw.new_key()
    c.send("renew", csr=aw.csr_der(k2))
    r = c.recv()
    check("renew: renewed", r.get("type") == "renewed", repr(r)[:200])
    new = x509.load_der_x509_certificate(r["cert"])
    check("renewed: new serial", new.serial_number != cert.serial_number)
    c.close()
    c2, w2 = h.session()  # still the old certificate: the previous serial
    check("old certificate still accepted after one renewal", w2.get("type") == "welcome", repr(w2)[:200])
    c2.close()
    old_cert, old_key = h.cert_der, h.key
    h.cert_der, h.key = r["cert"], k2
    h.write_identity()
    c3, w3 = h.session()
    check("new certificate accepted", w3.get("type") == "welcome", repr(w3)[:200])
    k3 = aw.new_key()
    c3.send("renew", csr=aw.csr_der(k3))
    r3 = c3.recv()
    check("second renewal", r3.get("type") == "renewed")
    c3.close()
    h.write_identity(old_cert, old_key)
    c4, e4 = h.session()
    expect_error("a certificate two renewals old is refused", e4, "cert_refused")
    c4.close()
    h.cert_der, h.key = r3["cert"], k3
    h.write_identity()
    # revoking the token stops enrollments, never a host that joined with it
    st, _ = cp.api("DELETE", "/v1/workspaces/default/tokens/%s" % tok["id"])
    check("the host's token revoked", st == 200, st)
    c5, w5 = h.session()
    check("a host whose token was revoked stays in", w5.get("type") == "welcome", repr(w5)[:200])
    c5.close()
    expect_error("its token enrolls nobody else", aw.Host(cp.addr, cp.cafile, tmp, "late").enroll(secret),
                 "token_revoked")
    return h, tok


def test_tokens(cp, tmp):
    before = len(cp.hosts())
    h = aw.Host(cp.addr, cp.cafile, tmp, "bad")
    expect_error("unknown token refused", h.enroll("moat-tok-" + "A" * 43), "token_unknown")
    t = cp.token(ttl=1)
    time.sleep(2.2)
    expect_error("expired token refused", h.enroll(t["token"]), "token_expired")
    t = cp.token()
    st, _ = cp.api("DELETE", "/v1/workspaces/default/tokens/%s" % t["id"])
    check("token revoked by API", st == 200, st)
    expect_error("revoked token refused", h.enroll(t["token"]), "token_revoked")
    t = cp.token(max_uses=1)
    ok = aw.Host(cp.addr, cp.cafile, tmp, "once").enroll(t["token"])
    check("single-use token: first use", ok.get("type") == "enrolled")
    expect_error("single-use token: second use refused", h.enroll(t["token"]), "token_exhausted")
    # the CSR is checked first: the token's state does not matter
    expect_error("a CSR that is not one", enroll_raw(cp, t["token"], b"not a csr"), "bad_csr")
    check("refusals create no host", len(cp.hosts()) == before + 1, "%d vs %d" % (len(cp.hosts()), before + 1))
    acts = actions(cp)
    for why in ("token_unknown", "token_expired", "token_revoked", "token_exhausted"):
        check("audit: enroll.refuse %s" % why,
              any(a == "enroll.refuse" and why in res for a, res in acts), why)
    check("audit: enroll.refuse bad CSR", any(a == "enroll.refuse" and "CSR" in res for a, res in acts))


def enroll_raw(cp, token, csr):
    c = aw.Conn(cp.addr, cp.cafile)
    c.send("enroll", token=token, csr=csr, hostname="x", machine_id="x", agent_version="t")
    m = c.recv()
    c.close()
    return m


def test_other_workspace(cp, tmp, victim):
    st, ws = cp.api("POST", "/v1/workspaces", {"name": "other"})
    check("workspace 'other' created", st in (200, 201), repr(ws)[:200])
    t = cp.token(ws="other")
    o = aw.Host(cp.addr, cp.cafile, tmp, "otherhost")
    check("enroll into 'other'", o.enroll(t["token"]).get("type") == "enrolled")
    c, w = o.session()
    check("a host of 'other' says hello", w.get("type") == "welcome")
    c.close()
    # workspace other's CA signs a certificate that names the victim's
    db = sqlite3.connect(os.path.join(cp.state, "store.db"))
    ca_der, ca_key_pem = db.execute("SELECT ca, ca_key FROM workspaces WHERE name='other'").fetchone()
    db.close()
    ca = x509.load_der_x509_certificate(ca_der)
    ca_key = serialization.load_pem_private_key(bytes(ca_key_pem), None)
    k = aw.new_key()
    now = datetime.datetime.utcnow()
    forged = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, victim.host_id)]))
              .issuer_name(ca.subject).public_key(k.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(hours=1))
              .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(
                  "moat:host:%s:%s" % (victim.ws_id, victim.host_id))]), False)
              .sign(ca_key, hashes.SHA256()))
    f = aw.Host(cp.addr, cp.cafile, tmp, "forged")
    f.key = k
    f.write_identity(forged.public_bytes(serialization.Encoding.DER), k)
    c, e = f.session()
    expect_error("certificate of another workspace refused", e, "cert_refused")
    c.close()
    check("audit: session.refuse of another workspace",
          any(a == "session.refuse" and "another workspace" in res for a, res in actions(cp)))


def test_remove(cp, tmp):
    t = cp.token(max_uses=2)
    h = aw.Host(cp.addr, cp.cafile, tmp, "doomed")
    h.enroll(t["token"])
    c, w = h.session()
    c.send("heartbeat", **aw.heartbeat(1))
    c.recv()
    st, _ = cp.api("DELETE", "/v1/workspaces/default/hosts/%s" % h.host_id)
    check("host removed by API", st == 200, st)
    try:
        m = c.recv()
    except aw.Closed as e:
        m = {"closed": str(e)}
    expect_error("removed host's session ended at once", m, "host_removed")
    c.close()
    c, e = h.session()
    expect_error("removed host cannot come back with its certificate", e, "host_removed")
    c.close()
    got = cp.host(h.host_id)
    check("API: removed host shows removed", got and got.get("state") == "removed", repr(got)[:200])
    old_id = h.host_id
    h.key = aw.new_key()
    m = h.enroll(t["token"])
    check("re-enroll with a new token, same machine: same host id",
          m.get("type") == "enrolled" and m.get("host_id") == old_id, repr(m)[:200])
    c, w = h.session()
    check("re-enrolled host says hello", w.get("type") == "welcome", repr(w)[:200])
    c.close()


class Beater(threading.Thread):
    """A healthy host heartbeating all along: the others' faults must not touch it."""

    def __init__(self, host):
        super().__init__(daemon=True)
        self.host, self.acks, self.errors, self.stop = host, 0, [], False

    def run(self):
        seq = 0
        c = None
        while not self.stop:
            try:
                if c is None:
                    c, w = self.host.session()
                    seq = 0
                seq += 1
                c.send("heartbeat", **aw.heartbeat(seq))
                if c.recv().get("type") == "heartbeat_ack":
                    self.acks += 1
                time.sleep(0.3)
            except Exception as e:  # reconnect, as moatd does
                self.errors.append(str(e))
                if c:
                    c.close()
                c = None
                time.sleep(0.3)
        if c:
            c.close()


def test_bad_frames(cp, tmp, good):
    beat = Beater(good)
    beat.start()
    time.sleep(1)
    cases = [
        ("a zero-length frame", struct.pack(">I", 0), "bad_frame"),
        ("a frame over 1 MiB", struct.pack(">I", (1 << 20) + 1), "bad_frame"),
        ("not msgpack", struct.pack(">I", 3) + b"\xc1\xc1\xc1", "bad_frame"),
        ("not a map", struct.pack(">I", 2) + b"\x92\x01", "bad_frame"),
        ("another version", aw.frame("enroll") .replace(b"\xa1v\x01", b"\xa1v\x02"), "bad_version"),
        ("an unknown type", aw.frame("goodbye"), "bad_frame"),
        ("a required key missing", aw.frame("enroll", token="x"), "bad_frame"),
        ("a key of the wrong type", aw.frame("enroll", token=1, csr=b"x", hostname="h",
                                             machine_id="m", agent_version="v"), "bad_frame"),
        ("a heartbeat without hello", aw.frame("heartbeat", **aw.heartbeat(1)), "unexpected"),
    ]
    for name, data, code in cases:
        c = aw.Conn(cp.addr, cp.cafile)
        c.send_raw(data)
        try:
            m = c.recv()
        except aw.Closed as e:
            m = {"closed": str(e)}
        expect_error("bad frame: %s" % name, m, code)
        check("bad frame: %s: closed" % name, c.closed())
        c.close()
    # bytes after the map: the length says one byte more than the map
    body = aw.msgpack.packb({"v": 1, "type": "hello", "agent_version": "v",
                             "hostname": "h", "boot_time": 1}) + b"\x00"
    c = aw.Conn(cp.addr, cp.cafile)
    c.send_raw(struct.pack(">I", len(body)) + body)
    expect_error("bad frame: bytes after the map", c.recv(), "bad_frame")
    c.close()
    # a truncated frame then the end of the stream
    c = aw.Conn(cp.addr, cp.cafile)
    c.send_raw(aw.frame("enroll", token="x")[:7])
    c.s.shutdown(socket.SHUT_WR)
    check("truncated frame then EOF: closed", c.closed())
    c.close()
    # stalls: nothing at all, and half a frame; both closed near 10 s
    t0 = time.time()
    idle = aw.Conn(cp.addr, cp.cafile, timeout=30)
    half = aw.Conn(cp.addr, cp.cafile, timeout=30)
    half.send_raw(aw.frame("enroll", token="x")[:6])
    m1 = m2 = None
    try:
        m1 = idle.recv()
    except aw.Closed as e:
        m1 = {"closed": str(e)}
    try:
        m2 = half.recv()
    except aw.Closed as e:
        m2 = {"closed": str(e)}
    took = time.time() - t0
    expect_error("a peer that sends nothing is closed", m1, "bad_frame")
    expect_error("a peer that stalls mid-frame is closed", m2, "bad_frame")
    check("stalled peers closed after 10-13 s", 9.5 < took < 13.5, "%.1f s" % took)
    idle.close()
    half.close()
    beat.stop = True
    beat.join()
    check("a healthy host was served all along (acks during the faults)",
          beat.acks >= 25 and not beat.errors, "%d acks, errors %r" % (beat.acks, beat.errors[:3]))


def test_restart(cp, tmp):
    t = cp.token(max_uses=3)
    hs = [aw.Host(cp.addr, cp.cafile, tmp, "r%d" % i) for i in range(3)]
    for h in hs:
        h.enroll(t["token"])
    conns = []
    for h in hs:
        c, w = h.session()
        c.send("heartbeat", **aw.heartbeat(1))
        c.recv()
        conns.append(c)
    n_audit = len(cp.audit())
    rc = cp.stop(signal.SIGTERM)
    check("SIGTERM: control plane exits 0", rc == 0, rc)
    for i, c in enumerate(conns):
        try:
            m = c.recv()
        except aw.Closed as e:
            m = {"closed": str(e)}
        expect_error("SIGTERM: host %d told shutting_down" % i, m, "shutting_down")
        c.close()
    cp.start()
    for h in hs:
        c, w = h.session()
        check("after restart: %s back" % h.name, w.get("type") == "welcome", repr(w)[:200])
        c.send("heartbeat", **aw.heartbeat(1))
        check("after restart: %s heartbeats" % h.name, c.recv().get("type") == "heartbeat_ack")
        conns.append(c)
    check("after restart: audit kept", len(cp.audit()) >= n_audit)
    # kill -9 with hosts connected, then in the middle of enrollments
    n_hosts = len(cp.hosts())
    cp.stop(signal.SIGKILL)
    for c in conns:
        c.close()
    cp.start()
    check("after SIGKILL: every host kept", len(cp.hosts()) == n_hosts)
    for h in hs:
        c, w = h.session()
        check("after SIGKILL: %s back" % h.name, w.get("type") == "welcome")
        c.close()
    ok, why = chain_ok(cp.audit())
    check("after SIGKILL: the audit chain verifies (independent check)", ok, why)


def test_health(cp, tmp):
    t = cp.token()
    h = aw.Host(cp.addr, cp.cafile, tmp, "quiet")
    h.enroll(t["token"])
    check("enrolled, never heard: pending", cp.host(h.host_id).get("state") == "pending")
    c, w = h.session()
    c.send("heartbeat", **aw.heartbeat(1))
    c.recv()
    check("heartbeat: healthy", cp.host(h.host_id).get("state") == "healthy")
    got = cp.host(h.host_id)
    dp = json.dumps(got)
    check("API shows the heartbeat's data plane", "ct_max" in dp and "enforcing" in dp, dp[:300])
    c.close()  # the host is killed
    time.sleep(4.5)
    st = cp.host(h.host_id).get("state")
    check("quiet 4.5 s (stale after 3): stale", st == "stale", st)
    time.sleep(3)
    st = cp.host(h.host_id).get("state")
    check("quiet 7.5 s (offline after 6): offline", st == "offline", st)


def test_audit_offline(cp):
    cp.stop(signal.SIGTERM)
    v = subprocess.run([cp.binary, "--state", cp.state, "audit-verify"],
                       capture_output=True, text=True)
    check("audit-verify: the chain is whole", v.returncode == 0 and "audit chain OK" in v.stdout,
          v.stdout + v.stderr)
    db = sqlite3.connect(os.path.join(cp.state, "store.db"))
    db.execute("UPDATE audit SET result = 'ok' WHERE seq = (SELECT MIN(seq) FROM audit"
               " WHERE result LIKE 'refused%')")
    db.commit()
    db.close()
    v = subprocess.run([cp.binary, "--state", cp.state, "audit-verify"],
                       capture_output=True, text=True)
    check("audit-verify: an edited record is found", v.returncode == 1 and
          "does not match" in v.stderr, v.stdout + v.stderr)


def main(cp, tmp):
    good, _ = test_enroll(cp, tmp)
    test_tokens(cp, tmp)
    test_other_workspace(cp, tmp, good)
    test_remove(cp, tmp)
    test_bad_frames(cp, tmp, good)
    test_health(cp, tmp)
    test_restart(cp, tmp)
    ok, why = chain_ok(cp.audit())
    check("the whole audit chain verifies (independent check)", ok, why)
    test_audit_offline(cp)


cptest.run("moat-cp-test.", main)
