#!/usr/bin/env python3
"""Runs one job of a GitHub Actions workflow or a GitLab CI pipeline here, the way the CI would.

Used by test_ci_examples.sh on examples/ci/. It implements the subset of each CI that the examples
use, and refuses (exit 2) anything outside it, so that the examples cannot drift into constructs the
test does not run:

  ci_runner.py github WORKFLOW JOB CONTEXT.json    exit 0 job passed, 1 job failed, 3 job skipped
  ci_runner.py gitlab PIPELINE JOB CONTEXT.json    the same

CONTEXT.json: {"ref": "refs/tags/v1" | "refs/heads/main", "workspace": DIR, "scratch": DIR,
"path": PATH the runner starts with, "vars": {...}, "token": "...", "repository": "owner/name",
"project_id": "42", "api_url": "https://...", "env": {...} extra runner environment}.

GitHub: `if:` (always(), success(), failure(), ==, !=, &&, contexts github, vars, secrets, steps,
env, runner), `${{ }}` in env, with and run, workflow/job/step env, GITHUB_ENV, GITHUB_OUTPUT,
GITHUB_PATH, GITHUB_STEP_SUMMARY (one file per step, gathered into SCRATCH/summary.md), `run:` with
`bash --noprofile --norc -eo pipefail`, and the `uses:` actions the examples call, as doubles
(checkout: the workspace is the checkout; upload-artifact: copied to SCRATCH/artifacts/NAME/;
upload-sarif: copied to SCRATCH/code-scanning/; cosign-installer: cosign is on PATH).
GitLab: extends, variables, rules (if: $V, $V =~ /re/, ==, !=, &&; when: never), before_script and
script in one bash shell with `set -eo pipefail`, each command echoed, artifacts (paths,
reports:junit, when) copied to SCRATCH/artifacts/. The job's output goes to SCRATCH/job.log.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import yaml


class Unsupported(Exception):
    """A construct the runner does not implement: the example left the tested subset."""


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)


def log(ctx, text):
    write(os.path.join(ctx["scratch"], "job.log"), text, "a")


def run_shell(ctx, argv, env, cwd):
    """Runs ARGV with its output appended to the job log; returns the exit code."""
    with open(os.path.join(ctx["scratch"], "job.log"), "a") as out:
        out.flush()
        return subprocess.run(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL).returncode


# --- GitHub Actions --------------------------------------------------------------------------------

CONTEXT_PATH = re.compile(r"^(github|vars|secrets|steps|env|runner)(\.[A-Za-z0-9_-]+)+$")


def gh_value(tok, ctxs):
    tok = tok.strip()
    if len(tok) >= 2 and tok[0] == "'" and tok[-1] == "'":
        return tok[1:-1].replace("''", "'")
    if not CONTEXT_PATH.match(tok):
        raise Unsupported(f"expression {tok!r}")
    cur = ctxs
    for part in tok.split("."):
        cur = cur.get(part, "") if isinstance(cur, dict) else ""
    return cur


def gh_condition(expr, ctxs, failed):
    """Evaluates an `if:`; without a status function, success() is implied, as GitHub does."""
    expr = str(expr).strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2].strip()
    status = None
    result = True
    for term in expr.split("&&"):
        term = term.strip()
        if term in ("always()", "success()", "failure()"):
            status = {"always()": True, "success()": not failed, "failure()": failed}[term]
            result = result and status
            continue
        m = re.match(r"^(.+?)\s*(==|!=)\s*(.+)$", term)
        if m:
            a, b = str(gh_value(m.group(1), ctxs)), str(gh_value(m.group(3), ctxs))
            result = result and ((a == b) if m.group(2) == "==" else (a != b))
        else:
            result = result and bool(gh_value(term, ctxs))
    if status is None:
        result = result and not failed
    return result


def gh_substitute(text, ctxs):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(gh_value(m.group(1), ctxs)), str(text))


def read_kv_file(path):
    """NAME=value lines and NAME<<DELIMITER blocks, as GITHUB_ENV and GITHUB_OUTPUT hold them."""
    values = {}
    if not os.path.exists(path):
        return values
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise Unsupported(f"{path}: line {line!r}")
    return values


def gh_uses(step, with_, ctx):
    """The doubles of the actions the examples use; returns the step's exit code."""
    action = step["uses"].split("@")[0]
    ws, scratch = ctx["workspace"], ctx["scratch"]
    write(os.path.join(scratch, "uses.log"), json.dumps({"uses": step["uses"], "with": with_}) + "\n", "a")
    if action in ("actions/checkout", "sigstore/cosign-installer"):
        return 0
    if action == "actions/upload-artifact":
        src = os.path.join(ws, with_["path"])
        if not os.path.exists(src):
            log(ctx, f"upload-artifact: no files at {with_['path']}\n")
            return 1 if with_.get("if-no-files-found") == "error" else 0
        dest = os.path.join(scratch, "artifacts", with_["name"])
        os.makedirs(dest, exist_ok=True)
        shutil.copy(src, dest)
        return 0
    if action == "github/codeql-action/upload-sarif":
        src = os.path.join(ws, with_["sarif_file"])
        if not os.path.isfile(src):
            log(ctx, f"upload-sarif: {with_['sarif_file']} does not exist\n")
            return 1
        if json.load(open(src)).get("version") != "2.1.0":
            log(ctx, "upload-sarif: not SARIF 2.1.0\n")
            return 1
        dest = os.path.join(scratch, "code-scanning")
        os.makedirs(dest, exist_ok=True)
        shutil.copy(src, os.path.join(dest, with_.get("category", "default") + ".sarif"))
        return 0
    raise Unsupported(f"action {step['uses']}")


