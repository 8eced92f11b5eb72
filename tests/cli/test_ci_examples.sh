#!/usr/bin/env bash
# End-to-end: the CI examples (examples/ci/github-actions.yml, examples/ci/gitlab-ci.yml) run here.
# Both YAML files are parsed and each job's steps (GitHub `run:`, GitLab `before_script`/`script`)
# executed with bash by tests/cli/ci_runner.py, with the variables each CI sets. What talks to
# GitHub, GitLab or a registry is a test double on PATH (gh, curl, docker, skopeo, cosign) that
# records its arguments and keeps what is "uploaded" in a fake store, from which the downloads are
# served. Checked, for each CI: a release tag uploads a lock that is valid and an attestation that
# says PASSED for the locked manifest; a branch push with the same inputs passes verify (exit 0, the
# report written); a push with one file changed fails the job, the changed path in the job summary
# (GitHub) or log (GitLab) and in the JUnit report; a push before any release passes with a notice;
# each job runs only on its kind of ref. The install step takes the built binary from $REPROIMG (a
# repository variable of the examples); reproimg is not on the runner's PATH before it. Without
# $REPROIMG it builds from source: a git double hands it a checkout whose scripts put the binary
# under test where scripts/build.sh would. Each step as it ran passes shellcheck.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools jq cmp install shellcheck
root=$(cd "$(dirname "$0")/../.." && pwd)
runner=$root/tests/cli/ci_runner.py
github_yml=$root/examples/ci/github-actions.yml
gitlab_yml=$root/examples/ci/gitlab-ci.yml
"$PY" -c 'import yaml' 2>/dev/null || { echo "FAIL: python3 yaml (PyYAML) missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
unset GITHUB_STEP_SUMMARY GITHUB_ACTIONS CI
reproimg_bin=$(cd "$(dirname "$REPROIMG")" && pwd)/$(basename "$REPROIMG")

# --- the doubles -----------------------------------------------------------------------------------
doubles=$work/doubles
store=$work/store            # what GitHub, GitLab and the registry hold
token=test-token-$$-$RANDOM
api=https://gitlab.example.com/api/v4
mkdir -p "$doubles" "$store"

# gh: releases in $store/gh/TAG/, created in the order of $store/gh.order.
cat > "$doubles/gh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
store='$store'
token='$token'
EOF
cat >> "$doubles/gh" <<'EOF'
printf 'gh %s\n' "$*" >> "$store/calls.log"
[ "${GH_TOKEN:-}" = "$token" ] || { echo "gh: set the GH_TOKEN environment variable" >&2; exit 4; }
[ "${GH_REPO:-}" = example/images ] || { echo "gh: GH_REPO is '${GH_REPO:-}'" >&2; exit 1; }
rel=$store/gh
mkdir -p "$rel"
case "$1 $2" in
  "release view") [ -d "$rel/$3" ] || { echo "release not found" >&2; exit 1; }; echo "tag: $3" ;;
  "release create") mkdir "$rel/$3"; echo "$3" >> "$store/gh.order" ;;
  "release upload")
    tag=$3; shift 3
    [ -d "$rel/$tag" ] || { echo "release not found" >&2; exit 1; }
    for f; do case $f in --clobber) ;; -*) echo "gh double: $f" >&2; exit 2 ;; *) cp "$f" "$rel/$tag/" ;; esac; done ;;
  "release list")
    shift 2; q=
    while [ $# -gt 0 ]; do case $1 in --jq) q=$2; shift 2 ;; *) shift ;; esac; done
    json=$({ tac "$store/gh.order" 2>/dev/null || true; } | jq -R '{tagName: .}' | jq -s .)
    if [ -n "$q" ]; then jq -r "$q" <<<"$json"; else echo "$json"; fi ;;
  "release download")
    tag=$3; shift 3; pattern='*'; dir=.
    while [ $# -gt 0 ]; do
      case $1 in --pattern) pattern=$2; shift 2 ;; --dir) dir=$2; shift 2 ;; --clobber) shift ;; *) exit 2 ;; esac
    done
    [ -d "$rel/$tag" ] || { echo "release not found" >&2; exit 1; }
    mkdir -p "$dir"; n=0
    for f in "$rel/$tag"/$pattern; do [ -e "$f" ] && cp "$f" "$dir/" && n=$((n + 1)); done
    [ "$n" -gt 0 ] || { echo "no assets to download" >&2; exit 1; } ;;
  *) echo "gh double: not implemented: $*" >&2; exit 2 ;;
