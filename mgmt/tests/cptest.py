# SPDX-License-Identifier: GPL-2.0-only
"""
What the control plane's Python tests share: named checks that count
failures, and a real moat-controlplane on loopback ports with its
operator API at hand.
"""
import http.client
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

failures = 0


def check(name, ok, detail=""):
    global failures
    print("%s %s%s" % ("ok  " if ok else "FAIL", name,
                       "" if ok or not detail else ": %s" % detail), flush=True)
    if not ok:
        failures += 1
    return ok


def free_port():
    """A loopback port free now, below the kernel's ephemeral range.

    A port from bind(0) is an ephemeral one: between our close() and the
    control plane's bind(), another test's connect() may take it as its
    source port and hold it for as long as its connection lasts (the
    control plane then gives up after 3 s of EADDRINUSE).  No connect()
    picks a port below ip_local_port_range.
    """
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(1000):
        port = random.randrange(10000, low) if low > 10100 else 0
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free loopback port below %d" % low)



class ControlPlane:
    def __init__(self, binary, state, args=()):
        """@args: more options, after (so instead of) the defaults."""
        self.binary, self.state, self.args = binary, state, list(args)
        self.port, self.api_port = free_port(), free_port()
        self.proc = None
        self.log = open(os.path.join(state, "cp.log"), "ab")

    def start(self):
        args = [self.binary, "--state", self.state,
                "--listen", "127.0.0.1:%d" % self.port,
                "--api-listen", "127.0.0.1:%d" % self.api_port,
                "--admin-key-file", os.path.join(self.state, "admin.key"),
                "--heartbeat-interval", "1", "--stale-after", "3",
                "--offline-after", "6", "--host-cert-lifetime", "3600"]
        args += self.args
        if os.geteuid() == 0:
            args += ["--user", "root"]
        logpath = os.path.join(self.state, "cp.log")
        self.log.flush()
        start = os.path.getsize(logpath)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        # ready when it says where it listens: a killed predecessor's
        # socket may still accept for a moment (io_uring's teardown)
        deadline = time.time() + 15
        while time.time() < deadline:
            with open(logpath) as f:
                f.seek(start)
                if "agents on" in f.read():
                    break
            if self.proc.poll() is not None:
                raise RuntimeError("moat-controlplane exited %d" % self.proc.returncode)
            time.sleep(0.05)
        self.cafile = os.path.join(self.state, "ca.crt")
        self.key = open(os.path.join(self.state, "admin.key")).read().strip()

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=15)

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    def api(self, method, path, body=None, key=None):
        ctx = ssl.create_default_context(cafile=self.cafile)
        c = http.client.HTTPSConnection("127.0.0.1", self.api_port, context=ctx,
                                        timeout=10)
        headers = {"Authorization": "Bearer " + (key or self.key)}
        if body is not None:
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=None if body is None else json.dumps(body),
                  headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, (json.loads(data) if data else None)

    def token(self, ws="default", **body):
        st, r = self.api("POST", "/v1/workspaces/%s/tokens" % ws, body)
        if st != 200 and st != 201:
            raise RuntimeError("token create: %d %r" % (st, r))
        return r

    def hosts(self, ws="default"):
        st, r = self.api("GET", "/v1/workspaces/%s/hosts" % ws)
        if isinstance(r, dict) and "hosts" in r:
            r = r["hosts"]
        return r

    def host(self, host_id, ws="default"):
        st, r = self.api("GET", "/v1/workspaces/%s/hosts/%s" % (ws, host_id))
        return r if st == 200 else None

    def audit(self):
        st, r = self.api("GET", "/v1/audit?limit=100000")
        if isinstance(r, dict) and "records" in r:
            r = r["records"]
        return r




def run(prefix, body, args=()):
    """A control plane (with more options @args) in a temporary directory
    for body(cp, tmp); exits 1 when a check failed (or body raised),
    showing the control plane's log."""
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix=prefix)
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    cp = ControlPlane(binary, state, args)
    try:
        cp.start()
        body(cp, tmp)
    except Exception as e:  # noqa: BLE001: say what it was, then fail
        traceback.print_exc()
        check("ran to the end", False, repr(e))
    finally:
        if cp.proc and cp.proc.poll() is None:
            cp.stop(signal.SIGTERM)
        if failures:
            sys.stdout.write(open(os.path.join(state, "cp.log")).read()[-6000:])
        subprocess.run(["rm", "-rf", tmp])
    print("%d failed" % failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__" and sys.argv[1:] == ["--free-port"]:
    print(free_port())
