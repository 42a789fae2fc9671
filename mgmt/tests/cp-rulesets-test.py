#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""
Declared configuration through the operator API of a real
moat-controlplane: rulesets refused with the parser's line:col and
nothing stored, versions and their diffs, assignments by priority,
selector, version, mode and rollout moving the desired generations of
enrolled hosts (simulated with agentwire.py), labels, restore, RBAC
(ruleset:write), fleet counters, and the audit log of all of it.

  cp-rulesets-test.py PATH-TO-moat-controlplane

Hosts' counters arrive over the agent channel; this test writes them
into the store's hosts table as a host's report would leave them, to
check the API's sums without a moatd.  A connected host (agentwire.py)
then gets its desired states pushed and reports applied, drift and
counters back.
"""
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentwire as aw  # noqa: E402
import cptest  # noqa: E402
from cptest import ControlPlane, check  # noqa: E402

WS = "/v1/workspaces/default"
V1 = "policy drop\nallow ssh tcp dport 22\nallow web tcp dport 80,443\n"
V2 = "policy drop\nallow ssh tcp dport 22\nallow web tcp dport 80,443,8080\n"
V3 = V2 + "allow dns udp dport 53\n"
BAD = "policy drop\nallow ssh tcp dport 22\nallow web tcp dport 80,99999\n"
BASE = "policy allow\n"


def rollout_in(assignment_id, host_id, percent):
    """docs/api.md: SHA-256("A/H")'s first 4 bytes, big-endian, mod 100."""
    d = hashlib.sha256(("%s/%s" % (assignment_id, host_id)).encode()).digest()
    return int.from_bytes(d[:4], "big") % 100 < percent


def gens(cp, hosts):
    """Each host's (desired_generation, ruleset name, version, mode, config)."""
    out = {}
    for h in hosts:
        r = cp.host(h.host_id)
        rs = r.get("ruleset") or {}
        out[h.name] = (r["desired_generation"], rs.get("name"), rs.get("version"),
                       rs.get("mode"), r["config"])
    return out