def gh_base_env(ctx, github):
    temp = os.path.join(ctx["scratch"], "runner-temp")
    home = os.path.join(ctx["scratch"], "home")
    os.makedirs(temp, exist_ok=True)
    os.makedirs(home, exist_ok=True)
    env = dict(ctx.get("env", {}))
    env.update({
        "CI": "true", "GITHUB_ACTIONS": "true", "HOME": home, "RUNNER_TEMP": temp, "RUNNER_OS": "Linux",
        "GITHUB_WORKSPACE": ctx["workspace"], "GITHUB_REF": github["ref"],
        "GITHUB_REF_NAME": github["ref_name"], "GITHUB_REF_TYPE": github["ref_type"],
        "GITHUB_REPOSITORY": github["repository"], "GITHUB_SHA": github["sha"],
        "GITHUB_ACTOR": github["actor"], "GITHUB_EVENT_NAME": "push", "GITHUB_JOB": github["job"],
    })
    return env


def gh_step(i, step, ctx, ctxs, env_layers, paths):
    """Runs one step; returns its exit code."""
    scratch = ctx["scratch"]
    files = {k: os.path.join(scratch, "steps", f"{i}.{k}") for k in ("summary", "output", "env", "path")}
    env = {}
    for layer in env_layers:
        env.update(layer)
    step_env = {k: gh_substitute(v, ctxs) for k, v in (step.get("env") or {}).items()}
    env.update(step_env)
    env.update({"GITHUB_STEP_SUMMARY": files["summary"], "GITHUB_OUTPUT": files["output"],
                "GITHUB_ENV": files["env"], "GITHUB_PATH": files["path"],
                "PATH": ":".join(paths + [ctx["path"]])})
    for f in files.values():
        write(f, "")
    ctxs["env"] = env
    if "uses" in step:
        with_ = {k: gh_substitute(v, ctxs) for k, v in (step.get("with") or {}).items()}
        return gh_uses(step, with_, ctx)
    if step.get("shell", "bash") != "bash":
        raise Unsupported(f"shell {step.get('shell')}")
    script = os.path.join(scratch, "steps", f"{i}.sh")
    write(script, gh_substitute(step["run"], ctxs))
    cwd = os.path.join(ctx["workspace"], step.get("working-directory", "."))
    rc = run_shell(ctx, ["bash", "--noprofile", "--norc", "-eo", "pipefail", script], env, cwd)
    write(os.path.join(scratch, "summary.md"), open(files["summary"]).read(), "a")
    env_layers[-1].update(read_kv_file(files["env"]))
    paths[:0] = reversed([p for p in open(files["path"]).read().split("\n") if p])
    if "id" in step:
        ctxs["steps"][step["id"]] = {"outputs": read_kv_file(files["output"])}
    return rc