esac
EOF

# curl: the GitLab API of project 42: the generic package registry in $store/packages/, releases
# in $store/gl/TAG.json (in the order of $store/gl.order); the job token is required.
cat > "$doubles/curl" <<EOF
#!/usr/bin/env bash
set -euo pipefail
store='$store'
token='$token'
api='$api/projects/42'
EOF
cat >> "$doubles/curl" <<'EOF'
printf 'curl %s\n' "$*" >> "$store/calls.log"
url= upload= output= data= auth=
while [ $# -gt 0 ]; do
  case $1 in
    --header) [ "$2" = "JOB-TOKEN: $token" ] && auth=1; shift 2 ;;
    --upload-file) upload=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --fail-with-body | --silent | --show-error) shift ;;
    http*) url=$1; shift ;;
    *) echo "curl double: $1" >&2; exit 2 ;;
  esac
done
[ -n "$auth" ] || { echo '{"message":"401 Unauthorized"}'; exit 22; }
mkdir -p "$store/packages" "$store/gl"
case $url in
  "$api/packages/generic/"*)
    path=$store/packages/${url#"$api/packages/generic/"}
    if [ -n "$upload" ]; then
      mkdir -p "$(dirname "$path")"; cp "$upload" "$path"; echo '{"message":"201 Created"}'
    elif [ -f "$path" ]; then
      if [ -n "$output" ]; then cp "$path" "$output"; else cat "$path"; fi
    else
      echo '{"message":"404 Not Found"}'; exit 22
    fi ;;
  "$api/releases")
    [ "${data:0:1}" = @ ] || { echo "curl double: --data @FILE expected" >&2; exit 2; }
    tag=$(jq -r .tag_name "${data:1}")
    [ ! -e "$store/gl/$tag.json" ] || { echo '{"message":"Release already exists"}'; exit 22; }
    cp "${data:1}" "$store/gl/$tag.json"; echo "$tag" >> "$store/gl.order"; cat "$store/gl/$tag.json" ;;
  "$api/releases?per_page=1")
    tag=$(tail -n 1 "$store/gl.order" 2>/dev/null || true)
    if [ -n "$tag" ]; then jq -s . "$store/gl/$tag.json"; else echo '[]'; fi ;;
  *) echo "curl double: no such endpoint: $url" >&2; exit 2 ;;
esac
EOF