def test_versions(cp):
    st, r = cp.api("POST", WS + "/rulesets/web", {"text": BAD})
    check("a bad ruleset: 400", st == 400, st)
    diags = (r or {}).get("diagnostics", [])
    check("its diagnostics: the parser's NAME:LINE:COL and the bad text",
          any(d.startswith("web:3:24: error: ") and "'99999'" in d for d in diags), repr(r))
    check("its error names the ruleset", "'web'" in (r or {}).get("error", ""), repr(r))
    st, r = cp.api("GET", WS + "/rulesets")
    check("nothing stored: no ruleset", st == 200 and r == [], repr(r))
    st, _ = cp.api("GET", WS + "/rulesets/web")
    check("nothing stored: GET web is 404", st == 404, st)
    st, r = cp.api("POST", WS + "/rulesets/web", {"text": 3})
    check("text not a string: 400 naming the field", st == 400 and "'text'" in r["error"], repr(r))
    st, r = cp.api("POST", WS + "/rulesets/Bad_Name", {"text": V1})
    check("a bad ruleset name: 400", st == 400 and "Bad_Name" in r["error"], repr(r))

    st, r = cp.api("POST", WS + "/rulesets/web", {"text": V1})
    check("version 1: 201", st == 201, repr(r))
    check("version 1: its record", r["name"] == "web" and r["version"] == 1 and r["rules"] == 2
          and r["sha256"] == hashlib.sha256(V1.encode()).hexdigest()
          and r["author"].startswith("key:") and r["text"] == V1, repr(r))
    check("version 1: diff from /dev/null",
          r["diff"].startswith("--- /dev/null\n+++ web@v1\n") and "+allow ssh tcp dport 22\n" in r["diff"],
          r["diff"])
    st, r = cp.api("POST", WS + "/rulesets/web", {"text": V1})
    check("the same text again: 200, version 1, unchanged",
          st == 200 and r["version"] == 1 and r["unchanged"] is True and r["diff"] == "", repr(r))
    st, r = cp.api("POST", WS + "/rulesets/web", {"text": V2})
    check("version 2: 201", st == 201 and r["version"] == 2, repr(r))
    want = ("--- web@v1\n+++ web@v2\n@@ -1,3 +1,3 @@\n policy drop\n allow ssh tcp dport 22\n"
            "-allow web tcp dport 80,443\n+allow web tcp dport 80,443,8080\n")
    check("version 2: the unified diff against version 1", r["diff"] == want, repr(r["diff"]))
    st, r = cp.api("POST", WS + "/rulesets/base", {"text": BASE})
    check("ruleset base: 201", st == 201 and r["rules"] == 0, repr(r))

    st, r = cp.api("GET", WS + "/rulesets")
    check("list: base and web, latest versions, no text",
          st == 200 and [(x["name"], x["version"]) for x in r] == [("base", 1), ("web", 2)]
          and all("text" not in x for x in r), repr(r))
    st, r = cp.api("GET", WS + "/rulesets/web")
    check("show: the latest with its text", st == 200 and r["version"] == 2 and r["text"] == V2, repr(r))
    st, r = cp.api("GET", WS + "/rulesets/web/versions")
    check("versions: 1 and 2, oldest first", st == 200 and [x["version"] for x in r] == [1, 2], repr(r))
    st, r = cp.api("GET", WS + "/rulesets/web/versions/1")
    check("version 1 with its text, no diff unasked",
          st == 200 and r["text"] == V1 and "diff" not in r, repr(r))
    st, r = cp.api("GET", WS + "/rulesets/web/versions/2?diff=1")
    check("version 2 ?diff=1: the same diff", st == 200 and r["diff"] == want, repr(r))
    st, r = cp.api("GET", WS + "/rulesets/web/versions/9")
    check("version 9: 404", st == 404 and "no version 9" in r["error"], repr(r))
    st, r = cp.api("GET", WS + "/rulesets/web/versions/x")
    check("version x: 400", st == 400, repr(r))
    st, r = cp.api("GET", WS + "/rulesets/nope/versions")
    check("versions of no ruleset: 404", st == 404, repr(r))


