#!/usr/bin/env bash
# The bytes normalize, import and build write, held to recorded digests (tests/cli/byte_outputs.txt):
# every layer tar of the corpus normalised (uncompressed, gzip, zstd), a few imported as images in
# each output format, and a Dockerfile build made here from fixed inputs. A change that moves code
# must leave every line as it is; a change that means to alter an output re-records the file with
# REPROIMG_RECORD=1 and says why in its commit. The compressed digests are those of Debian 12's zlib
# and zstd.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_tools sha256sum sort

here=$(cd "$(dirname "$0")" && pwd)
recorded="$here/byte_outputs.txt"
cases_dir=$(cd "$here/../../corpus/cases" && pwd)
out="$work/lines"
: >"$out"

# record NAME FILE: one line "NAME sha256".
record() { echo "$1 $(sha256_of "$2")" >>"$out"; }

# A file tree's bytes: every file's path and sha256, in path order (for OCI layouts).
tree_digest() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) >"$work/tree.txt"
  echo "$work/tree.txt"
}

for tar in "$cases_dir"/*/a.tar "$cases_dir"/*/b.tar; do
  name=${tar#"$cases_dir"/}
  for c in none gzip zstd; do
    "$REPROIMG" normalize -q --compress "$c" "$tar" -o "$work/n.out"
    record "normalize:$c:$name" "$work/n.out"
  done
done

for name in mtime/a.tar owner-name/b.tar hardlink/a.tar content-utf8-name/a.tar; do
  tar="$cases_dir/$name"
  rm -rf "$work/i.oci"
  "$REPROIMG" import -q --source-date-epoch 1700000000 -c 'CMD ["/bin/sh"]' "$tar" -o "$work/i.oci"
  record "import:oci:$name" "$(tree_digest "$work/i.oci")"
  "$REPROIMG" import -q --format oci-archive --tag x:1 "$tar" -o "$work/i.oci.tar"
  record "import:oci-archive:$name" "$work/i.oci.tar"
  "$REPROIMG" import -q --format docker-archive --tag x:1 --profile debian "$tar" -o "$work/i.docker.tar"
  record "import:docker-archive:$name" "$work/i.docker.tar"
done

# A build from inputs made here, their mtimes and modes fixed.
ctx="$work/ctx"
mkdir -p "$ctx/etc" "$ctx/bin"
printf '#!/bin/sh\necho hello\n' >"$ctx/bin/run.sh"
printf 'name=demo\n' >"$ctx/etc/demo.conf"
chmod 0755 "$ctx/bin/run.sh"
chmod 0644 "$ctx/etc/demo.conf"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
ENV PATH=/bin LANG=C.UTF-8
COPY etc/ /etc/
ADD --chmod=0700 bin/run.sh /usr/local/bin/run.sh
WORKDIR /srv
LABEL org.example.name=demo
CMD ["/usr/local/bin/run.sh"]
DOCKERFILE
find "$ctx" -exec touch -h -d @1600000000 {} +
"$REPROIMG" build -q --source-date-epoch 1700000000 "$ctx" -o "$work/b.oci"
record "build:oci" "$(tree_digest "$work/b.oci")"
"$REPROIMG" build -q --format docker-archive --tag demo:1 "$ctx" -o "$work/b.docker.tar"
record "build:docker-archive" "$work/b.docker.tar"

if [ "${REPROIMG_RECORD:-0}" = 1 ]; then
  {
    echo "# The bytes of normalize, import and build (tests/cli/test_byte_outputs.sh); re-record with REPROIMG_RECORD=1."
    cat "$out"
  } >"$recorded"
  echo "recorded $(wc -l <"$out") outputs in $recorded"
  exit 0
fi
[ -f "$recorded" ] || { echo "FAIL: no recorded digests at $recorded (REPROIMG_RECORD=1 writes them)" >&2; exit 1; }
while read -r name digest; do
  want=$(awk -v n="$name" '$1 == n { print $2 }' "$recorded")
  if [ -z "$want" ]; then
    fail "$name: not recorded (REPROIMG_RECORD=1 adds it)"
  else
    equal "$name" "$want" "$digest"
  fi
done <"$out"
recorded_count=$(grep -vc '^#' "$recorded")
equal "outputs recorded and made" "$recorded_count" "$(wc -l <"$out")"
finish