# docker (login), skopeo (copy: writes the manifest digest of the OCI layout it is given), cosign.
cat > "$doubles/docker" <<EOF
#!/usr/bin/env bash
printf 'docker %s\n' "\$*" >> '$store/calls.log'
[ "\$(cat)" = '$token' ] || { echo "docker double: not the token on stdin" >&2; exit 1; }
EOF
cat > "$doubles/skopeo" <<EOF
#!/usr/bin/env bash
set -euo pipefail
printf 'skopeo %s\n' "\$*" >> '$store/calls.log'
[ "\$1 \$2" = "copy --digestfile" ] || exit 2
src=\${4#oci:}
jq -r '.manifests[0].digest' "\${src%%:*}/index.json" > "\$3"
EOF
cat > "$doubles/cosign" <<EOF
#!/usr/bin/env bash
set -euo pipefail
printf 'cosign %s\n' "\$*" >> '$store/calls.log'
while [ \$# -gt 0 ]; do [ "\$1" = --predicate ] && cp "\$2" '$store/cosign-predicate.json'; shift; done
EOF
# git (clone): a checkout of reproimg whose scripts/install-deps.sh and scripts/build.sh leave the
# binary under test where scripts/build.sh puts the real one (build/, target path cli/reproimg).
cat > "$doubles/git" <<EOF
#!/usr/bin/env bash
set -euo pipefail
printf 'git %s\n' "\$*" >> '$store/calls.log'
[ "\$1" = clone ] || exit 2
dest=\${!#}
[ ! -e "\$dest" ] || { echo "fatal: destination path '\$dest' already exists" >&2; exit 128; }
mkdir -p "\$dest/scripts"
printf '#!/bin/sh\necho install-deps.sh >> $store/calls.log\n' > "\$dest/scripts/install-deps.sh"
printf '#!/bin/sh\nset -e\ncd "\$(dirname "\$0")/.."\nmkdir -p build/cli\ncp $reproimg_bin build/cli/reproimg\n' \
  > "\$dest/scripts/build.sh"
chmod +x "\$dest/scripts/"*.sh
EOF
chmod +x "$doubles"/*
# What the git double assumes of the project: scripts/build.sh builds in build/, the reproimg target
# is cli/reproimg there (ctest gives its path as $REPROIMG).
check "scripts/build.sh builds in build/ by default" grep -q '^build_dir=${BUILD_DIR:-build}$' "$root/scripts/build.sh"
case $reproimg_bin in */cli/reproimg) pass ;; *) fail "the reproimg target is not cli/reproimg: $reproimg_bin" ;; esac
# The runner's PATH: the doubles, then the system's, where reproimg is not.
runner_path=$doubles:/usr/local/bin:/usr/bin:/bin
check "reproimg is not on the runner's PATH before the install step" \
  env PATH="$runner_path" bash -c '! command -v reproimg'

# --- the repository the examples build: image/Dockerfile and its context -------------------------
repo=$work/repo
mkdir -p "$repo/image/rootfs/etc" "$repo/image/rootfs/usr/bin"
printf 'FROM scratch\nCOPY rootfs/ /\nCMD ["/usr/bin/hello"]\n' > "$repo/image/Dockerfile"
printf 'ID=example\n' > "$repo/image/rootfs/etc/os-release"
printf '#!/bin/sh\necho hello\n' > "$repo/image/rootfs/usr/bin/hello"
chmod 755 "$repo/image/rootfs/usr/bin/hello"

# The same repository with one file changed.
changed=$work/repo-changed
cp -a "$repo" "$changed"
printf '#!/bin/sh\necho HELLO\n' > "$changed/image/rootfs/usr/bin/hello"

# ci KIND JOB REF NAME [VARS_JSON]: runs JOB of KIND's example on a fresh checkout of $repo (or
# $ci_repo) at REF
# in $work/NAME (workspace ws/, scratch files beside it); $rc is the runner's exit code.
ci() {
  local kind=$1 job=$2 ref=$3 name=$4 vars=${5:-'{}'}
  local dir=$work/$name yml=$github_yml
  [ "$kind" = gitlab ] && yml=$gitlab_yml
  rm -rf "$dir"
  mkdir -p "$dir/scratch"
  cp -a "${ci_repo:-$repo}" "$dir/ws"
  jq -n --arg ref "$ref" --arg ws "$dir/ws" --arg scratch "$dir/scratch" --arg path "$runner_path" \
    --arg token "$token" --arg api "$api" --arg tmp "$TMPDIR" --arg bin "$reproimg_bin" \
    --argjson vars "$vars" \
    '{ref: $ref, workspace: $ws, scratch: $scratch, path: $path, token: $token, api_url: $api,
      repository: "example/images", project_id: "42", vars: ({REPROIMG: $bin} + $vars),
      env: {TMPDIR: $tmp, LANG: "C.UTF-8"}}' > "$dir/context.json"
  rc=0
  "$PY" "$runner" "$kind" "$yml" "$job" "$dir/context.json" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && [ -f "$dir/scratch/job.log" ]; then
    sed "s/^/  $name| /" "$dir/scratch/job.log" >&2
  fi
}

