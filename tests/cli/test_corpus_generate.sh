#!/usr/bin/env bash
# corpus/generate.sh still makes the committed corpus: the same cases, the same expected records,
# and (on the tool versions of scripts/install-deps.sh) the same input bytes.
set -euo pipefail
. "$(dirname "$0")/common.sh"

need_tools tar bsdtar gzip zstd zip ar setfattr skopeo umoci cmp diff

corpus=$(cd "$(dirname "$0")/../../corpus" && pwd)
if ! bash "$corpus/generate.sh" "$work/cases" > "$work/generate.log" 2>&1; then
  cat "$work/generate.log" >&2
  fail "corpus/generate.sh failed"
  finish
fi
pass

# The same case directories, each with the same expected file.
committed=$(cd "$corpus/cases" && find . -mindepth 1 -maxdepth 1 -type d -printf '%P\n' | LC_ALL=C sort)
made=$(cd "$work/cases" && find . -mindepth 1 -maxdepth 1 -type d -printf '%P\n' | LC_ALL=C sort)
equal "the cases generate.sh makes (rerun it and commit corpus/cases)" "$committed" "$made"
for name in $made; do
  [ -d "$corpus/cases/$name" ] || continue
  same_bytes "$name/expected" "$corpus/cases/$name/expected" "$work/cases/$name/expected"
  # The inputs: a.* and b.*, the same names, and the same bytes for the files. A difference means
  # generate.sh is not repeatable or a tool changed: rerun generate.sh and review the diff. Image
  # layouts (a.oci, b.oci) hold reproimg's own output, which may change on purpose (its determinism is
  # test_import's and test_build's job): only their names are compared.
  inputs=$(cd "$corpus/cases/$name" && find . -mindepth 1 -maxdepth 1 ! -name expected -printf '%P\n' | LC_ALL=C sort)
  made_inputs=$(cd "$work/cases/$name" && find . -mindepth 1 -maxdepth 1 ! -name expected -printf '%P\n' | LC_ALL=C sort)
  equal "$name: the inputs" "$inputs" "$made_inputs"
  for f in $inputs; do
    [ -f "$corpus/cases/$name/$f" ] && [ -f "$work/cases/$name/$f" ] || continue
    if [ "$name" = embedded-timestamp-ar ] && ! is_root; then
      continue # ar records the caller's uid and gid; the committed corpus was made as root
    fi
    same_bytes "$name/$f" "$corpus/cases/$name/$f" "$work/cases/$name/$f"
  done
done
finish