def test_assignments(cp, web, db):
    everyone = web + db
    g = gens(cp, everyone)
    check("before any assignment: every host unmanaged, generation 0",
          all(v == (0, None, None, None, "unmanaged") for v in g.values()), repr(g))

    for body, what in (({"ruleset": "web", "selector": "role"}, "selector"),
                       ({"ruleset": "web", "mode": "block"}, "mode"),
                       ({"ruleset": "web", "percent": 101}, "percent"),
                       ({"ruleset": "nope"}, "ruleset"),
                       ({"ruleset": "web", "version": 9}, "version"),
                       ({"selector": "role=web"}, "ruleset")):
        st, r = cp.api("POST", WS + "/assignments", body)
        check("assignment with a bad %s: 400 naming it" % what,
              st == 400 and "'%s'" % what in r["error"], repr(r))

    st, a = cp.api("POST", WS + "/assignments",
                   {"ruleset": "web", "selector": "role=web", "priority": 10})
    check("assignment web -> role=web: 201", st == 201 and a["id"].startswith("a")
          and a["version"] == 0 and a["mode"] == "enforce" and a["percent"] == 100
          and a["hosts"] == [], repr(a))
    g = gens(cp, everyone)
    check("web hosts: generation 1, web v2 (latest), pending",
          all(g[h.name] == (1, "web", 2, "enforce", "pending") for h in web), repr(g))
    check("db hosts: still unmanaged", all(g[h.name][0] == 0 for h in db), repr(g))

    st, b = cp.api("POST", WS + "/assignments", {"ruleset": "base", "priority": 100})
    check("assignment base -> every host, priority 100: 201", st == 201, repr(b))
    g = gens(cp, everyone)
    check("db hosts: base (the empty selector matches them)",
          all(g[h.name] == (1, "base", 1, "enforce", "pending") for h in db), repr(g))
    check("web hosts: unchanged, priority 10 wins",
          all(g[h.name][:3] == (1, "web", 2) for h in web), repr(g))
    st, r = cp.api("GET", WS + "/assignments")
    check("list: by priority", st == 200 and [x["id"] for x in r] == [a["id"], b["id"]], repr(r))

    st, _ = cp.api("POST", WS + "/rulesets/web", {"text": V3})
    g = gens(cp, everyone)
    check("web v3: web hosts (on latest) move to generation 2",
          all(g[h.name][:3] == (2, "web", 3) for h in web), repr(g))
    check("web v3: db hosts do not move", all(g[h.name][0] == 1 for h in db), repr(g))

    st, r = cp.api("PUT", WS + "/assignments/" + a["id"],
                   {"ruleset": "web", "version": 1, "selector": "role=web",
                    "priority": 10, "mode": "audit"})
    check("pinned to version 1 in audit mode: 200", st == 200 and r["version"] == 1
          and r["mode"] == "audit", repr(r))
    g = gens(cp, everyone)
    check("web hosts: generation 3, web v1 audit",
          all(g[h.name][:4] == (3, "web", 1, "audit") for h in web), repr(g))
    st, r = cp.api("PUT", WS + "/assignments/axxxxxxxxxx", {"ruleset": "web"})
    check("PUT of no assignment: 404", st == 404, repr(r))

    # labels: db[0] becomes a web host
    st, r = cp.api("PUT", WS + "/hosts/%s/labels" % db[0].host_id, {"labels": {"role": "web"}})
    check("labels set: 200, the host's record",
          st == 200 and r["labels"] == {"role": "web"} and r["desired_generation"] == 2
          and r["ruleset"] == {"name": "web", "version": 1, "mode": "audit"}, repr(r))
    st, r = cp.api("PUT", WS + "/hosts/%s/labels" % db[0].host_id, {"labels": {"role": 1}})
    check("labels not strings: 400", st == 400, repr(r))
    st, r = cp.api("PUT", WS + "/hosts/hnothing1234/labels", {"labels": {}})
    check("labels of no host: 404", st == 404, repr(r))

    # rollout: half of the role=web hosts by hash, one more by name
    web_hosts = web + [db[0]]
    st, r = cp.api("PUT", WS + "/assignments/" + a["id"],
                   {"ruleset": "web", "selector": "role=web", "priority": 10,
                    "percent": 50})
    g = gens(cp, web_hosts)
    want = {h.name: rollout_in(a["id"], h.host_id, 50) for h in web_hosts}
    check("percent 50: the hosts in by hash get web, the others fall through to base",
          all(g[h.name][1] == ("web" if want[h.name] else "base") for h in web_hosts),
          "%r %r" % (g, want))
    out = [h for h in web_hosts if not want[h.name]]
    if out:
        st, r = cp.api("PUT", WS + "/assignments/" + a["id"],
                       {"ruleset": "web", "selector": "role=web", "priority": 10,
                        "percent": 50, "hosts": [out[0].host_id]})
        g = gens(cp, [out[0]])
        check("a host listed by id is in whatever its hash",
              st == 200 and g[out[0].name][1] == "web", repr(g))
    st, r = cp.api("PUT", WS + "/assignments/" + a["id"],
                   {"ruleset": "web", "selector": "role=web", "priority": 10,
                    "percent": 0, "hosts": [web[0].host_id]})
    g = gens(cp, web_hosts)
    check("percent 0 with one host listed: that host alone",
          [h.name for h in web_hosts if g[h.name][1] == "web"] == [web[0].name], repr(g))
    return a, b