# valid_release DESCRIPTION LOCK ATTESTATION: the lock is reproimg-lock/1 and valid against its
# schema; the attestation says PASSED at bit for the lock's manifest digest and names the lock.
valid_release() {
  local what=$1 lock=$2 att=$3
  "$PY" - "$lock" "$att" "$root/docs/lock.schema.json" <<'PYEOF' && pass || fail "$what: lock and attestation"
import hashlib, json, sys
lock, att = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert lock["schema"] == "reproimg-lock/1", lock["schema"]
try:
    import jsonschema
    jsonschema.validate(lock, json.load(open(sys.argv[3])))
except ImportError:
    print("NOTICE: python3-jsonschema absent: the lock not validated against its schema")
digest = lock["images"][0]["manifest_digest"]
assert att["predicateType"] == "https://slsa.dev/verification_summary/v1", att["predicateType"]
assert [s["digest"]["sha256"] for s in att["subject"]] == [digest.split(":")[1]], att["subject"]
p = att["predicate"]
assert p["verificationResult"] == "PASSED", p["verificationResult"]
assert p["verifiedLevels"] == ["REPROIMG_REPRODUCIBLE_BIT"], p["verifiedLevels"]
assert p["policy"]["digest"]["sha256"] == hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
PYEOF
}

# junit_names DESCRIPTION FILE FAILURES [PATH]: a JUnit report with FAILURES failures in all,
# naming PATH when given.
junit_says() {
  local what=$1 file=$2 failures=$3 path=${4:-}
  if [ ! -f "$file" ]; then fail "$what: no JUnit report at $file"; return; fi
  "$PY" - "$file" "$failures" "$path" <<'PYEOF' && pass || fail "$what: JUnit report"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
n = sum(int(s.get("failures")) for s in root.iter("testsuite"))
want = int(sys.argv[2])
assert (n == 0) if want == 0 else (n > 0), f"{n} failures"
assert not sys.argv[3] or sys.argv[3] in open(sys.argv[1]).read(), f"{sys.argv[3]} not named"
PYEOF
}

# --- GitHub Actions --------------------------------------------------------------------------------
check "github-actions.yml parses, jobs release and verify" \
  "$PY" -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert set(d["jobs"]) == {"release", "verify"}' "$github_yml"

ci github verify refs/heads/main gh-norelease
equal "github, push before any release: exit" 0 "$rc"
check "github, push before any release: says so" grep -q '::notice title=reproimg::no release yet' "$work/gh-norelease/scratch/job.log"
check "github, push before any release: nothing rebuilt" test ! -e "$work/gh-norelease/ws/out/image"
ci github release refs/heads/main gh-release-on-branch
equal "github, release job on a branch push: skipped" 3 "$rc"

ci github release refs/tags/v1.0.0 gh-release1
equal "github, release v1.0.0: exit" 0 "$rc"
valid_release "github, release v1.0.0" "$store/gh/v1.0.0/base.lock" "$store/gh/v1.0.0/base.intoto.json"
check "github, release v1.0.0: no push or cosign without REPROIMG_PUSH_TO" \
  bash -c '! grep -q "^\(cosign\|skopeo\|docker\) " "$1"' _ "$store/calls.log"
ci github verify refs/tags/v1.0.0 gh-verify-on-tag
equal "github, verify job on a tag push: skipped" 3 "$rc"

