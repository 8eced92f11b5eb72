#!/usr/bin/env bash
# End-to-end: every file of the third-party tar corpora either normalises or is refused cleanly.
#
# For each file of $REPROIMG_CONFORMANCE_DIR/{go-archive-tar,libarchive,python-tarfile,tar-split}
# (read in place, never copied): exit 0 or exit 2 within 20 s, never a crash; a refusal is one line
# naming the file and leaves no output; the pipe form agrees with the file form (file inputs take a
# seek-based fast path, pipes are spooled); an accepted file's layer is readable by GNU tar and
# normalises to itself. Files the corpora's CATALOG.md say a strict reader must reject are refused,
# files they call valid are accepted, except the lists below, which are printed, not failed.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools tar gzip sha1sum sha256sum timeout

corpus_root=${REPROIMG_CONFORMANCE_DIR:-}
if [ -z "$corpus_root" ] || [ ! -d "$corpus_root" ]; then
  echo "SKIP: no conformance corpora (REPROIMG_CONFORMANCE_DIR='$corpus_root' is not a directory)"
  exit 77
fi
corpora=(go-archive-tar libarchive python-tarfile tar-split)
present=()
for c in "${corpora[@]}"; do
  if [ -d "$corpus_root/$c" ]; then present+=("$c"); else echo "NOTE: corpus $c is absent: not checked"; fi
