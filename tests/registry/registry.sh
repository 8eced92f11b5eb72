# Shell helpers for the registry tests (sourced by tests/cli/test_registry*.sh after common.sh).
# shellcheck shell=bash
#
# registry_need TOOL...   skip (exit 77, with a notice) when docker-registry, skopeo, openssl or
#                         another tool the script needs is missing
# registry_start NAME MODE [harness start options]
#                         a registry (tests/registry/harness.py) in MODE; its address and credentials
#                         as NAME_REGISTRY, NAME_REGISTRY_USER, NAME_REGISTRY_PASS, NAME_REGISTRY_CA,
#                         NAME_REGISTRY_CERT_DIR, NAME_TOKEN_URL, NAME_TOKEN_COUNTS; stopped on exit
# registry_proxy NAME PNAME [FAULT|--OPTION VALUE]...
#                         a fault proxy in front of NAME's registry: PNAME_PROXY, PNAME_PROXY_COUNTS
#                         (options such as --corrupt-digest D go to `harness.py proxy`)
# count_of FILE KEY       a number from a counts file of the proxy or the token service
# registry_stop NAME      stops NAME's registry and its proxies now
# rr, jget, manifest_of, remote_digest, pushed_as: running reproimg and comparing with skopeo (below)

registry_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
registry_harness="$registry_dir/harness.py"
registry_names=()

registry_need() {
  local t
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      echo "SKIP: $(basename "$0" .sh): $t is not installed (scripts/install-deps.sh installs it)"
      exit 77
    fi
  done
  if [ -z "$PY" ] || ! "$PY" -c 'import cryptography' 2>/dev/null; then
    echo "SKIP: $(basename "$0" .sh): python3 with the cryptography module is needed (python3-cryptography)"
    exit 77
  fi
}

registry_stop() {
  [ -d "$work/registry-$1" ] && "$PY" "$registry_harness" stop --state "$work/registry-$1" || true
}

registry_stop_all() {
  local n
  for n in "${registry_names[@]}"; do registry_stop "$n"; done
}
trap 'registry_stop_all; rm -rf "$work"' EXIT

registry_start() {
  local name=$1 mode=$2 out
  shift 2
  registry_names+=("$name")
  if ! out=$("$PY" "$registry_harness" start --mode "$mode" --state "$work/registry-$name" --owner-pid $$ "$@"); then
    echo "FAIL: the $mode registry did not start" >&2
    exit 1
  fi
  eval "$(printf '%s\n' "$out" | sed "s/^/${name}_/")"
}

registry_proxy() {
  local name=$1 pname=$2 out f args=()
  shift 2
  while [ $# -gt 0 ]; do
    case $1 in
      --*) args+=("$1" "$2"); shift 2 ;;
      *) args+=(--fault "$1"); shift ;;
    esac
  done
  out=$("$PY" "$registry_harness" proxy --state "$work/registry-$name" "${args[@]}") || {
    echo "FAIL: the fault proxy did not start" >&2
    exit 1
  }
  eval "$(printf '%s\n' "$out" | sed "s/^/${pname}_/")"
}

count_of() {
  "$PY" -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print(v if v is not None else "")' "$1" "$2"
}

# at_least DESCRIPTION MIN VALUE: a number is at least MIN.
at_least() {
  if [ -n "$3" ] && awk -v v="$3" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }'; then
    pass
  else
    fail "$1: expected at least $2, got '$3'"
  fi
}

# no_secret DESCRIPTION SECRET FILE...: SECRET appears in none of the files.
no_secret() {
  local what=$1 secret=$2 f
  shift 2
  for f in "$@"; do
    if [ -n "$secret" ] && grep -qF -- "$secret" "$f"; then
      fail "$what: a credential appears in $(basename "$f")"
      return
    fi
  done
  pass
}

# kind_count FILE SECTION KEY: a count of the proxy's "requests" or "responses" (0 when absent),
# e.g. kind_count "$p_PROXY_COUNTS" responses "mount 201"
kind_count() {
  "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]].get(sys.argv[3], 0))' "$1" "$2" "$3"
}

# rr NAME ARGS...: runs reproimg; $rc, $work/stdout, $work/stderr (and a copy of each under
# $work/outs, grepped for credentials at the end).
rr() {
  local name=$1
  shift
  run "$REPROIMG" "$@"
  mkdir -p "$work/outs"
  cp "$work/stdout" "$work/outs/$name.out"
  cp "$work/stderr" "$work/outs/$name.err"
}
jget() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
manifest_of() { # reproimg's manifest digest of an image (a local one)
  "$REPROIMG" digest --json "$@" > "$work/m.json" && jget "$work/m.json" manifest_digest
}
remote_digest() { # REF SKOPEO-OPTIONS...: sha256 of the manifest as the registry serves it
  local ref=$1
  shift
  skopeo inspect --raw "$@" "docker://$ref" | sha256sum | sed 's/^/sha256:/; s/ .*//'
}
# pushed_as WHAT LOCAL-LAYOUT REF SKOPEO-OPTIONS...: reproimg's push of REF said REF@DIGEST with the
# digest of the same command's oci: output, the registry serves it, and skopeo pulls the same blobs.
pushed_as() {
  local what=$1 layout=$2 ref=$3 d
  shift 3
  d=$(manifest_of "oci:$layout")
  equal "$what: pushed" 0 "$rc"
  check "$what: prints the pushed reference with its digest" grep -qF "$ref@$d" "$work/stdout"
  equal "$what: the registry serves the oci: output's manifest" "$d" "$(remote_digest "$ref" "$@")"
  rm -rf "$work/pulled"
  check "$what: skopeo pulls it" skopeo copy -q "${@/#--/--src-}" "docker://$ref" "oci:$work/pulled:x"
  check "$what: the blobs skopeo pulled are the oci: output's" diff -r "$layout/blobs" "$work/pulled/blobs"
}