def test_rbac(cp, tmp):
    st, k = cp.api("POST", "/v1/keys", {"user": "watcher", "bindings":
                                        [{"workspace": "default", "role": "viewer"}]})
    check("a viewer key", st == 201, repr(k))
    viewer = k["key"]
    st, r = cp.api("POST", WS + "/rulesets/web", {"text": V1}, key=viewer)
    check("viewer pushing a ruleset: 403 naming ruleset:write",
          st == 403 and r.get("missing_permission") == "ruleset:write"
          and "ruleset:write" in r["error"], repr(r))
    st, r = cp.api("POST", WS + "/assignments", {"ruleset": "web"}, key=viewer)
    check("viewer adding an assignment: 403", st == 403, repr(r))
    st, r = cp.api("GET", WS + "/rulesets/web", key=viewer)
    check("viewer reads rulesets (host:read)", st == 200, repr(r))
    st, r = cp.api("GET", WS + "/assignments", key=viewer)
    check("viewer reads assignments", st == 200, repr(r))
    recs = cp.audit()
    check("the denial is in the audit log",
          any(x["action"] == "auth.deny" and x["result"] == "denied: missing ruleset:write"
              and "watcher" in x["actor"] for x in recs), "")
    st, k = cp.api("POST", "/v1/keys", {"user": "ops", "bindings":
                                        [{"workspace": "default", "role": "operator"}]})
    st, r = cp.api("POST", WS + "/rulesets/ops", {"text": BASE}, key=k["key"])
    check("an operator pushes a ruleset", st == 201, repr(r))


def test_counters(cp, web):
    h3 = hashlib.sha256(V3.encode()).hexdigest()
    h1 = hashlib.sha256(V1.encode()).hexdigest()
    rows = [  # (host, ruleset hash, [(rule, packets, bytes)])
        (web[0], h3, [("ssh", 10, 1000), ("web", 5, 500), ("(policy)", 1, 60)]),
        (web[1], h3, [("ssh", 30, 3000), ("web", 0, 0)]),
        (web[2], h1, [("ssh", 20, 2000), ("web", 7, 700)]),
        (web[3], h1, [("ssh", 40, 4000)]),
    ]
    db = sqlite3.connect(os.path.join(cp.state, "store.db"), timeout=10)
    for h, hh, rules in rows:
        js = "[" + ",".join('{"name":"%s","packets":%d,"bytes":%d}' % r for r in rules) + "]"
        db.execute("UPDATE hosts SET counters = ?, counters_gen = 1, counters_hash = ?,"
                   " counters_time = 1700000000 WHERE id = ?", (js, hh, h.host_id))
    db.commit()
    db.close()
    st, r = cp.api("GET", WS + "/rulesets/web/counters")
    check("ruleset counters: 200, 4 hosts (two versions of web)",
          st == 200 and r["ruleset"] == "web" and r["hosts"] == 4, repr(r))
    by = {x["name"]: x for x in r.get("rules", [])}
    check("ssh: 100 packets, 10000 bytes over 4 hosts",
          by.get("ssh", {}).get("packets") == 100 and by["ssh"]["bytes"] == 10000
          and by["ssh"]["hosts"] == 4, repr(by.get("ssh")))
    # the top 3 by packets: 40, 30, 20; the host with 10 is left out
    check("ssh: the top 3 hosts by packets",
          [t["host_id"] for t in by.get("ssh", {}).get("top", [])]
          == [web[3].host_id, web[1].host_id, web[2].host_id], repr(by.get("ssh")))
    check("web: 12 packets", by.get("web", {}).get("packets") == 12, repr(by.get("web")))
    check("actions of the latest version: ssh allow, (policy) drop",
          by.get("ssh", {}).get("action") == "allow" and by["(policy)"]["action"] == "drop",
          repr(by))
    check("rules in the order hosts report them",
          [x["name"] for x in r.get("rules", [])] == ["ssh", "web", "(policy)"], repr(r))
    st, r = cp.api("GET", WS + "/rulesets/base/counters")
    check("base: no host reports it", st == 200 and r["hosts"] == 0 and r["rules"] == [], repr(r))
    st, r = cp.api("GET", WS + "/rulesets/nope/counters")
    check("counters of no ruleset: 404", st == 404, repr(r))
    st, r = cp.api("GET", WS + "/hosts/%s/counters" % web[0].host_id)
    check("host counters: its last report", st == 200 and r["ruleset_hash"] == h3
          and r["rules"][0] == {"name": "ssh", "packets": 10, "bytes": 1000}, repr(r))
    st, r = cp.api("GET", WS + "/hosts/hnothing1234/counters")
    check("counters of no host: 404", st == 404, repr(r))