# A second release, with the optional push and cosign attestation.
ci github release refs/tags/v1.1.0 gh-release2 '{"REPROIMG_PUSH_TO": "ghcr.io/example/base"}'
equal "github, release v1.1.0 with REPROIMG_PUSH_TO: exit" 0 "$rc"
valid_release "github, release v1.1.0" "$store/gh/v1.1.0/base.lock" "$store/gh/v1.1.0/base.intoto.json"
same_bytes "github, the two releases' locks (same inputs)" "$store/gh/v1.0.0/base.lock" "$store/gh/v1.1.0/base.lock"
digest=$(jq -r '.images[0].manifest_digest' "$store/gh/v1.1.0/base.lock")
check "github: docker login to ghcr.io" grep -q '^docker login ghcr.io --username octocat --password-stdin$' "$store/calls.log"
check "github: skopeo copy to ghcr.io/example/base:v1.1.0" \
  grep -q '^skopeo copy .* oci:out/image docker://ghcr.io/example/base:v1.1.0$' "$store/calls.log"
check "github: cosign attest of the locked manifest" grep -qxF \
  "cosign attest --yes --type https://slsa.dev/verification_summary/v1 --predicate out/vsa.json ghcr.io/example/base@$digest" \
  "$store/calls.log"
check "github: cosign's predicate is the attestation's" \
  cmp -s <(jq -S .predicate "$store/gh/v1.1.0/base.intoto.json") <(jq -S . "$store/cosign-predicate.json")

ci github verify refs/heads/main gh-same
s=$work/gh-same/scratch
equal "github, push with the same inputs: exit" 0 "$rc"
check "github, same inputs: the release's lock fetched" grep -q '^gh release download v1.1.0 --pattern base.lock' "$store/calls.log"
check "github, same inputs: the markdown report in the step summary" grep -q 'reproimg verify' "$s/summary.md"
check "github, same inputs: the verdict annotation" grep -q '^::notice title=reproimg verify%3A identical::.*PASSED at bit' "$s/job.log"
check "github, same inputs: PASSED in the step summary" grep -q 'PASSED at bit' "$s/summary.md"
junit_says "github, same inputs" "$s/artifacts/reproimg-verify-junit/reproimg-verify.junit.xml" 0
check "github, same inputs: SARIF sent to code scanning" test -s "$s/code-scanning/reproimg-verify.sarif"

ci_repo=$changed ci github verify refs/heads/topic gh-changed
s=$work/gh-changed/scratch
check "github, push with one file changed: the job fails" test "$rc" -eq 1
check "github, one file changed: the path in the step summary" grep -q 'FAILED at bit: .*content (usr/bin/hello)' "$s/summary.md"
check "github, one file changed: an error annotation for content" grep -q '^::error title=reproimg verify%3A content' "$s/job.log"
junit_says "github, one file changed" "$s/artifacts/reproimg-verify-junit/reproimg-verify.junit.xml" 1 usr/bin/hello
check "github, one file changed: SARIF names the path" grep -q 'usr/bin/hello' "$s/code-scanning/reproimg-verify.sarif"

# Without $REPROIMG the install step builds reproimg from source (git and the build doubled).
ci github verify refs/heads/main gh-from-source '{"REPROIMG": ""}'
equal "github, reproimg built from source: exit" 0 "$rc"
check "github, from source: the clone of REPROIMG_REF" \
  grep -q '^git clone --quiet --depth 1 --branch main https://github.com/reproimg/reproimg .*/reproimg-src$' "$store/calls.log"
check "github, from source: install-deps.sh run" grep -q '^install-deps.sh$' "$store/calls.log"
check "github, from source: verified" grep -q 'PASSED at bit' "$work/gh-from-source/scratch/summary.md"

# --- GitLab CI/CD ----------------------------------------------------------------------------------
check "gitlab-ci.yml parses, jobs release and verify" \
  "$PY" -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert {"release", "verify"} <= set(d)' "$gitlab_yml"

