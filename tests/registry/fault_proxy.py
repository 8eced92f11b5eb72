#!/usr/bin/env python3
"""A reverse proxy between a registry client and the test registry that injects faults on demand.

Plain HTTP towards the client on --listen (127.0.0.1:PORT); each request forwarded to --upstream
(http or https, --upstream-ca for the latter) with its Host header kept, so that the registry's upload
Locations name the proxy. Faults, each selected with --fault NAME (several may be given):

  drop-blob      the first blob GET whose body is larger than --drop-min bytes: half of the body is
                 sent, then (0.3 s later) the connection is reset (once)
  corrupt-blob   every blob GET (only --corrupt-digest's when given): one byte of the body changed,
                 the length kept, so the bytes no longer match the digest they are fetched by
  429            the first blob GET answered 429 Too Many Requests with Retry-After: --retry-after
                 and the registry's TOOMANYREQUESTS error body (once); the gap until the same path is
                 asked again is recorded
  503            the first blob GET answered 503 with an UNAVAILABLE error body (once)
  503-always     every blob GET answered so (a registry that stays down: the client must give up)
  redirect-blob  every blob GET answered 307 to a "storage" server of the proxy's own at another host
                 name (localhost:PORT2, as a registry redirects to S3 or a CDN), which serves the bytes
                 (fetched from the registry with the original request's credentials) and counts the
                 requests that came with an Authorization header: a client must send none there
  expire-token   the first Bearer token that asks for a blob is refused from then on (that request is
                 served; every later one with the token, in parallel or after, gets the 401 and
                 `WWW-Authenticate: Bearer ... error="invalid_token"` a registry sends for an expired
                 token); requests that then succeed with another token are counted

What happened is counted in --counts (JSON, rewritten atomically after every event): requests by
kind (blob-get, blob-head, mount, upload-start, upload-chunk, upload-put, manifest-get, ...) and the
answers by kind and status ("mount 201"), and per fault how often it struck, so that a test asserts the fault did happen. GET /_proxy/health
answers 200 (the harness's readiness check). Tokens and credentials are never written anywhere.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOB = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
MANIFEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "content-length"}
CHUNK = 64 * 1024


def request_kind(method, target):
    """What a request does, as the counts name it: blob-get, blob-head, mount, upload-start,
    upload-chunk, upload-put, manifest-get, manifest-head, manifest-put, or the method."""
    url = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(url.query)
    if BLOB.match(url.path):
        return {"GET": "blob-get", "HEAD": "blob-head"}.get(method, method.lower())
    if MANIFEST.match(url.path):
        return "manifest-" + method.lower()
    if "/blobs/uploads/" in url.path:
        if method == "POST":
            return "mount" if "mount" in query else "upload-start"
        return {"PATCH": "upload-chunk", "PUT": "upload-put"}.get(method, method.lower())
    return method.lower()


class State:
    """The faults asked for, what they did, and the counts file."""

    def __init__(self, args):
        self.args = args
        self.faults = set(args.fault or [])
        self.lock = threading.Lock()
        self.counts = {"faults": sorted(self.faults), "requests": {}, "responses": {}, "dropped": 0, "dropped_digests": [],
                       "corrupted": 0, "corrupted_digests": [], "throttled": 0, "retry_after": args.retry_after,
                       "retry_gap": None, "unavailable": 0, "unavailable_most_per_blob": 0, "token_rejected": 0, "tokens_expired": 0,
                       "ok_after_expiry": 0, "range_requests": 0, "redirected": 0, "storage_requests": 0,
                       "storage_with_authorization": 0}
        self.fired = set()
        self.expired_tokens = set()
        self.unavailable_by_path = {}
        self.redirects = {}
        self.storage_port = 0
        self.throttled_path = None
        self.throttled_at = 0.0
        self.challenge = None
        self.save()

    def save(self):
        tmp = self.args.counts + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.counts, f, indent=1, sort_keys=True)
        os.replace(tmp, self.args.counts)

    def once(self, fault):
        """True the first time FAULT (asked for) is due, then never again."""
        with self.lock:
            if fault not in self.faults or fault in self.fired:
                return False
            self.fired.add(fault)
            return True

    def bump(self, key, by=1, digest_list=None, digest=None):
        with self.lock:
            self.counts[key] += by
            if digest_list is not None and digest not in self.counts[digest_list]:
                self.counts[digest_list].append(digest)
            self.save()

    def tokens_expired_any(self):
        return bool(self.expired_tokens)

    def response(self, kind, status):
        with self.lock:
            key = "%s %d" % (kind, status)
            self.counts["responses"][key] = self.counts["responses"].get(key, 0) + 1
            self.save()

    def request(self, kind, path):
        with self.lock:
            self.counts["requests"][kind] = self.counts["requests"].get(kind, 0) + 1
            if self.throttled_path == path and self.counts["retry_gap"] is None:
                self.counts["retry_gap"] = round(time.monotonic() - self.throttled_at, 3)
            self.save()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def send_error_body(self, status, code, message, headers=()):
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    def upstream(self):
        st = self.server.state
        u = urllib.parse.urlsplit(st.args.upstream)
        if u.scheme == "https":
            ctx = ssl.create_default_context(cafile=st.args.upstream_ca)
            return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
        return http.client.HTTPConnection(u.hostname, u.port, timeout=60)

    def forward(self):
        st = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_proxy/health":
            self.send_error_body(200, "OK", "proxy")
            return
        body = self.read_body()
        blob = BLOB.match(path) if self.command == "GET" else None
        kind = request_kind(self.command, self.path)
        st.request(kind, path)
        if self.headers.get("Range"):
            st.bump("range_requests")
        token = self.bearer()
        if token is not None and token in st.expired_tokens:
            self.refuse_token(path)
            return
        if blob and token is not None and st.once("expire-token"):
            with st.lock:
                st.expired_tokens.add(token)
            st.bump("tokens_expired")
        if blob and self.fault_before(path):
            return
        conn = self.upstream()
        # Header by header: a Go client sends several Accept lines, which must all reach the registry.
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in HOP:
                conn.putheader(k, v)
        conn.putheader("X-Forwarded-Proto", "http")
        if body or self.command in ("PUT", "POST", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        if resp.status == 401 and resp.getheader("WWW-Authenticate", "").lower().startswith("bearer"):
            st.challenge = resp.getheader("WWW-Authenticate")
        if token is not None and token not in st.expired_tokens and st.tokens_expired_any() and resp.status < 300:
            st.bump("ok_after_expiry")
        st.response(kind, resp.status)
        self.relay(resp, blob)
        conn.close()

    def fault_before(self, path):
        """A fault that answers instead of the registry: True when it did."""
        st = self.server.state
        if st.once("429"):
            with st.lock:
                st.throttled_path, st.throttled_at = path, time.monotonic()
            st.bump("throttled")
            self.send_error_body(429, "TOOMANYREQUESTS", "too many requests (injected)",
                                 [("Retry-After", str(st.args.retry_after))])
            return True
        if "redirect-blob" in st.faults:
            key = secrets.token_hex(8)
            with st.lock:
                st.redirects[key] = (self.path, self.headers.get("Authorization"))
            st.bump("redirected")
            self.send_response(307)
            self.send_header("Location", "http://localhost:%d/storage/%s?signature=%s" % (st.storage_port, key, key))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if st.once("503") or "503-always" in st.faults:
            with st.lock:
                st.unavailable_by_path[path] = st.unavailable_by_path.get(path, 0) + 1
                st.counts["unavailable_most_per_blob"] = max(st.unavailable_by_path.values())
            st.bump("unavailable")
            self.send_error_body(503, "UNAVAILABLE", "service unavailable (injected)")
            return True
        return False

    def refuse_token(self, path):
        st = self.server.state
        st.bump("token_rejected")
        m = BLOB.match(path) or MANIFEST.match(path)
        realm = re.search(r'realm="([^"]*)"', st.challenge or "")
        service = re.search(r'service="([^"]*)"', st.challenge or "")
        challenge = 'Bearer realm="%s",service="%s",scope="repository:%s:pull",error="invalid_token"' % (
            realm.group(1) if realm else "", service.group(1) if service else "",
            m.group("name") if m else "")
        self.send_error_body(401, "UNAUTHORIZED", "authentication required", [("WWW-Authenticate", challenge)])

    def relay(self, resp, blob):
        """The registry's answer to the client, with the drop or corruption asked for."""
        st = self.server.state
        data = resp.read() if self.command != "HEAD" else b""
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        length = resp.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
        if length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        if self.command == "HEAD":
            return
        digest = blob.group("digest") if blob else None
        if blob and resp.status == 200 and "corrupt-blob" in st.faults and \
                st.args.corrupt_digest in (None, digest) and data:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0x5A]) + data[mid + 1:]
            st.bump("corrupted", digest_list="corrupted_digests", digest=digest)
        if blob and resp.status == 200 and len(data) > st.args.drop_min and st.once("drop-blob"):
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            st.bump("dropped", digest_list="dropped_digests", digest=digest)
            time.sleep(0.3)  # the half reaches the client before the reset (a reset discards unread data)
            # An abortive close (RST), as a dropped connection looks to the client.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        for i in range(0, len(data), CHUNK):
            self.wfile.write(data[i:i + CHUNK])

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward


class StorageHandler(BaseHTTPRequestHandler):
    """The other host a blob GET is redirected to: serves the blob, counts Authorization headers."""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def do_GET(self):
        st = self.server.state
        st.bump("storage_requests")
        if self.headers.get("Authorization") is not None:
            st.bump("storage_with_authorization")
        key = urllib.parse.urlsplit(self.path).path.rpartition("/")[2]
        with st.lock:
            target, auth = st.redirects.get(key, (None, None))
        if target is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        u = urllib.parse.urlsplit(st.args.upstream)
        if u.scheme == "https":
            conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=60,
                                               context=ssl.create_default_context(cafile=st.args.upstream_ca))
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.request("GET", target, headers={"Authorization": auth} if auth else {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.send_response(resp.status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", required=True, help="127.0.0.1:PORT")
    ap.add_argument("--upstream", required=True, help="http(s)://HOST:PORT of the registry")
    ap.add_argument("--upstream-ca")
    ap.add_argument("--counts", required=True)
    ap.add_argument("--fault", action="append", choices=("drop-blob", "corrupt-blob", "429", "503", "503-always", "expire-token",
                                                              "redirect-blob"))
    ap.add_argument("--corrupt-digest")
    ap.add_argument("--retry-after", type=int, default=2)
    ap.add_argument("--drop-min", type=int, default=1024)
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    if host != "127.0.0.1":
        sys.exit("fault_proxy: listens on 127.0.0.1 only")
    state = State(args)
    if "redirect-blob" in state.faults:
        storage = ThreadingHTTPServer((host, 0), StorageHandler)
        storage.daemon_threads = True
        storage.state = state
        state.storage_port = storage.server_address[1]
        threading.Thread(target=storage.serve_forever, daemon=True).start()
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    srv.state = state
    srv.serve_forever()


if __name__ == "__main__":
    main()
