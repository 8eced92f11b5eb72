#!/usr/bin/env python3
"""A real OCI distribution registry on 127.0.0.1 for the end-to-end tests, and what it needs.

Starts Debian's `docker-registry` (the CNCF distribution registry v2) at a free port with its storage
in a private directory, in one of four modes:

  plain   no authentication, plain HTTP
  basic   htpasswd Basic authentication (apache2-utils' `htpasswd -B`), plain HTTP
  tls     HTTPS with a server certificate signed by a CA that `openssl` makes here, no authentication
  token   Bearer token authentication: a token service of our own (HTTP on 127.0.0.1) checks Basic
          credentials and issues JWTs (RS256) signed with a key made here; the registry trusts its
          certificate (`auth: token: rootcertbundle`). `--token-expiry S` makes tokens that the
          registry refuses S seconds after they are issued, to test refresh.

  harness.py start --mode MODE --state DIR [--owner-pid PID] [--token-expiry S] [--second-user]
  harness.py proxy --state DIR --fault NAME [--fault NAME ...] [--corrupt-digest D] [--retry-after S]
  harness.py stop --state DIR

`start` prints shell assignments (REGISTRY=127.0.0.1:PORT, REGISTRY_MODE, REGISTRY_SCHEME, REGISTRY_USER,
REGISTRY_PASS, REGISTRY_CA, REGISTRY_CERT_DIR: a certificate directory holding the CA as ca.crt, TOKEN_URL,
TOKEN_COUNTS; with --second-user in basic mode a second htpasswd user as REGISTRY_USER2 and
REGISTRY_PASS2; REGISTRY_LOG: the registry's log, whose access lines name the authenticated user) and returns once the registry answers /v2/ (a bounded wait). Every process is started
in its own session and recorded in DIR/state.json; `stop` ends them and removes DIR's contents. A
watchdog ends everything when --owner-pid (the test's shell) is gone or after --lifetime seconds,
so that a killed test leaves nothing running. `proxy` starts tests/registry/fault_proxy.py in front
of the registry (plain HTTP towards the client) and prints PROXY=127.0.0.1:PORT and PROXY_COUNTS=FILE.

The credentials printed belong to the throwaway registry; they are random per run, so a test can grep
every output of the client for them.
"""

import argparse
import base64
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = "reproimg-test-registry"
ISSUER = "reproimg-test-token-issuer"
READY_SECONDS = 20.0


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    """Runs a helper program; its failure is ours, with its stderr."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if p.returncode != 0:
        sys.exit("harness: %s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout


def make_ca_and_server_cert(d):
    """A CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI."""
    os.makedirs(d, exist_ok=True)
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
         "-days", "2", "-subj", "/CN=reproimg test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    key, csr, crt = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"])
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", ext])
    # A certificate directory as skopeo and containers-certs.d(5) read it: *.crt are CAs.
    cert_dir = os.path.join(d, "certs.d")
    os.makedirs(cert_dir, exist_ok=True)
    shutil.copy(ca_crt, os.path.join(cert_dir, "ca.crt"))
    return {"ca": ca_crt, "cert": crt, "key": key, "cert_dir": cert_dir}


def make_token_signer(d):
    """The token service's RSA key and self-signed certificate (the registry's rootcertbundle)."""
    os.makedirs(d, exist_ok=True)
    key, crt = os.path.join(d, "token.key"), os.path.join(d, "token.pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
         "-days", "2", "-subj", "/CN=reproimg test token signer"])
    return {"key": key, "cert": crt}


def registry_config(state, mode, port, extra):
    """The registry's YAML (JSON is YAML), storage and logs inside the state directory."""
    cfg = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": os.path.join(state, "storage")},
                    "delete": {"enabled": True}, "cache": {"blobdescriptor": "inmemory"}},
        "http": {"addr": "127.0.0.1:%d" % port, "secret": secrets.token_hex(16),
                 "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "health": {"storagedriver": {"enabled": False}},
    }
    if mode == "basic":
        cfg["auth"] = {"htpasswd": {"realm": "reproimg-test", "path": extra["htpasswd"]}}
    elif mode == "tls":
        cfg["http"]["tls"] = {"certificate": extra["cert"], "key": extra["key"]}
    elif mode == "token":
        cfg["auth"] = {"token": {"realm": extra["realm"], "service": SERVICE, "issuer": ISSUER,
                                 "rootcertbundle": extra["token_cert"], "autoredirect": False}}
    path = os.path.join(state, "config.yml")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


