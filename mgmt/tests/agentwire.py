# SPDX-License-Identifier: GPL-2.0-only
"""
An agent-channel client written from docs/protocol.md alone, in another
language than moatd on purpose: if the document is not enough to write
one, this file is where it shows.  Used by cp-agent-test.py.
"""
import datetime
import socket
import ssl
import struct

import msgpack
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VERSION = 1
MAX_FRAME = 1 << 20


class Closed(Exception):
    """The server closed the connection (after an error frame, maybe)."""


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def csr_der(key, cn="moat-test"):
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.DER)


def fingerprint(cert_pem_path):
    cert = x509.load_pem_x509_certificate(open(cert_pem_path, "rb").read())
    return "sha256:" + cert.fingerprint(hashes.SHA256()).hex()


def frame(msg_type, **keys):
    body = {"v": VERSION, "type": msg_type}
    body.update(keys)
    payload = msgpack.packb(body, use_bin_type=True)
    return struct.pack(">I", len(payload)) + payload


class Conn:
    """One TLS 1.3 connection to the agent channel."""

    def __init__(self, addr, cafile, cert=None, key=None, timeout=15,
                 rcvbuf=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(cafile)
        ctx.check_hostname = True
        if cert is not None:
            ctx.load_cert_chain(cert, key)
        if rcvbuf is None:
            raw = socket.create_connection(addr, timeout=timeout)
        else:
            # before connect: the window it offers is set at the SYN
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            raw.settimeout(timeout)
            raw.connect(addr)
        self.s = ctx.wrap_socket(raw, server_hostname=addr[0])
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, msg_type, **keys):
        self.send_raw(frame(msg_type, **keys))

    def _read(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.s.recv(65536)
            except (ssl.SSLError, ConnectionResetError, OSError) as e:
                raise Closed(str(e))
            if not chunk:
                raise Closed("end of stream")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        (n,) = struct.unpack(">I", self._read(4))
        if n == 0 or n > MAX_FRAME:
            raise ValueError("server sent a frame of %d bytes" % n)
        m = msgpack.unpackb(self._read(n), raw=False)
        if m.get("v") != VERSION or not isinstance(m.get("type"), str):
            raise ValueError("server sent %r" % m)
        return m

    def closed(self):
        """True once the server has closed its side."""
        try:
            return self.s.recv(1) == b""
        except (ssl.SSLError, ConnectionResetError, OSError, socket.timeout):
            return True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Host:
    """A simulated host: its key, its identity once enrolled."""

    def __init__(self, addr, cafile, tmpdir, name, machine_id=None):
        self.addr, self.cafile, self.dir, self.name = addr, cafile, tmpdir, name
        self.machine_id = machine_id or name.encode().hex().ljust(32, "0")[:32]
        self.key = new_key()
        self.host_id = self.ws_id = None
        self.cert_der = None

    def enroll(self, token):
        """enroll on an anonymous connection: the answer, whatever it is."""
        c = Conn(self.addr, self.cafile)
        try:
            c.send("enroll", token=token, csr=csr_der(self.key),
                   hostname=self.name, machine_id=self.machine_id,
                   agent_version="test-0")
            m = c.recv()
        finally:
            c.close()
        if m["type"] == "enrolled":
            self.host_id, self.ws_id = m["host_id"], m["workspace_id"]
            self.cert_der = m["cert"]
            self.write_identity()
        return m

    def write_identity(self, cert_der=None, key=None):
        cert = x509.load_der_x509_certificate(cert_der or self.cert_der)
        key = key or self.key
        self.certfile = "%s/%s.crt" % (self.dir, self.name)
        self.keyfile = "%s/%s.key" % (self.dir, self.name)
        open(self.certfile, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
        open(self.keyfile, "wb").write(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    def session(self, rcvbuf=None, **hello):
        """An mTLS connection that has said hello: (conn, welcome or error).
        @hello: more keys of hello (applied_generation); @rcvbuf: the
        socket's SO_RCVBUF."""
        c = Conn(self.addr, self.cafile, self.certfile, self.keyfile,
                 rcvbuf=rcvbuf)
        c.send("hello", agent_version="test-0", hostname=self.name,
               boot_time=1700000000, **hello)
        return c, c.recv()


def heartbeat(seq, instance="default", generation=1):
    return dict(seq=seq, time=int(datetime.datetime.now().timestamp()),
                agent_version="test-0", uptime=1000 + seq, kernel="6.18.0-test",
                load=[10, 20, 30], mem_total=1 << 34, mem_available=1 << 33,
                dataplane=dict(instance=instance, generation=generation,
                               ruleset_hash="ab" * 32,
                               interfaces=[dict(name="eth0", mode="native")],
                               ct_entries=5, ct_max=1024, state="enforcing"))