def run_github(doc, job_name, ctx):
    if set((doc.get("defaults") or {}).get("run", {})) - {"shell"}:
        raise Unsupported("defaults other than run.shell")
    job = doc["jobs"][job_name]
    ref = ctx["ref"]
    ref_type = "tag" if ref.startswith("refs/tags/") else "branch"
    github = {"ref": ref, "ref_name": ref.split("/", 2)[2], "ref_type": ref_type,
              "repository": ctx["repository"], "token": ctx["token"], "sha": "0" * 40,
              "actor": "octocat", "event_name": "push", "workspace": ctx["workspace"], "job": job_name}
    ctxs = {"github": github, "vars": ctx.get("vars", {}), "secrets": {"GITHUB_TOKEN": ctx["token"]},
            "steps": {}, "env": {}, "runner": {"temp": os.path.join(ctx["scratch"], "runner-temp")}}
    if "if" in job and not gh_condition(job["if"], ctxs, False):
        return 3
    os.makedirs(os.path.join(ctx["scratch"], "steps"), exist_ok=True)
    write(os.path.join(ctx["scratch"], "summary.md"), "")
    base = gh_base_env(ctx, github)
    workflow_env = {k: gh_substitute(v, ctxs) for k, v in (doc.get("env") or {}).items()}
    job_env = {k: gh_substitute(v, ctxs) for k, v in (job.get("env") or {}).items()}
    env_layers = [base, workflow_env, job_env, {}]
    paths = []
    failed = False
    for i, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses") or step["run"].split("\n")[0]
        ctxs["env"] = {k: v for layer in env_layers for k, v in layer.items()}
        if not gh_condition(step.get("if", "success()"), ctxs, failed):
            log(ctx, f"--- step {i}: {name}: skipped\n")
            continue
        log(ctx, f"--- step {i}: {name}\n")
        rc = gh_step(i, step, ctx, ctxs, env_layers, paths)
        log(ctx, f"--- step {i}: exit {rc}\n")
        failed = failed or rc != 0
    return 1 if failed else 0


# --- GitLab CI/CD ---------------------------------------------------------------------------------

def gl_resolve(doc, name):
    job = dict(doc[name])
    if "extends" in job:
        base = gl_resolve(doc, job.pop("extends"))
        merged = dict(base)
        for k, v in job.items():
            merged[k] = {**base[k], **v} if isinstance(v, dict) and isinstance(base.get(k), dict) else v
        job = merged
    for key in ("only", "except", "when", "after_script", "allow_failure", "needs", "trigger", "parallel"):
        if key in job:
            raise Unsupported(f"job key {key}")
    return job


def gl_expand(text, variables):
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: variables.get(m.group(1), ""), str(text))


def gl_condition(expr, variables):
    result = True
    for term in str(expr).split("&&"):
        term = term.strip()
        m = re.match(r"^\$([A-Za-z_][A-Za-z0-9_]*)(?:\s*(==|!=|=~)\s*(.+))?$", term)
        if not m:
            raise Unsupported(f"rule {term!r}")
        value = variables.get(m.group(1))
        op, rhs = m.group(2), m.group(3)
        if op is None:
            ok = bool(value)
        elif op == "=~":
            rm = re.match(r"^/(.*)/$", rhs.strip())
            if not rm:
                raise Unsupported(f"rule {term!r}")
            ok = value is not None and re.search(rm.group(1), value) is not None
        else:
            lit = rhs.strip()
            want = None if lit == "null" else lit.strip("\"'")
            ok = (value == want) if op == "==" else (value != want)
        result = result and ok
    return result