def test_restore_delete(cp, web, db, a, b):
    st, r = cp.api("POST", WS + "/hosts/%s/restore" % web[0].host_id)
    check("restore a managed host: 200", st == 200 and r["id"] == web[0].host_id, repr(r))
    st, r = cp.api("POST", WS + "/hosts/hnothing1234/restore")
    check("restore of no host: 404", st == 404, repr(r))
    before = gens(cp, web + db)
    st, r = cp.api("DELETE", WS + "/assignments/" + a["id"])
    check("delete assignment: 200", st == 200 and r["deleted"] is True, repr(r))
    g = gens(cp, web + db)
    check("its hosts fall through to base, one generation on",
          all(g[h.name][1] == "base" for h in web + db)
          and all(g[h.name][0] == before[h.name][0] + (before[h.name][1] != "base")
                  for h in web + db), "%r %r" % (before, g))
    st, r = cp.api("DELETE", WS + "/assignments/" + a["id"])
    check("delete it again: 404", st == 404, repr(r))
    st, r = cp.api("DELETE", WS + "/assignments/" + b["id"])
    g = gens(cp, web + db)
    check("no assignment left: desired state none, generation up, still managed",
          all(v[1] is None and v[4] == "pending" for v in g.values()), repr(g))
    st, r = cp.api("GET", WS + "/hosts")
    check("host list: config and generations in each record",
          st == 200 and all({"config", "desired_generation", "applied_generation",
                             "apply_error", "drift", "ruleset"} <= set(x) for x in r), repr(r)[:300])


def test_audit(cp):
    acts = [(x["action"], x["result"]) for x in cp.audit()]
    # the offline check reads the file alone; under ASan a leak or an
    # error makes the exit status non-zero
    rc = cp.stop(signal.SIGTERM)
    check("the control plane exits 0 on SIGTERM", rc == 0, rc)
    for act, res in (("ruleset.version", "ok"), ("ruleset.version", "refused: does not check"),
                     ("assignment.put", "ok"), ("assignment.delete", "ok"),
                     ("host.labels", "ok"), ("host.restore", "ok")):
        check("audit: %s %s" % (act, res), (act, res) in acts)
    v = subprocess.run([cp.binary, "--state", cp.state, "audit-verify"],
                       capture_output=True, text=True)
    check("audit-verify: the chain holds", v.returncode == 0, v.stdout + v.stderr)


def until(c, want):
    """The next frame of type @want, past acks and requests in between."""
    for _ in range(10):
        m = c.recv()
        if m.get("type") == want:
            return m
        if m.get("type") not in ("heartbeat_ack", "counters_request", "desired"):
            return m
    return {}


def wait_for(cp, host_id, pred):
    """The host's record once pred(record) holds (reports are async)."""
    deadline = time.time() + 5
    r = cp.host(host_id)
    while not pred(r) and time.time() < deadline:
        time.sleep(0.05)
        r = cp.host(host_id)
    return r


