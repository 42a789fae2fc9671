#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""
--desired-timeout of a real moat-controlplane: a host that does not take
its desired state holds part of the push budget, so its session is ended
(`unexpected`) once the timeout has passed, while a host that reads gets
its desired state and stays.  And the option's usage errors.

  cp-desired-timeout-test.py PATH-TO-moat-controlplane

Every check has a name and prints ok/FAIL; exit 1 when one failed, 77
(skipped) when this kernel's sockets would take more than the push
budget.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentwire as aw  # noqa: E402
import cptest  # noqa: E402
from cptest import check  # noqa: E402

WS = "/v1/workspaces/default"
TIMEOUT = 3
# far longer than the test: no heartbeat deadline (3 intervals) can be
# what ends a session
HEARTBEAT = 60
# 872,378 bytes of text: about the most a desired frame holds (900,000)
RULES = 14000
# the window the slow host offers: the control plane's socket sends next
# to nothing of what it is given
RCVBUF = 4096
# session-push.c's PUSH_BUDGET: no more is on its way to all hosts at once
PUSH_BUDGET = 32 << 20


def socket_takes():
    """
    About the most a loopback TCP socket takes from its writer while the
    peer reads nothing: its send buffer grows up to tcp_wmem's maximum
    (4 MiB by default; 3 MB of it was taken when measured), and the
    peer's 4 KiB receive buffer a little more.  The frames the control
    plane has not handed to its socket by then are what stays on their
    way, whatever one frame's size.
    """
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        return int(f.read().split()[2]) + (1 << 20)


def ruleset():
    lines = ["policy drop"]
    for i in range(RULES):
        lines.append("allow r%05d tcp from 10.%d.%d.0/24 to 192.0.2.%d dport %d"
                     % (i, i >> 8 & 255, i & 255, i % 250 + 1, 1024 + i))
    return "\n".join(lines) + "\n"


def test_usage(cp):
    """Out of range or not a number: exit 2 and the value quoted, before
    anything else happens (the state directory does not exist)."""
    for bad in ("0", "3601", "x", "-1", "5s", ""):
        r = subprocess.run([cp.binary, "--state", "/nonexistent/state",
                            "--desired-timeout", bad],
                           capture_output=True, text=True)
        check("--desired-timeout '%s': exit 2, quoted" % bad,
              r.returncode == 2 and
              "--desired-timeout: expected a number from 1 to 3600: '%s'" % bad in r.stderr,
              "%d %r" % (r.returncode, r.stderr))
    r = subprocess.run([cp.binary, "--help"], capture_output=True, text=True)
    check("--help names --desired-timeout", "--desired-timeout S" in r.stdout, r.stdout[-400:])


def log_since(cp, start):
    with open(os.path.join(cp.state, "cp.log")) as f:
        f.seek(start)
        return f.read()


def next_frame(c, want):
    """The next frame of type @want, past acks and requests in between."""
    for _ in range(10):
        m = c.recv()
        if m.get("type") == want:
            return m
        if m.get("type") not in ("heartbeat_ack", "counters_request"):
            return {"unwanted": m}
    return {}


def drain(c):
    """Every frame left until the end of the stream."""
    out = []
    c.s.settimeout(8)
    try:
        while True:
            out.append(c.recv())
    except (aw.Closed, ValueError):
        pass
    return out