done
if [ ${#present[@]} -eq 0 ]; then
  echo "SKIP: none of ${corpora[*]} is under $corpus_root"
  exit 77
fi

# "Expected to be rejected" / "Must be rejected" / "reject" rows of each CATALOG.md.
must_reject=(
  go-archive-tar/testdata/pax-bad-hdr-file.tar
  go-archive-tar/testdata/pax-bad-mtime-file.tar
  go-archive-tar/testdata/pax-bad-hdr-large.tar.bz2
  go-archive-tar/testdata/pax-nul-xattrs.tar
  go-archive-tar/testdata/pax-nul-path.tar
  go-archive-tar/testdata/neg-size.tar
  go-archive-tar/testdata/issue10968.tar
  go-archive-tar/testdata/issue11169.tar
  go-archive-tar/testdata/issue12435.tar
  go-archive-tar/testdata/writer-big.tar      # the 16 GiB of data are absent: unexpected EOF
  go-archive-tar/testdata/writer-big-long.tar
  libarchive/libarchive-test/test_read_format_tar_V_negative_size.tar
  libarchive/libarchive-test/test_read_format_tar_invalid_pax_size.tar
  libarchive/libarchive-test/test_read_format_tar_pax_g_large.tar
  libarchive/libarchive-test/test_read_filter_gzip_recursive.gz
  libarchive/libarchive-test/test_read_too_many_filters.gz
  libarchive/libarchive-test/test_read_filter_zstd_raw_loop
  python-tarfile/testdata/recursion.tar
  python-tarfile/derived/premature-eof-512.tar
  python-tarfile/derived/premature-eof-600.tar
  python-tarfile/derived/premature-eof-1024.tar
  python-tarfile/derived/premature-eof-1200.tar
  python-tarfile/derived/truncated-longname-gnu.tar
  python-tarfile/derived/truncated-longname-pax.tar
  python-tarfile/derived/pax-bad-record-00.tar
  python-tarfile/derived/pax-bad-record-01.tar
  python-tarfile/derived/pax-bad-record-02.tar
  python-tarfile/derived/pax-bad-record-03.tar
  python-tarfile/derived/pax-bad-record-04.tar
  python-tarfile/derived/pax-bad-record-05.tar
  python-tarfile/derived/pax-bad-record-06.tar
  python-tarfile/derived/pax-bad-record-07.tar
  python-tarfile/derived/pax-bad-record-08.tar
  python-tarfile/derived/pax-bad-record-09.tar
  python-tarfile/derived/offset-invalid-posix.tar # the six negative base-256 sizes ("Finding")
  python-tarfile/derived/offset-invalid-gnu.tar
  python-tarfile/derived/offset-invalid-v7.tar
  python-tarfile/derived/offset-invalid-gnu-x3-with-data.tar
  python-tarfile/derived/offset-invalid-then-valid-gnu.tar
  python-tarfile/derived/offset-valid-invalid-valid-gnu.tar
  python-tarfile/derived/ignore-zeros-a.tar # 1024 bytes of 'a' where a header belongs
)

# Known gaps: must-reject files that reproimg accepts today. Printed on every run; a gap that
# gets closed fails the run until it is removed from this list, so the list stays true. (Empty:
# the last three, which libarchive 3.6 accepts without a warning, are caught by reproimg's own
# checks of the raw header blocks, readers/tar_headers.)
declare -A known_gap=()

# Malformed files no catalog judges, refused on purpose (a test fails if one is accepted).
declare -A also_refused=(
  [libarchive/libarchive-test/test_read_format_tar_pax_timestamps.tar]="unparsable pax mtime '1748089464.951928467a': Go rejects it, newer libarchive warns and ignores the record, 3.6 reads a time from it"
)

# Files the catalogs call valid ("OK", "must be accepted", "should accept").
must_accept=(
  go-archive-tar/testdata/gnu.tar go-archive-tar/testdata/v7.tar go-archive-tar/testdata/star.tar
  go-archive-tar/testdata/ustar.tar go-archive-tar/testdata/pax.tar go-archive-tar/testdata/pax-records.tar
  go-archive-tar/testdata/pax-global-records.tar go-archive-tar/testdata/pax-pos-size-file.tar
  go-archive-tar/testdata/gnu-multi-hdrs.tar go-archive-tar/testdata/gnu-long-nul.tar
  go-archive-tar/testdata/gnu-utf8.tar go-archive-tar/testdata/gnu-not-utf8.tar
  go-archive-tar/testdata/gnu-incremental.tar go-archive-tar/testdata/sparse-formats.tar
  go-archive-tar/testdata/gnu-nil-sparse-data.tar go-archive-tar/testdata/gnu-nil-sparse-hole.tar
  go-archive-tar/testdata/pax-nil-sparse-data.tar go-archive-tar/testdata/pax-nil-sparse-hole.tar
  go-archive-tar/testdata/xattrs.tar go-archive-tar/testdata/nil-uid.tar
  go-archive-tar/testdata/ustar-file-devs.tar go-archive-tar/testdata/invalid-go17.tar
  go-archive-tar/testdata/trailing-slash.tar go-archive-tar/testdata/hardlink.tar
  go-archive-tar/testdata/file-and-dir.tar go-archive-tar/testdata/writer.tar
  go-archive-tar/testdata/hdr-only.tar go-archive-tar/testdata/ustar-file-reg.tar
  libarchive/libarchive-test/test_read_format_tar_empty_with_gnulabel.tar
  libarchive/libarchive-test/test_read_format_tar_concatenated.tar
  libarchive/libarchive-test/test_read_format_gtar_sparse_1_17_posix10_modified.tar
  libarchive/libarchive-test/test_read_format_tar_timestamp_overflow.tar
  libarchive/libarchive-test/test_read_format_tar_pax_negative_time.tar
  libarchive/derived-from-Z/test_read_format_tar_empty_pax.tar
  libarchive/derived-from-Z/test_read_format_gtar_sparse_length.tar
  libarchive/derived-from-Z/test_read_format_gtar_redundant_L.tar
  python-tarfile/testdata/testtar.tar python-tarfile/testdata/testtar.tar.xz
  python-tarfile/derived/testtar.tar.gz python-tarfile/derived/testtar.tar.bz2
  python-tarfile/derived/testtar.tar.xz python-tarfile/derived/testtar.tar.zst
  python-tarfile/derived/ignore-zeros-nul.tar
)
# Valid files refused on purpose: printed, not failed.
declare -A deliberate_refusal=(
  [go-archive-tar/testdata/gnu-sparse-big.tar]="sparse holes over --max-sparse-fill (60 GB declared)"
  [go-archive-tar/testdata/pax-sparse-big.tar]="sparse holes over --max-sparse-fill (60 GB declared)"
  [go-archive-tar/testdata/pax-path-hdr.tar]="a pax header with no entry: Go reads an empty archive, libarchive and Python a damaged one"
  [libarchive/libarchive-test/test_read_format_tar_empty_filename.tar]="an entry with an empty name has no place in a layer"
)

is_listed() { # is_listed REL ARRAY-NAME
  local -n list=$2
  local x
  for x in "${list[@]}"; do [ "$x" = "$1" ] && return 0; done
  return 1
}

outdir=$work/out
mkdir -p "$outdir"
declare -A outcome # rel -> accepted | refused

# run_cmp EXPECTED CMD...: runs CMD under timeout; sets c_rc (its exit code) and c_same (yes when
# its stdout is byte-identical to the file EXPECTED). Streams compare without landing on disk.
run_cmp() {
  local expected=$1
  shift
  c_same=yes
  { local r=0; timeout 20 "$@" 2> "$work/c.err" || r=$?; echo "$r" > "$work/c.rc"; } | cmp -s - "$expected" || c_same=no
  c_rc=$(cat "$work/c.rc")
}

bad_rc() { # bad_rc RC: a timeout (124) or a signal (>= 128), or anything but 0 and 2
  [ "$1" -eq 124 ] || [ "$1" -ge 128 ] || { [ "$1" -ne 0 ] && [ "$1" -ne 2 ]; }
}

one_line_naming() { # one_line_naming WHAT ERRFILE NAME
  local lines msg
  lines=$(wc -l < "$2")
  msg=$(head -n 1 "$2")
  if [ "$lines" -eq 1 ] && [[ $msg == "reproimg: error: "* ]] && [[ $msg == *"$3"* ]]; then
    pass
  else
    fail "$1: want one 'reproimg: error: ...' line naming $3, got $lines line(s): $(head -c 300 "$2" | tr '\n' '|')"
  fi
}

n_files=0
n_accepted=0
n_refused=0
for c in "${present[@]}"; do
  while IFS= read -r -d '' f; do
    rel=${f#"$corpus_root"/}
    case $(basename "$f") in
      CATALOG.md | README.md | SHA256SUMS | *.tsv | *.py) continue ;;
    esac
    n_files=$((n_files + 1))
    rm -rf "${outdir:?}"/* "${outdir:?}"/.[!.]* 2> /dev/null || true
    sha_before=$(sha256_of "$f")

    rc=0
    timeout 20 "$REPROIMG" normalize -q "$f" -o "$outdir/layer.tar" 2> "$work/err" || rc=$?
    if bad_rc "$rc"; then
      case $rc in
        124) fail "$rel: normalize did not finish within 20 s" ;;
        *) fail "$rel: normalize exited $rc (crash or unexpected code): $(head -c 300 "$work/err" | tr '\n' '|')" ;;
      esac
      continue
    fi
    pipe_form=(sh -c 'cat "$2" | "$1" normalize -q - -o -' sh "$REPROIMG" "$f")
    if [ "$rc" -eq 0 ]; then
      n_accepted=$((n_accepted + 1))
      outcome[$rel]=accepted
      if [ ! -f "$outdir/layer.tar" ]; then
        fail "$rel: exit 0 but no output file"
        continue
      fi
      # The pipe form (spooled) must agree with the file form (seek fast path for plain tar).
      run_cmp "$outdir/layer.tar" "${pipe_form[@]}"
      if [ "$c_rc" -eq 0 ] && [ $c_same = yes ]; then
        pass
      else
        fail "$rel: cat FILE | normalize - -o - differs from the file form (exit $c_rc, same bytes: $c_same): $(head -c 300 "$work/c.err" | tr '\n' '|')"
      fi
      run_cmp "$outdir/layer.tar" "$REPROIMG" normalize -q "$outdir/layer.tar" -o -
      if [ "$c_rc" -eq 0 ] && [ $c_same = yes ]; then
        pass
      else
        fail "$rel: normalize(normalize(x)) != normalize(x) (exit $c_rc, same bytes: $c_same): $(head -c 300 "$work/c.err" | tr '\n' '|')"
      fi
      if tar -tf "$outdir/layer.tar" > /dev/null 2> "$work/tar.err"; then
        pass
      else
        fail "$rel: GNU tar cannot list the normalised layer: $(head -n 2 "$work/tar.err" | tr '\n' '|')"
      fi
      left=$(find "$outdir" -mindepth 1 ! -name layer.tar)
      equal "$rel: no temp file beside the output" "" "$left"
    else
      n_refused=$((n_refused + 1))
      outcome[$rel]=refused
      one_line_naming "$rel: refusal" "$work/err" "$f"
      equal "$rel: refused: nothing left in the output directory" "" "$(ls -A "$outdir")"
      # The pipe form must refuse too, as cleanly.
      pipe_rc=0
      timeout 20 sh -c 'cat "$2" | "$1" normalize -q - -o "$3"' sh "$REPROIMG" "$f" "$outdir/layer.tar" \
        2> "$work/c.err" || pipe_rc=$?
      equal "$rel: refused from a file, so refused from a pipe too" 2 "$pipe_rc"
      if [ "$pipe_rc" -eq 2 ]; then
        one_line_naming "$rel: refusal from a pipe" "$work/c.err" "<stdin>"
        equal "$rel: refused from a pipe: nothing left in the output directory" "" "$(ls -A "$outdir")"
      fi
    fi
    equal "$rel: input unchanged" "$sha_before" "$(sha256_of "$f")"
  done < <(find "$corpus_root/$c" -type f -print0 | sort -z)
done

# --- the catalogs' verdicts
gaps_seen=()
for rel in "${must_reject[@]}"; do
  corpus=${rel%%/*}
  is_listed "$corpus" present || continue
  if [ -z "${outcome[$rel]:-}" ]; then
    fail "$rel: listed as must-reject but not in the corpus (renamed?)"
  elif [ -n "${known_gap[$rel]:-}" ]; then
    if [ "${outcome[$rel]}" = accepted ]; then
      gaps_seen+=("$rel: ${known_gap[$rel]}")
      pass
    else
      fail "$rel: known gap is closed (now refused): remove it from known_gap in $(basename "$0")"
    fi
  else
    equal "$rel: a strict reader must reject it (CATALOG.md)" refused "${outcome[$rel]}"
  fi
done
for rel in "${!known_gap[@]}"; do
  is_listed "$rel" must_reject || fail "known_gap lists $rel, which is not in must_reject"
done
for rel in "${!also_refused[@]}"; do
  corpus=${rel%%/*}
  is_listed "$corpus" present || continue
  if [ -z "${outcome[$rel]:-}" ]; then
    fail "$rel: listed in also_refused but not in the corpus (renamed?)"
  else
    equal "$rel: refused on purpose (${also_refused[$rel]})" refused "${outcome[$rel]}"
  fi
done

# --- a refusal does not depend on the compression: each must-reject tar (and also_refused), fed
# compressed through a pipe, is refused as well. reproimg decompresses whatever the compression and
# hands the tar bytes to one reader, whose header checks see them the same way.
compressors=()
for z in gzip bzip2 xz zstd; do
  if command -v "$z" > /dev/null; then compressors+=("$z"); else echo "NOTE: $z is absent: compressed refusals not checked with it"; fi
done
for rel in "${must_reject[@]}" "${!also_refused[@]}"; do
  [ "${outcome[$rel]:-}" = refused ] || continue
  f=$corpus_root/$rel
  # Only plain tars: a compressed file compressed again is a nested stream, refused for that alone.
  case $(od -An -tx1 -N4 "$f" | tr -d ' \n') in 1f8b* | 425a68* | fd377a58* | 28b52ffd*) continue ;; esac
  for z in "${compressors[@]}"; do
    rc=0
    timeout 20 sh -c '"$2" -c < "$3" | "$1" normalize -q - -o -' sh "$REPROIMG" "$z" "$f" > /dev/null 2> "$work/z.err" || rc=$?
    equal "$rel: refused when $z-compressed, from a pipe" 2 "$rc"
    [ "$rc" -ne 2 ] || one_line_naming "$rel: $z refusal" "$work/z.err" "<stdin>"
  done
done
for rel in "${must_accept[@]}"; do
  corpus=${rel%%/*}
  is_listed "$corpus" present || continue
  if [ -z "${outcome[$rel]:-}" ]; then
    fail "$rel: listed as valid but not in the corpus (renamed?)"
  else
    equal "$rel: valid per CATALOG.md, must normalise" accepted "${outcome[$rel]}"
  fi
done
for rel in "${!deliberate_refusal[@]}"; do
  corpus=${rel%%/*}
  is_listed "$corpus" present || continue
  if [ "${outcome[$rel]:-}" = accepted ]; then
    fail "$rel: listed as a deliberate refusal but now accepted: update deliberate_refusal"
  fi
done

# --- tar-split: the decompressed sizes and SHA-1s of its CATALOG.md
if is_listed tar-split present; then
  ts=$corpus_root/tar-split
  rows=0
  while IFS='|' read -r _ name _ size sha1 _; do
    name=$(echo "$name" | tr -d ' ')
    size=$(echo "$size" | grep -o '^ *[0-9]*' | tr -d ' ')
    sha1=$(echo "$sha1" | tr -d ' ')
    [[ $sha1 =~ ^[0-9a-f]{40}$ ]] && [ -n "$size" ] || continue
    rows=$((rows + 1))
    if [[ $name == *…* ]]; then # an abbreviated name: prefix…suffix
      matches=("$ts"/tar/asm/testdata/"${name%%…*}"*"${name##*…}")
    else
      matches=("$ts/tar/asm/testdata/$name")
    fi
    f=${matches[0]}
    if [ ${#matches[@]} -ne 1 ] || [ ! -f "$f" ]; then
      fail "tar-split CATALOG.md row '$name': no such file"
      continue
    fi
    json=$(timeout 20 "$REPROIMG" digest --json "$f") || { fail "$name: reproimg digest failed"; continue; }
    get() { echo "$json" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
    equal "tar-split $name: digest tar_size = the catalog's decompressed size" "$size" "$(get tar_size)"
    equal "tar-split $name: the catalog's SHA-1 of the decompressed tar" "$sha1" "$(gzip -dc "$f" | sha1sum | cut -d' ' -f1)"
    equal "tar-split $name: digest diff_id = sha256 of the decompressed tar" \
      "sha256:$(gzip -dc "$f" | sha256sum | cut -d' ' -f1)" "$(get diff_id)"
    equal "tar-split $name: digest blob_digest = sha256 of the file" "sha256:$(sha256_of "$f")" "$(get blob_digest)"
  done < "$ts/CATALOG.md"
  equal "tar-split CATALOG.md: rows with a size and SHA-1" 7 "$rows"
fi

echo "conformance: $n_files files: $n_accepted normalised, $n_refused refused"
if [ ${#gaps_seen[@]} -gt 0 ]; then
  echo "KNOWN GAPS (a strict reader must reject these; reproimg accepts them today):"
  printf '  %s\n' "${gaps_seen[@]}"
fi
for rel in "${!deliberate_refusal[@]}"; do
  if [ "${outcome[$rel]:-}" = refused ]; then
    echo "deliberately refused (valid per CATALOG.md): $rel: ${deliberate_refusal[$rel]}"
  fi
done
finish