def test_session(cp, tmp):
    """A connected host gets each new desired state at once; its reports
    (applied, drift, counters) show through the API; restore re-sends."""
    t = cp.token(labels={"role": "live"})
    h = aw.Host(cp.addr, cp.cafile, tmp, "live1")
    h.enroll(t["token"])
    c = aw.Conn(cp.addr, cp.cafile, h.certfile, h.keyfile)
    c.send("hello", agent_version="test-0", hostname="live1", boot_time=1700000000,
           applied_generation=0)
    w = c.recv()
    check("session: welcome", w.get("type") == "welcome", repr(w)[:200])
    # assignment "base" (every host) gave it generation 1 at enrollment
    d = until(c, "desired")
    check("after welcome: desired generation 1 (base), the host being at 0",
          d.get("generation") == 1 and (d.get("ruleset") or {}).get("name") == "base",
          repr(d)[:300])
    st, a = cp.api("POST", WS + "/assignments",
                   {"ruleset": "web", "version": 1, "selector": "role=live", "priority": 1})
    check("session: assignment for the live host", st == 201, repr(a))
    d = until(c, "desired")
    rs = d.get("ruleset") or {}
    check("pushed at once: desired generation 2, web v1, its text and hash",
          d.get("generation") == 2 and rs.get("name") == "web" and rs.get("version") == 1
          and rs.get("text") == V1 and rs.get("sha256") == hashlib.sha256(V1.encode()).hexdigest()
          and rs.get("mode") == "enforce", repr(d)[:300])
    h1 = hashlib.sha256(V1.encode()).hexdigest()
    c.send("applied", generation=2, result="ok", ruleset_hash=h1, drift=0)
    r = wait_for(cp, h.host_id, lambda r: r["config"] == "converged")
    check("applied: converged", r["config"] == "converged" and r["applied_generation"] == 2, repr(r)[:300])
    c.send("counters", generation=2, ruleset_hash=h1,
           rules=[dict(name="ssh", packets=7, bytes=420), dict(name="(policy)", packets=1, bytes=60)])
    r = wait_for(cp, h.host_id, lambda r: cp.api("GET", WS + "/hosts/%s/counters" % h.host_id)[1]["time"] > 0)
    st, k = cp.api("GET", WS + "/hosts/%s/counters" % h.host_id)
    check("counters reported: the host's counters",
          st == 200 and k["rules"][0] == {"name": "ssh", "packets": 7, "bytes": 420}, repr(k))
    c.send("applied", generation=2, result="ok", ruleset_hash="ab" * 32, drift=1)
    r = wait_for(cp, h.host_id, lambda r: r["config"] == "drift")
    check("a local change: drift", r["config"] == "drift" and r["drift"] is True, repr(r)[:300])
    st, _ = cp.api("POST", WS + "/hosts/%s/restore" % h.host_id)
    d = until(c, "desired")
    check("restore: the same generation sent again", st == 200 and d.get("generation") == 2, repr(d)[:200])
    c.send("applied", generation=2, result="ok", ruleset_hash=h1, drift=0)
    r = wait_for(cp, h.host_id, lambda r: r["config"] == "converged")
    check("restored: converged, no drift", r["config"] == "converged" and r["drift"] is False, repr(r)[:300])
    cp.api("DELETE", WS + "/assignments/" + a["id"])
    d = until(c, "desired")
    check("assignment gone: generation 3, back to base",
          d.get("generation") == 3 and (d.get("ruleset") or {}).get("name") == "base",
          repr(d)[:200])
    c.close()


def frames_until(c, want, beat):
    """The next frame of type @want; heartbeats keep the session alive
    (the control plane closes one silent for 3 intervals)."""
    for _ in range(20):
        c.send("heartbeat", **aw.heartbeat(beat()))
        m = c.recv()
        if m.get("type") == want:
            return m
        if m.get("type") not in ("heartbeat_ack", "desired"):
            return m
    return {}