def test_not_taken(cp, tmp):
    tok = cp.token(max_uses=2, labels={"role": "push"})
    slow = aw.Host(cp.addr, cp.cafile, tmp, "slow")
    fast = aw.Host(cp.addr, cp.cafile, tmp, "fast")
    for h in (slow, fast):
        check("enrolled %s" % h.name, h.enroll(tok["token"]).get("type") == "enrolled")
    text = ruleset()
    st, r = cp.api("POST", WS + "/rulesets/big", {"text": text})
    check("ruleset of %d rules, %d bytes: 201" % (RULES, len(text)), st == 201, repr(r)[:300])
    # both say applied_generation, so both are sent desired states; none
    # yet, with no assignment there is no generation
    sc, w = slow.session(rcvbuf=RCVBUF, applied_generation=0)
    check("slow: welcome", w.get("type") == "welcome", repr(w)[:200])
    fc, w = fast.session(applied_generation=0)
    check("fast: welcome", w.get("type") == "welcome", repr(w)[:200])
    logpos = os.path.getsize(os.path.join(cp.state, "cp.log"))

    st, a = cp.api("POST", WS + "/assignments", {"ruleset": "big", "selector": "role=push"})
    check("assignment of the big ruleset: 201", st == 201, repr(a)[:300])
    d = next_frame(fc, "desired")
    rs = d.get("ruleset") or {}
    check("fast: its desired state, the whole text",
          rs.get("name") == "big" and rs.get("text") == text, repr(d)[:200])
    fc.send("applied", generation=d.get("generation", 0), result="ok",
            ruleset_hash=rs.get("sha256", ""), drift=0)
    # One frame is not enough: the slow host's socket takes it whole,
    # and what a socket took counts no more.  Restores send the slow host
    # the same desired state again until its socket is full and the
    # control plane keeps the rest: the deadline runs from the first frame
    # sent since the socket last took everything, somewhere in this burst.
    frames = -(-socket_takes() // len(text)) + 1
    t_push = time.time()
    for _ in range(frames - 1):
        st, _ = cp.api("POST", WS + "/hosts/%s/restore" % slow.host_id)
        if st != 200:
            break
    check("%d restores of the slow host: 200" % (frames - 1), st == 200, st)
    pattern = "host %s: desired generation" % slow.host_id
    while log_since(cp, logpos).count(pattern) < frames and time.time() < t_push + 3:
        time.sleep(0.02)
    t_sent = time.time()
    # a burst well under the timeout, or the checks of when the session
    # ended below would say little (each restore commits an audit record)
    check("%d desired frames sent the slow host, within 2 s" % frames,
          log_since(cp, logpos).count(pattern) == frames and t_sent - t_push < 2,
          "%d in %.2f s" % (log_since(cp, logpos).count(pattern), t_sent - t_push))

    # it heartbeats and never reads: only the desired state's deadline
    # can end it
    why = None
    seq = 0
    while time.time() < t_sent + TIMEOUT + 4:
        why = re.search(r"host %s: unexpected: (\d+) bytes of desired state not taken in (\d+) s"
                        % slow.host_id, log_since(cp, logpos))
        if why:
            break
        seq += 1
        try:
            sc.send("heartbeat", **aw.heartbeat(seq))
        except OSError:
            pass
        time.sleep(0.1)
    t_end = time.time()
    check("the log says why the slow host's session ended", why is not None,
          "nothing %.1f s after the last frame was sent" % (t_end - t_sent))
    print("     %d frames sent in %.2f s; %s bytes on their way; ended %.2f s after"
          " the last was sent" % (frames, t_sent - t_push, why.group(1) if why else "?",
                                  t_end - t_sent), flush=True)
    if why:
        # at least the frame it could not take, the whole text in it
        check("log: the bytes on their way and %d s" % TIMEOUT,
              int(why.group(1)) > len(text) and why.group(2) == str(TIMEOUT), why.group(0))
        check("ended no sooner than %d s after the push began" % TIMEOUT,
              t_end - t_push >= TIMEOUT, "%.2f s" % (t_end - t_push))
        # whole seconds on the deadline, half a second more on the timer,
        # the log read every 0.1 s
        check("ended within %d s after its last frame was sent" % (TIMEOUT + 2),
              t_end - t_sent <= TIMEOUT + 2, "%.2f s" % (t_end - t_sent))
    # before the slow host does anything of its own
    h = cp.host(slow.host_id)
    check("API: slow not connected", h and h.get("connected") is False, repr(h)[:300])
    # reading now: the frames it had been sent, then the error, the end
    got = drain(sc)
    last = got[-1] if got else {}
    said = "%s bytes of desired state not taken in %d s" % (
        why.group(1) if why else r"\d+", TIMEOUT)
    check("slow: told unexpected, what the log says",
          last.get("type") == "error" and last.get("code") == "unexpected" and
          re.fullmatch(said, last.get("msg", "")) is not None, repr(last)[:200])
    check("slow: the %d desired frames came before it" % frames,
          sum(f.get("type") == "desired" for f in got) == frames,
          "%d" % sum(f.get("type") == "desired" for f in got))
    sc.close()
    h = cp.host(fast.host_id)
    check("API: fast still connected", h and h.get("connected") is True, repr(h)[:300])
    fc.send("heartbeat", **aw.heartbeat(1))
    m = next_frame(fc, "heartbeat_ack")
    check("fast: a heartbeat acked after", m.get("seq") == 1, repr(m)[:200])
    fc.close()


def main(cp, tmp):
    test_usage(cp)
    test_not_taken(cp, tmp)


if socket_takes() + (1 << 20) > PUSH_BUDGET:
    print("SKIP: tcp_wmem's maximum lets one socket take the whole push budget (%d bytes):"
          " a host that reads nothing would never hold up a push" % PUSH_BUDGET)
    sys.exit(77)
cptest.run("moat-cp-desired.", main,
           args=["--heartbeat-interval", str(HEARTBEAT),
                 "--desired-timeout", str(TIMEOUT)])
