#!/usr/bin/env bash
# reproimg rebuild: six build scripts (tests/cli/rebuild/), each non-reproducible in one way, each
# attributed under --bisect to its variation (time, build-path, locale, umask, none), the
# reproducible one exit 0; the report's bytes independent of the temporary paths and of --jobs
# and --copy, valid against docs/rebuild.schema.json; a skipped variation said in every format;
# the build's failure exit 2 with its status and output tail; the original never changed; no
# temporary directory or mount left behind, also after an interrupt.
set -euo pipefail
. "$(dirname "$0")/common.sh"

need_tools git find touch ls taskset
root=$(cd "$(dirname "$0")/../.." && pwd)
scripts=$root/tests/cli/rebuild
cd "$work"
export REPROIMG

# The working directory: src/ with mixed-case names, a git checkout with a fixed commit time.
mkdir proj proj/src
for f in apple Banana cherry Date elder Fig; do echo "$f" > "proj/src/$f"; done
cp "$scripts"/*.sh proj/
git -C proj init -q
git -C proj add -A
GIT_COMMITTER_DATE=@1700000000 GIT_AUTHOR_DATE=@1700000000 git -C proj -c user.name=t -c user.email=t@t commit -qm one
before=$(cd proj && find . -path ./.git -prune -o -print0 | sort -z | xargs -0 ls -ld --time-style=+%s | sha256sum)

# attributed SCRIPT EXPECTED [ARTIFACT]: --bisect names EXPECTED (a list, "," between) for every
# difference, exit 1.
attributed() {
  local script=$1 want=$2 artifact=${3:-out}
  run "$REPROIMG" rebuild -C proj --bisect --jobs 2 --format json --output "$script.json" --artifact "$artifact" -- "./$script"
  local state
  state=$("$PY" -c 'import json,sys; print([v["state"] for v in json.load(open(sys.argv[1]))["rebuild"]["variations"] if v["name"] == sys.argv[2]][0] if sys.argv[2] != "none" else "varied")' "$script.json" "$want" 2>/dev/null || echo "no report")
  if [ "$state" = skipped ]; then
    echo "notice: $script: $want is skipped on this machine; its attribution is not checked" >&2
    return
  fi
  equal "$script: exit code (stderr: $(head -c 300 "$work/stderr"))" 1 "$rc"
  local got
  got=$("$PY" - "$script.json" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
ds = doc["report"]["differences"]
print(",".join(sorted({",".join(d["variations"]) for d in ds})) if ds else "(no difference)")
PYEOF
)
  equal "$script: attributed to" "$want" "$got"
}

attributed date.sh time
attributed build_path.sh build-path
attributed ls.sh locale
attributed umask.sh umask
attributed random.sh none

# The reproducible one: exit 0, with and without --bisect; SOURCE_DATE_EPOCH from the commit.
run "$REPROIMG" rebuild -C proj --artifact oci-archive:out/image.tar --format json --output repro.json -- ./reproducible.sh
equal "reproducible: exit code ($(head -c 300 "$work/stderr"))" 0 "$rc"
equal "reproducible: epoch from git" "1700000000 git" \
  "$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["rebuild"]; print(r["source_date_epoch"], r["source_date_epoch_from"])' repro.json)"
run "$REPROIMG" rebuild -C proj --bisect --jobs 2 --artifact oci-archive:out/image.tar -- ./reproducible.sh
equal "reproducible --bisect: exit code" 0 "$rc"
SOURCE_DATE_EPOCH=1600000000 "$REPROIMG" rebuild -C proj --vary none --artifact out --format json --output env.json -- ./umask.sh
equal "epoch from the environment" "1600000000 SOURCE_DATE_EPOCH" \
  "$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["rebuild"]; print(r["source_date_epoch"], r["source_date_epoch_from"])' env.json)"

# Without --bisect: one pair of runs, every difference to the variations varied together.
run "$REPROIMG" rebuild -C proj --vary umask,build-path --artifact out -- ./build_path.sh
equal "two runs: exit code" 1 "$rc"
check "two runs: the runs listed" grep -qx "runs: control varied" "$work/stdout"
check "two runs: varied together" grep -q "variations: build-path, umask" "$work/stdout"

# The report's bytes: not the temporary paths, the same for --jobs 1 and 2, --copy copy and auto.
"$REPROIMG" rebuild -C proj --bisect --jobs 1 --copy copy --artifact out -- ./build_path.sh > bp1.txt || true
"$REPROIMG" rebuild -C proj --bisect --jobs 2 --artifact out -- ./build_path.sh > bp2.txt || true
same_bytes "report independent of --jobs and --copy" bp1.txt bp2.txt
check "the control build ran where the original is" grep -q -- "-built at $work/proj\$" bp1.txt
check "the varied build path too" grep -q '<tmp>/build-path-varied/source' bp1.txt
if grep -q "$TMPDIR" bp1.txt build_path.sh.json; then fail "a report names the temporary directory"; else pass; fi

# Every format renders; JSON validates against the schema; a skipped variation is named in each.
for fmt in text json markdown html junit sarif github; do
  run taskset -c 0 "$REPROIMG" rebuild -C proj --vary cpus,umask --format "$fmt" --artifact out -- ./umask.sh
  equal "$fmt: exit code" 1 "$rc"
  check "$fmt: cpus skipped with its reason" grep -q "cpus.*one CPU only" "$work/stdout"
  check "$fmt: the variation of the difference" grep -q "umask" "$work/stdout"
  cp "$work/stdout" "report.$fmt"
done
"$PY" - "$root/docs/rebuild.schema.json" "$root/docs/diff-report.schema.json" report.json date.sh.json repro.json <<'PYEOF' && pass || fail "rebuild JSON reports validate against docs/rebuild.schema.json"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
diff = json.load(open(sys.argv[2]))
resolver = jsonschema.RefResolver.from_schema(schema, store={diff["$id"]: diff})
for path in sys.argv[3:]:
    jsonschema.Draft202012Validator(schema, resolver=resolver).validate(json.load(open(path)))
PYEOF

# The build's own failure: exit 2, its status and the tail of its output.
run "$REPROIMG" rebuild -C proj --artifact out -- sh -c 'echo first line; echo "the last words"; exit 3'
equal "failed build: exit code" 2 "$rc"
check "failed build: its status" grep -q "run 'control': exit status 3" "$work/stderr"
check "failed build: its output tail" grep -q "  | the last words" "$work/stderr"
run "$REPROIMG" rebuild -C proj --artifact out/none -- ./date.sh
says_error "no artifact" 2 "no artifact there in run 'control'"
run "$REPROIMG" rebuild -C proj --artifact ../x -- ./date.sh
says_error "artifact outside" 2 "--artifact must be a path inside the working directory"
mkdir -p proj-tmp
run "$REPROIMG" rebuild -C . --tmpdir proj-tmp --artifact out -- ./date.sh
says_error "temporary directory inside the copied one" 2 "give --tmpdir a directory outside it"
rmdir proj-tmp
run "$REPROIMG" rebuild -C proj --vary colour --artifact out -- ./date.sh
says_error "unknown variation" 2 "--vary takes"
run "$REPROIMG" rebuild -C proj --artifact out -- no-such-build-command
equal "command not found: exit code" 2 "$rc"
check "command not found: said" grep -q "could not start: no-such-build-command" "$work/stderr"

# What a build leaves running in the background is killed when the build ends.
run "$REPROIMG" rebuild -C proj --vary none --artifact out -- sh -c "mkdir -p out; sleep 30 & echo \$! >> $work/bg.pids"
equal "background job: exit code" 0 "$rc"
# (gone, or a zombie its new parent has not reaped yet)
dead() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null || true)
  case $state in "" | Z* | X*) return 0 ;; *) echo "process $1: $state" >&2; return 1 ;; esac
}
for p in $(cat bg.pids); do check "background job $p killed" dead "$p"; done

# The original is untouched; nothing left in $TMPDIR, no mount left.
after=$(cd proj && find . -path ./.git -prune -o -print0 | sort -z | xargs -0 ls -ld --time-style=+%s | sha256sum)
equal "the working directory is unchanged" "$before" "$after"
equal "no temporary directory left" "" "$(ls "$TMPDIR")"
check "no mount left" bash -c "! grep -q '$TMPDIR' /proc/mounts"

# Without mount namespaces (a user without CAP_SYS_ADMIN): plain copies, the runs that share a
# build path one at a time; the same attribution.
if is_root && command -v setpriv > /dev/null 2>&1; then
  chmod 755 "$work"
  mkdir -m 777 "$work/as-user" "$work/as-user/tmp"
  cp -a proj "$work/as-user/proj"
  chmod -R a+rwX "$work/as-user/proj"
  run setpriv --reuid=65534 --regid=65534 --clear-groups env TMPDIR="$work/as-user/tmp" HOME=/nonexistent \
    "$REPROIMG" rebuild -v -C "$work/as-user/proj" --bisect --jobs 2 --vary umask,build-path,file-order \
    --format json --output "$work/as-user/r.json" --artifact out -- ./umask.sh
  equal "as a user: exit code ($(head -c 300 "$work/stderr"))" 1 "$rc"
  check "as a user: plain copies, one run at a time" grep -q "copies by copy; runs that share a build path one at a time" "$work/stderr"
  # file-order varies where /dev/fuse is open to users, else is skipped with the reason.
  equal "as a user: attributed to umask, file-order varied or skipped" "umask True" "$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(",".join(sorted({",".join(x["variations"]) for x in d["report"]["differences"]})),
      [v["state"] in ("varied", "skipped") and (v["state"] == "varied") != bool(v.get("reason")) for v in d["rebuild"]["variations"] if v["name"] == "file-order"][0])' "$work/as-user/r.json")"
  equal "as a user: no temporary directory left" "" "$(ls "$work/as-user/tmp")"
  rm -rf "$work/as-user"
else
  echo "notice: not root (or no setpriv): the run without mount namespaces is not checked" >&2
fi

# An interrupt: the build killed, the copies unmounted and removed, exit 143.
"$REPROIMG" rebuild -C proj --jobs 2 --artifact out -- sh -c "echo \$\$ >> $work/build.pids; exec sleep 30" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ "$(wc -l < build.pids 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.1; done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
equal "interrupt: exit code" 143 "$rc"
equal "interrupt: no temporary directory left" "" "$(ls "$TMPDIR")"
check "interrupt: no mount left" bash -c "! grep -q '$TMPDIR' /proc/mounts"
for p in $(cat build.pids); do check "interrupt: build $p killed" bash -c "! kill -0 $p 2>/dev/null"; done

finish