def test_refresh(cp, tmp, web):
    """Refresh: hosts asked at once, the answers in the next reads; one
    that does not answer stays pending; a read asks nothing."""
    h1 = hashlib.sha256(V1.encode()).hexdigest()
    t = cp.token(max_uses=2, labels={"role": "fresh"})
    hosts, conns = [], []
    seq = iter(range(1, 1000))
    beat = lambda: next(seq)  # noqa: E731
    for name in ("fresh1", "fresh2"):
        h = aw.Host(cp.addr, cp.cafile, tmp, name)
        h.enroll(t["token"])
        c = aw.Conn(cp.addr, cp.cafile, h.certfile, h.keyfile)
        c.send("hello", agent_version="test-0", hostname=name, boot_time=1700000000,
               applied_generation=0)
        check("refresh: %s welcomed" % name, c.recv().get("type") == "welcome")
        hosts.append(h)
        conns.append(c)
    # ids in order, as the store lists hosts
    (f1, c1), (f2, c2) = sorted(zip(hosts, conns), key=lambda x: x[0].host_id)
    for c, n in ((c1, 1), (c2, 2)):
        c.send("counters", generation=0, ruleset_hash=h1,
               rules=[dict(name="ssh", packets=n, bytes=60 * n)])

    def reports():
        st, r = cp.api("GET", WS + "/rulesets/web/counters")
        return r, {x["host_id"]: x for x in r.get("reports", [])}

    deadline = time.time() + 5
    r, rep = reports()
    while not (f1.host_id in rep and f2.host_id in rep) and time.time() < deadline:
        time.sleep(0.05)
        r, rep = reports()
    # the 4 web hosts of test_counters (their rows written into the
    # store, never connected), live1 of test_session (gone, its last
    # report of web v1 kept) and the two fresh ones: ssh 100 + 7 + 1 + 2
    check("unasked reports: 7 hosts, ssh 110 packets", r["hosts"] == 7
          and {x["name"]: x["packets"] for x in r["rules"]}.get("ssh") == 110, repr(r)[:400])
    away = sorted(x for x in rep if x not in (f1.host_id, f2.host_id))
    check("unasked reports: connected, not pending, a time",
          all(rep[h.host_id]["connected"] and not rep[h.host_id]["pending"]
              and rep[h.host_id]["time"] > 1700000000 for h in (f1, f2)), repr(rep))
    check("the stored hosts: away, not pending, their time",
          all(rep[h.host_id] == {"host_id": h.host_id, "time": 1700000000,
                                 "connected": False, "pending": False} for h in web), repr(rep))

    before = len(cp.audit())
    st, q = cp.api("POST", WS + "/rulesets/web/counters/refresh")
    check("refresh: 200, the connected hosts asked, the others away",
          st == 200 and q["ruleset"] == "web" and q["asked"] == [f1.host_id, f2.host_id]
          and q["away"] == away and len(away) == 5
          and abs(q["time"] - time.time()) < 5, repr(q))
    for c, name in ((c1, "fresh1"), (c2, "fresh2")):
        m = frames_until(c, "counters_request", beat)
        check("refresh: %s got counters_request" % name,
              m.get("type") == "counters_request", repr(m)[:200])
    r, rep = reports()
    check("asked, not answered: both pending, the old sums",
          rep[f1.host_id]["pending"] and rep[f2.host_id]["pending"]
          and {x["name"]: x["packets"] for x in r["rules"]}["ssh"] == 110, repr(rep))

    # fresh1 answers; fresh2 never does
    c1.send("counters", generation=0, ruleset_hash=h1,
            rules=[dict(name="ssh", packets=11, bytes=660), dict(name="web", packets=4, bytes=240)])
    deadline = time.time() + 5
    while rep[f1.host_id]["pending"] and time.time() < deadline:
        time.sleep(0.05)
        r, rep = reports()
    by = {x["name"]: x for x in r["rules"]}
    # ssh: 100 (web hosts) + 7 (live1) + 11 (fresh1's answer) + 2
    # (fresh2's last); web: 12 (web hosts) + 4
    check("answered: fresh1 not pending, its time at or after the request",
          not rep[f1.host_id]["pending"] and rep[f1.host_id]["time"] >= q["time"], repr(rep))
    check("answered: the sums hold the answer (ssh 120, web 16)",
          by["ssh"]["packets"] == 120 and by["ssh"]["bytes"] == 10000 + 420 + 660 + 120
          and by["web"]["packets"] == 16 and by["web"]["bytes"] == 1200 + 240, repr(by))
    check("not answered: fresh2 still pending, its last report kept",
          rep[f2.host_id]["pending"] and rep[f2.host_id]["connected"], repr(rep))
    # a read asks nothing: the next frame fresh1 gets is its heartbeat's ack
    cp.api("GET", WS + "/rulesets/web/counters")
    c1.send("heartbeat", **aw.heartbeat(beat()))
    m = c1.recv()
    check("a read asks nothing: no counters_request after GET",
          m.get("type") == "heartbeat_ack", repr(m)[:200])

    st, q = cp.api("POST", WS + "/hosts/%s/counters/refresh" % f1.host_id)
    check("host refresh: 200, asked", st == 200 and q["host_id"] == f1.host_id
          and q["asked"] == [f1.host_id] and q["away"] == [], repr(q))
    m = frames_until(c1, "counters_request", beat)
    st, k = cp.api("GET", WS + "/hosts/%s/counters" % f1.host_id)
    check("host refresh: pending until it answers", k["pending"] is True
          and k["connected"] is True, repr(k))
    c1.send("counters", generation=0, ruleset_hash=h1, rules=[dict(name="ssh", packets=12, bytes=720)])
    deadline = time.time() + 5
    while k["pending"] and time.time() < deadline:
        time.sleep(0.05)
        st, k = cp.api("GET", WS + "/hosts/%s/counters" % f1.host_id)
    check("host refresh: answered, the new counters",
          k["pending"] is False and k["rules"] == [{"name": "ssh", "packets": 12, "bytes": 720}], repr(k))
    st, q = cp.api("POST", WS + "/hosts/%s/counters/refresh" % web[0].host_id)
    check("host refresh of a host away: 200, away", st == 200 and q["asked"] == []
          and q["away"] == [web[0].host_id], repr(q))
    st, r = cp.api("POST", WS + "/hosts/hnothing1234/counters/refresh")
    check("refresh of no host: 404", st == 404, repr(r))
    st, r = cp.api("POST", WS + "/rulesets/nope/counters/refresh")
    check("refresh of no ruleset: 404", st == 404, repr(r))
    st, r = cp.api("GET", WS + "/rulesets/web/counters/refresh")
    check("refresh by GET: 405", st == 405, repr(r))
    st, k = cp.api("POST", "/v1/keys", {"user": "reader", "bindings":
                                        [{"workspace": "default", "role": "viewer"}]})
    st, q = cp.api("POST", WS + "/rulesets/web/counters/refresh", key=k["key"])
    check("a viewer refreshes (host:read)", st == 200 and len(q["asked"]) == 2, repr(q))
    st, _ = cp.api("PUT", WS + "/roles/tokens-only", {"permissions": ["token:read"]})
    st, k = cp.api("POST", "/v1/keys", {"user": "tokens", "bindings":
                                        [{"workspace": "default", "role": "tokens-only"}]})
    st, q = cp.api("POST", WS + "/rulesets/web/counters/refresh", key=k["key"])
    check("without host:read: 403", st == 403 and q["missing_permission"] == "host:read", repr(q))
    # role.put, key.create x2, and the denial: no record of the refreshes
    acts = [x["action"] for x in cp.audit()[before:]]
    check("refreshes are not audited", acts == ["key.create", "role.put", "key.create", "auth.deny"],
          repr(acts))
    for c in (c1, c2):
        c.close()


def main(cp, tmp):
    web, db = [], []
    for role, n, out in (("web", 4, web), ("db", 2, db)):
        t = cp.token(max_uses=n, labels={"role": role})
        for i in range(n):
            h = aw.Host(cp.addr, cp.cafile, tmp, "%s%d" % (role, i))
            m = h.enroll(t["token"])
            check("enrolled %s" % h.name, m["type"] == "enrolled", repr(m)[:200])
            out.append(h)
    test_versions(cp)
    a, b = test_assignments(cp, web, db)
    test_rbac(cp, tmp)
    test_counters(cp, web)
    test_session(cp, tmp)
    test_refresh(cp, tmp, web)
    test_restore_delete(cp, web, db, a, b)
    test_audit(cp)


cptest.run("moat-cp-rulesets.", main)