ci gitlab verify refs/heads/main gl-norelease
equal "gitlab, push before any release: exit" 0 "$rc"
check "gitlab, push before any release: says so" grep -q '^no release yet' "$work/gl-norelease/scratch/job.log"
check "gitlab, push before any release: nothing rebuilt" test ! -e "$work/gl-norelease/ws/out/image"
ci gitlab release refs/heads/main gl-release-on-branch
equal "gitlab, release job on a branch push: skipped" 3 "$rc"
ci gitlab release refs/tags/release-1 gl-release-other-tag
equal "gitlab, release job on a tag not v*: skipped" 3 "$rc"

ci gitlab release refs/tags/v1.0.0 gl-release1
equal "gitlab, release v1.0.0: exit" 0 "$rc"
pkg=$store/packages/base/v1.0.0
valid_release "gitlab, release v1.0.0" "$pkg/base.lock" "$pkg/base.intoto.json"
same_bytes "gitlab and github locks (same inputs)" "$store/gh/v1.0.0/base.lock" "$pkg/base.lock"
check "gitlab, release v1.0.0: the release links both package files" test "$(jq -r '.assets.links[].url' "$store/gl/v1.0.0.json")" = \
  "$(printf '%s\n' "$api/projects/42/packages/generic/base/v1.0.0/base.lock" "$api/projects/42/packages/generic/base/v1.0.0/base.intoto.json")"
check "gitlab, release v1.0.0: lock and attestation kept as artifacts" \
  test -s "$work/gl-release1/scratch/artifacts/base.lock" -a -s "$work/gl-release1/scratch/artifacts/base.intoto.json"
ci gitlab verify refs/tags/v1.0.0 gl-verify-on-tag
equal "gitlab, verify job on a tag push: skipped" 3 "$rc"

ci gitlab verify refs/heads/main gl-same
s=$work/gl-same/scratch
equal "gitlab, push with the same inputs: exit" 0 "$rc"
check "gitlab, same inputs: the text report in the log" grep -q '^verify: PASSED at bit' "$s/job.log"
junit_says "gitlab, same inputs" "$s/artifacts/reproimg-verify.junit.xml" 0

: > "$store/calls.log"
ci gitlab verify refs/heads/main gl-from-source '{"REPROIMG": ""}'
equal "gitlab, reproimg built from source: exit" 0 "$rc"
check "gitlab, from source: the clone of REPROIMG_REF" \
  grep -q '^git clone --quiet --depth 1 --branch main https://github.com/reproimg/reproimg .reproimg/src$' "$store/calls.log"
check "gitlab, from source: verified" grep -q '^verify: PASSED at bit' "$work/gl-from-source/scratch/job.log"

ci_repo=$changed ci gitlab verify refs/heads/topic gl-changed
s=$work/gl-changed/scratch
check "gitlab, push with one file changed: the job fails" test "$rc" -eq 1
check "gitlab, one file changed: the path in the log" grep -q '^verify: FAILED at bit: .*content (usr/bin/hello)' "$s/job.log"
junit_says "gitlab, one file changed" "$s/artifacts/reproimg-verify.junit.xml" 1 usr/bin/hello

# --- every step as it ran (expressions substituted) is clean under shellcheck -----------------------
for f in "$work"/gh-*/scratch/steps/*.sh "$work"/gl-*/scratch/job.sh; do
  check "shellcheck: ${f#"$work"/}" shellcheck --shell=bash --severity=warning "$f"
done

# --- the runner refuses what it does not implement (so an example cannot leave the tested subset) -
sed 's/if: github.ref_type == .tag./if: contains(github.ref, '"'"'v'"'"')/' "$github_yml" > "$work/unsupported.yml"
ctx=$work/gh-release1/context.json
rc=0
"$PY" "$runner" github "$work/unsupported.yml" release "$ctx" 2>/dev/null || rc=$?
equal "runner: an expression it does not implement is exit 2" 2 "$rc"

finish
