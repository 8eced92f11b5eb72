#!/usr/bin/env bash
# docker:// against a small registry of this test's own (python's http.server on 127.0.0.1) that
# wants Basic credentials and redirects every blob GET to a storage server on another port (another
# origin): the blobs are fetched there WITHOUT the Authorization header (what the registry got, the
# storage never sees), the image read is the one served, and no credential appears in any output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
if ! "$REPROIMG" digest --help 2>/dev/null | grep -- '--tls-verify' >/dev/null; then
  echo "SKIP: test_docker_redirect: this reproimg has no registry client"
  exit 77
fi

mkdir -p "$work/rootfs/etc"
printf 'redirected\n' > "$work/rootfs/etc/motd"
head -c 200000 /dev/urandom > "$work/rootfs/etc/blob"
"$REPROIMG" import -q "dir:$work/rootfs" -o "$work/img"
"$REPROIMG" digest --json "oci:$work/img" > "$work/want.json"

cat > "$work/fake.py" <<'PY'
import base64, http.server, json, os, sys, threading
layout, state = sys.argv[1], sys.argv[2]
user, password = "tester", "s3cret-pw"
good = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
index = json.load(open(os.path.join(layout, "index.json")))
top = index["manifests"][0]

def blob(digest):
    path = os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])
    return open(path, "rb").read() if os.path.isfile(path) else None

def log(line):
    with open(os.path.join(state, "log"), "a") as f:
        f.write(line + "\n")

class Storage(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        log("storage %s authorization=%s" % (self.path, "yes" if self.headers.get("Authorization") else "no"))
        data = blob(self.path.rsplit("/", 1)[1])
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")

class Registry(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def do_GET(self):
        authorized = self.headers.get("Authorization") == good
        log("registry %s authorization=%s" % (self.path, "good" if authorized else "none-or-bad"))
        if not authorized:
            err = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
            return self.reply(401, err, [("WWW-Authenticate", 'Basic realm="fake"'), ("Content-Type", "application/json")])
        if self.path == "/v2/":
            return self.reply(200, b"{}")
        if self.path == "/v2/r/img/manifests/v1":
            return self.reply(200, blob(top["digest"]), [("Content-Type", top["mediaType"])])
        if self.path.startswith("/v2/r/img/blobs/"):
            digest = self.path.rsplit("/", 1)[1]
            return self.reply(307, b"", [("Location", "http://127.0.0.1:%d/storage/%s" % (storage.server_port, digest))])
        self.reply(404, json.dumps({"errors": [{"code": "NAME_UNKNOWN", "message": "no such repository"}]}).encode())
    do_HEAD = do_GET

storage = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Storage)
registry = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
threading.Thread(target=storage.serve_forever, daemon=True).start()
with open(os.path.join(state, "port.tmp"), "w") as f:
    f.write(str(registry.server_port))
os.rename(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
threading.Timer(120, lambda: os._exit(0)).start()  # never outlives a stuck test
registry.serve_forever()
PY
mkdir -p "$work/state"
"$PY" "$work/fake.py" "$work/img" "$work/state" &
fake_pid=$!
trap 'kill "$fake_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -f "$work/state/port" ] && break; sleep 0.1; done
port=$(cat "$work/state/port")
ref="docker://127.0.0.1:$port/r/img:v1"
export XDG_CACHE_HOME="$work/cache"

run "$REPROIMG" digest --json "$ref" --tls-verify=false --creds tester:s3cret-pw
equal "read through the redirect" 0 "$rc"
for field in manifest_digest config_digest; do
  equal "the image served: $field" "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/want.json" "$field")" \
    "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/stdout" "$field" 2>/dev/null || true)"
done
at_least() { if "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[2]) >= float(sys.argv[1]) else 1)' "$2" "$3"; then pass; else fail "$1: want at least $2, got $3"; fi; }
at_least "blobs fetched from the storage" 2 "$(grep -c '^storage ' "$work/state/log" || true)"
equal "no Authorization header sent to the storage (another origin)" 0 "$(grep -c '^storage .*authorization=yes' "$work/state/log" || true)"
at_least "the registry itself got the credentials" 1 "$(grep -c '^registry .*authorization=good' "$work/state/log" || true)"
cp "$work/stdout" "$work/out1"; cp "$work/stderr" "$work/err1"

# Anonymous: one line naming the registry, the repository, the status and the registry's code.
XDG_CACHE_HOME="$work/cache2" run "$REPROIMG" digest "$ref" --tls-verify=false
says_error "anonymous" 2 "docker://127.0.0.1:$port/r/img" "HTTP 401" "UNAUTHORIZED"
cp "$work/stderr" "$work/err2"
# A wrong password: the same, and the password is not said.
XDG_CACHE_HOME="$work/cache3" run "$REPROIMG" digest "$ref" --tls-verify=false --creds tester:wrong-pw-xyz
says_error "a wrong password" 2 "HTTP 401"
cp "$work/stderr" "$work/err3"
basic=$(printf 'tester:s3cret-pw' | base64 -w0)
no_credential_in() { ! grep -qF -e s3cret-pw -e wrong-pw-xyz -e "$basic" "$1"; }
for f in "$work"/out1 "$work"/err1 "$work"/err2 "$work"/err3; do
  check "no credential in $(basename "$f")" no_credential_in "$f"
done
finish