def gl_variables(doc, job, job_name, ctx):
    ref = ctx["ref"]
    name = ref.split("/", 2)[2]
    api = ctx["api_url"]
    v = {"CI": "true", "GITLAB_CI": "true", "CI_COMMIT_REF_NAME": name, "CI_COMMIT_SHA": "0" * 40,
         "CI_PROJECT_DIR": ctx["workspace"], "CI_BUILDS_DIR": os.path.dirname(ctx["workspace"]),
         "CI_PROJECT_ID": ctx["project_id"], "CI_PROJECT_PATH": ctx["repository"],
         "CI_API_V4_URL": api, "CI_SERVER_URL": api.rsplit("/api/v4", 1)[0], "CI_JOB_TOKEN": ctx["token"],
         "CI_JOB_NAME": job_name, "CI_JOB_ID": "1001", "CI_PIPELINE_ID": "501",
         "CI_PIPELINE_SOURCE": "push"}
    if ref.startswith("refs/tags/"):
        v["CI_COMMIT_TAG"] = name
    else:
        v["CI_COMMIT_BRANCH"] = name
    for scope in (doc.get("variables") or {}, job.get("variables") or {}, ctx.get("vars", {})):
        for k, val in scope.items():
            v[k] = gl_expand(val["value"] if isinstance(val, dict) else val, v)
    return v


def gl_collect(job, variables, ctx, passed):
    art = job.get("artifacts") or {}
    when = art.get("when", "on_success")
    if not (when == "always" or (when == "on_success") == passed):
        return
    paths = list(art.get("paths") or [])
    junit = (art.get("reports") or {}).get("junit")
    if junit:
        paths += junit if isinstance(junit, list) else [junit]
    dest = os.path.join(ctx["scratch"], "artifacts")
    os.makedirs(dest, exist_ok=True)
    for p in paths:
        src = os.path.join(ctx["workspace"], gl_expand(p, variables))
        if os.path.exists(src):
            shutil.copy(src, dest)
        else:
            log(ctx, f"WARNING: {p}: no matching files\n")


def run_gitlab(doc, job_name, ctx):
    job = gl_resolve(doc, job_name)
    variables = gl_variables(doc, job, job_name, ctx)
    rules = job.get("rules")
    if rules is not None:
        hit = next((r for r in rules if "if" not in r or gl_condition(r["if"], variables)), None)
        if hit is None or hit.get("when") == "never":
            return 3
    lines = ["set -eo pipefail"]
    for cmd in list(job.get("before_script") or []) + list(job["script"]):
        lines.append("printf '%s\\n' " + shlex.quote("$ " + cmd.split("\n")[0]))
        lines.append(cmd)
    script = os.path.join(ctx["scratch"], "job.sh")
    write(script, "\n".join(lines) + "\n")
    home = os.path.join(ctx["scratch"], "home")
    os.makedirs(home, exist_ok=True)
    env = dict(ctx.get("env", {}))
    env.update(variables)
    env.update({"HOME": home, "PATH": ctx["path"]})
    write(os.path.join(ctx["scratch"], "job.log"), "")
    rc = run_shell(ctx, ["bash", "--noprofile", "--norc", script], env, ctx["workspace"])
    log(ctx, f"--- job {job_name}: exit {rc}\n")
    gl_collect(job, variables, ctx, rc == 0)
    return 0 if rc == 0 else 1


def main():
    kind, path, job, ctx_file = sys.argv[1:5]
    ctx = json.load(open(ctx_file))
    doc = yaml.safe_load(open(path))
    try:
        rc = run_github(doc, job, ctx) if kind == "github" else run_gitlab(doc, job, ctx)
    except Unsupported as e:
        print(f"ci_runner: {path}: not supported here: {e}", file=sys.stderr)
        return 2
    return rc


if __name__ == "__main__":
    sys.exit(main())
