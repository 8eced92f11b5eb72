#!/usr/bin/env python3
"""A small Bearer token service for the test registry (the Docker registry token protocol).

GET /token?service=S&scope=repository:NAME:pull,push (Basic credentials), as Docker, skopeo and
containerd ask, and POST /token (the OAuth2 form: grant_type=password or refresh_token) answer
{"token", "access_token", "expires_in", "issued_at"}: a JWT signed RS256 with a key made by the
harness, its certificate in the header's x5c (the registry checks it against its rootcertbundle).
Wrong credentials get 401; no credentials get a token without access (as Docker Hub gives an
anonymous client nothing on a private repository). --expiry S: a token the registry refuses S
seconds after it is issued (the registry allows 60 s of clock skew, so `exp` is set back by as
much). Every token issued is counted in --counts (JSON, rewritten atomically): the tests read how
many were issued, to whom and for which scopes, never the tokens themselves.
"""

import argparse
import base64
import json
import os
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

# distribution's token verifier accepts exp and nbf within this much skew.
REGISTRY_LEEWAY = 60


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    def __init__(self, args):
        with open(args.key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(args.cert, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        self.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        with open(args.users) as f:
            self.users = json.load(f)
        self.args = args
        self.lock = threading.Lock()
        self.counts = {"issued": 0, "refused": 0, "anonymous": 0, "scopes": [], "grants": {}}
        self.refresh = {}
        self.save()

    def save(self):
        tmp = self.args.counts + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.counts, f, indent=1, sort_keys=True)
        os.replace(tmp, self.args.counts)

    def count(self, key, scopes=(), grant=None):
        with self.lock:
            self.counts[key] += 1
            self.counts["scopes"].extend(s for s in scopes if s not in self.counts["scopes"])
            if grant:
                self.counts["grants"][grant] = self.counts["grants"].get(grant, 0) + 1
            self.save()

    def token(self, subject, scopes):
        now = int(time.time())
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) >= 3 and subject:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                               "actions": [a for a in parts[-1].split(",") if a]})
        expiry = self.args.expiry
        claims = {"iss": self.args.issuer, "sub": subject, "aud": self.args.service,
                  "exp": now + int(expiry) - (REGISTRY_LEEWAY if expiry < 300 else 0),
                  "nbf": now - 1, "iat": now, "jti": secrets.token_hex(12), "access": access}
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(sig), int(expiry)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # the access log without query strings (no secrets there anyway)
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def basic_user(self):
        """The user of valid Basic credentials, "" with none, None when they are wrong."""
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return ""
        try:
            user, _, pw = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user if self.server.issuer.users.get(user) == pw else None

    def grant(self, user, scopes, kind):
        iss = self.server.issuer
        if user is None:
            iss.count("refused")
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]},
                       [("WWW-Authenticate", 'Basic realm="reproimg-test-token"')])
            return
        iss.count("issued" if user else "anonymous", scopes, kind)
        tok, expires = iss.token(user, scopes)
        body = {"token": tok, "access_token": tok, "expires_in": expires,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if kind == "password" and user:
            rt = secrets.token_hex(16)
            iss.refresh[rt] = user
            body["refresh_token"] = rt
        self.reply(200, body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/health":
            self.reply(200, {})
            return
        if url.path != "/token":
            self.reply(404, {})
            return
        q = urllib.parse.parse_qs(url.query)
        if q.get("service", [""])[0] != self.server.issuer.args.service:
            self.reply(400, {"errors": [{"code": "INVALID_REQUEST", "message": "unknown service"}]})
            return
        self.grant(self.basic_user(), q.get("scope", []), "get")

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/token":
            self.reply(404, {})
            return
        n = int(self.headers.get("Content-Length", "0") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"))
        one = lambda k: form.get(k, [""])[0]
        scopes = [s for v in form.get("scope", []) for s in v.split(" ") if s]
        iss = self.server.issuer
        if one("grant_type") == "password":
            user = one("username") if iss.users.get(one("username")) == one("password") else None
            self.grant(user, scopes, "password")
        elif one("grant_type") == "refresh_token":
            self.grant(iss.refresh.get(one("refresh_token")), scopes, "refresh_token")
        else:
            self.reply(400, {"errors": [{"code": "UNSUPPORTED", "message": "grant_type"}]})


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    for opt in ("--key", "--cert", "--issuer", "--service", "--users", "--counts"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--expiry", type=float, default=300)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.issuer = Issuer(args)
    srv.serve_forever()


if __name__ == "__main__":
    main()
