#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""
Two simulated hosts on the agent channel, for cp-ctl.sh's counters
--refresh: each enrolls, says hello and reports the counters of a ruleset
once, unasked: rule ssh, 1 packet of 60 bytes for "answering", 2 for
"silent".  Then "answering" answers the k-th counters_request with 10*k
packets (60 bytes each) and "silent" never answers.  Both heartbeat
every half second, so that the control plane keeps their sessions.
Prints "NAME HOST-ID" for each, then runs until killed.

  counting-hosts.py HOST PORT CAFILE DIR TOKEN RULESET-SHA256
"""
import os
import select
import ssl
import struct
import sys
import time

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentwire as aw  # noqa: E402


def counters(c, sha, packets):
    c.send("counters", generation=0, ruleset_hash=sha,
           rules=[dict(name="ssh", packets=packets, bytes=60 * packets)])


def frames(c):
    """The whole frames that have come, without blocking."""
    while True:
        try:
            chunk = c.s.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            break
        if not chunk:
            raise aw.Closed("end of stream")
        c.buf += chunk
    out = []
    while len(c.buf) >= 4:
        (n,) = struct.unpack(">I", c.buf[:4])
        if len(c.buf) < 4 + n:
            break
        out.append(msgpack.unpackb(c.buf[4:4 + n], raw=False))
        c.buf = c.buf[4 + n:]
    return out


def main():
    host, port, cafile, tmp, token, sha = sys.argv[1:7]
    hosts = []
    for name, first in (("answering", 1), ("silent", 2)):
        h = aw.Host((host, int(port)), cafile, tmp, name)
        m = h.enroll(token)
        if m.get("type") != "enrolled":
            sys.exit("%s: enroll: %r" % (name, m))
        c = aw.Conn((host, int(port)), cafile, h.certfile, h.keyfile)
        c.send("hello", agent_version="test-0", hostname=name,
               boot_time=1700000000, applied_generation=0)
        m = c.recv()
        if m.get("type") != "welcome":
            sys.exit("%s: hello: %r" % (name, m))
        counters(c, sha, first)
        c.s.setblocking(False)
        hosts.append((name, h, c))
        print(name, h.host_id, flush=True)
    answered, seq, beat = 0, 0, 0.0
    while True:
        if time.monotonic() - beat >= 0.5:
            beat = time.monotonic()
            seq += 1
            for _, _, c in hosts:
                c.send("heartbeat", **aw.heartbeat(seq))
        # a frame may wait in the TLS layer: look again without select
        ready = [c.s for _, _, c in hosts if c.s.pending()]
        if not ready:
            ready, _, _ = select.select([c.s for _, _, c in hosts], [], [], 0.1)
        for name, _, c in hosts:
            if c.s not in ready:
                continue
            for m in frames(c):
                if m.get("type") == "counters_request" and name == "answering":
                    answered += 1
                    counters(c, sha, 10 * answered)


try:
    main()
except (aw.Closed, KeyboardInterrupt, BrokenPipeError):
    pass