def spawn(state, name, cmd):
    """A long-running child in its own session, its output in DIR/NAME.log, its pid recorded."""
    log = open(os.path.join(state, name + ".log"), "ab")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True, close_fds=True)
    log.close()
    st = load_state(state)
    st.setdefault("pids", {})[name] = p.pid
    save_state(state, st)
    return p


def load_state(state):
    try:
        with open(os.path.join(state, "state.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save_state(state, st):
    tmp = os.path.join(state, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(state, "state.json"))


def wait_ready(url, ca=None, proc=None, what="registry"):
    """GET url until the server answers with any HTTP status, within READY_SECONDS."""
    ctx = ssl.create_default_context(cafile=ca) if ca else None
    deadline = time.monotonic() + READY_SECONDS
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=2, context=ctx).close()
            return
        except urllib.error.HTTPError:
            return  # 401 is an answer: the server is up
        except (OSError, ssl.SSLError) as e:
            last = str(e)
        time.sleep(0.1)
    raise SystemExit("harness: the %s at %s did not answer within %.0f s (%s)" % (what, url, READY_SECONDS, last))


def start(args):
    state = os.path.abspath(args.state)
    os.makedirs(state, exist_ok=True)
    if load_state(state).get("pids"):
        sys.exit("harness: %s already holds a running registry (stop it first)" % state)
    for tool in ("docker-registry", "openssl") + (("htpasswd",) if args.mode == "basic" else ()):
        if shutil.which(tool) is None:
            sys.exit("harness: %s is not installed (scripts/install-deps.sh installs it)" % tool)
    st = {"mode": args.mode, "pids": {}}
    save_state(state, st)
    if args.owner_pid:
        spawn(state, "watchdog", [sys.executable, os.path.abspath(__file__), "_watchdog", "--state", state,
                                  "--owner-pid", str(args.owner_pid), "--lifetime", str(args.lifetime)])
    out = {"REGISTRY_MODE": args.mode, "REGISTRY_SCHEME": "http"}
    extra = {}
    if args.mode in ("basic", "token"):
        out["REGISTRY_USER"] = "tester-" + secrets.token_hex(3)
        out["REGISTRY_PASS"] = "pw-" + secrets.token_hex(12)
    if args.mode == "basic":
        extra["htpasswd"] = os.path.join(state, "htpasswd")
        if args.second_user:
            out["REGISTRY_USER2"] = "second-" + secrets.token_hex(3)
            out["REGISTRY_PASS2"] = "pw2-" + secrets.token_hex(12)
        with open(extra["htpasswd"], "wb") as f:
            f.write(run(["htpasswd", "-Bbn", out["REGISTRY_USER"], out["REGISTRY_PASS"]]))
            if args.second_user:
                f.write(run(["htpasswd", "-Bbn", out["REGISTRY_USER2"], out["REGISTRY_PASS2"]]))
    elif args.mode == "tls":
        extra.update(make_ca_and_server_cert(os.path.join(state, "pki")))
        out.update(REGISTRY_SCHEME="https", REGISTRY_CA=extra["ca"], REGISTRY_CERT_DIR=extra["cert_dir"])
    elif args.mode == "token":
        signer = make_token_signer(os.path.join(state, "pki"))
        tport = free_port()
        counts = os.path.join(state, "token-counts.json")
        creds = os.path.join(state, "token-users.json")
        with open(creds, "w") as f:
            json.dump({out["REGISTRY_USER"]: out["REGISTRY_PASS"]}, f)
        tok = spawn(state, "token", [sys.executable, os.path.join(HERE, "token_service.py"),
                                     "--port", str(tport), "--key", signer["key"], "--cert", signer["cert"],
                                     "--issuer", ISSUER, "--service", SERVICE, "--users", creds,
                                     "--counts", counts, "--expiry", str(args.token_expiry)])
        out.update(TOKEN_URL="http://127.0.0.1:%d/token" % tport, TOKEN_COUNTS=counts)
        wait_ready("http://127.0.0.1:%d/health" % tport, proc=tok, what="token service")
        extra.update(realm=out["TOKEN_URL"], token_cert=signer["cert"])
    port = free_port()
    cfg = registry_config(state, args.mode, port, extra)
    reg = spawn(state, "registry", ["docker-registry", "serve", cfg])
    out["REGISTRY"] = "127.0.0.1:%d" % port
    out["REGISTRY_LOG"] = os.path.join(state, "registry.log")
    wait_ready("%s://%s/v2/" % (out["REGISTRY_SCHEME"], out["REGISTRY"]), ca=out.get("REGISTRY_CA"), proc=reg)
    st = load_state(state)
    st["env"] = out
    save_state(state, st)
    for k in sorted(out):
        print("%s=%s" % (k, shlex.quote(out[k])))


def start_or_clean_up(args):
    """start(), and on any failure the processes it began stopped (the logs kept, their tails shown)."""
    try:
        start(args)
    except BaseException:
        state = os.path.abspath(args.state)
        for name in ("registry.log", "token.log"):
            p = os.path.join(state, name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    sys.stderr.write("harness: %s ends:\n%s\n" % (name, "".join(f.readlines()[-15:])))
        args.keep = True
        stop(args)
        raise


def proxy(args):
    state = os.path.abspath(args.state)
    st = load_state(state)
    env = st.get("env")
    if not env:
        sys.exit("harness: no registry runs in %s" % state)
    n = sum(1 for k in st["pids"] if k.startswith("proxy")) + 1
    name = "proxy%d" % n
    port = free_port()
    counts = os.path.join(state, name + "-counts.json")
    cmd = [sys.executable, os.path.join(HERE, "fault_proxy.py"), "--listen", "127.0.0.1:%d" % port,
           "--upstream", "%s://%s" % (env["REGISTRY_SCHEME"], env["REGISTRY"]), "--counts", counts,
           "--retry-after", str(args.retry_after)]
    if env.get("REGISTRY_CA"):
        cmd += ["--upstream-ca", env["REGISTRY_CA"]]
    for f in args.fault or []:
        cmd += ["--fault", f]
    if args.corrupt_digest:
        cmd += ["--corrupt-digest", args.corrupt_digest]
    p = spawn(state, name, cmd)
    wait_ready("http://127.0.0.1:%d/_proxy/health" % port, proc=p, what="fault proxy")
    print("PROXY=127.0.0.1:%d" % port)
    print("PROXY_COUNTS=%s" % shlex.quote(counts))


def alive(pid):
    """Whether pid runs: a zombie (exited, not yet reaped by whoever adopted it) does not."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    except OSError:
        return True


def stop_pids(pids):
    """SIGTERM to each process group, a bounded wait, then SIGKILL to what is left."""
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        reap()
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    reap()


def reap():
    """Collects exited children of this process (the watchdog's case), so that they are not zombies."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def stop(args, keep_self=None):
    state = os.path.abspath(args.state)
    st = load_state(state)
    pids = [p for n, p in sorted(st.get("pids", {}).items()) if p != keep_self and n != "watchdog"]
    stop_pids(pids)
    if os.path.isdir(state) and not args.keep:
        for name in os.listdir(state):
            p = os.path.join(state, name)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    wd = st.get("pids", {}).get("watchdog")
    if wd and wd != keep_self and wd != os.getpid():
        stop_pids([wd])


def watchdog(args):
    """Stops every process of the state when the owner is gone or the lifetime is over."""
    deadline = time.monotonic() + args.lifetime
    while alive(args.owner_pid) and time.monotonic() < deadline and os.path.exists(args.state):
        time.sleep(0.5)
    args.keep = False
    stop(args, keep_self=os.getpid())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--mode", choices=("plain", "basic", "tls", "token"), required=True)
    s.add_argument("--state", required=True)
    s.add_argument("--owner-pid", type=int, default=0)
    s.add_argument("--lifetime", type=float, default=900)
    s.add_argument("--token-expiry", type=float, default=300)
    s.add_argument("--second-user", action="store_true", help="basic mode: a second htpasswd user")
    p = sub.add_parser("proxy")
    p.add_argument("--state", required=True)
    p.add_argument("--fault", action="append")
    p.add_argument("--corrupt-digest")
    p.add_argument("--retry-after", type=int, default=2)
    t = sub.add_parser("stop")
    t.add_argument("--state", required=True)
    t.add_argument("--keep", action="store_true", help="keep the state directory's files (logs)")
    w = sub.add_parser("_watchdog")
    w.add_argument("--state", required=True)
    w.add_argument("--owner-pid", type=int, required=True)
    w.add_argument("--lifetime", type=float, required=True)
    args = ap.parse_args()
    {"start": start_or_clean_up, "proxy": proxy, "stop": stop, "_watchdog": watchdog}[args.cmd](args)


if __name__ == "__main__":
    main()
