#!/usr/bin/env bash
# reproimg rebuild's runs side by side with plain copies: no run's exec of its build script fails
# with ETXTBSY (a child forked by one run while another run's copy of the script was still open
# for writing). Many runs (--bisect), --jobs 4, a build script large enough that its copy takes a
# while, repeated: each rebuild exits 0.
set -euo pipefail
. "$(dirname "$0")/common.sh"

need_tools head
cd "$work"
mkdir proj
{
  printf '#!/bin/sh\n'
  printf 'mkdir -p out && chmod 755 out && printf same > out/file && chmod 644 out/file\n'
  printf 'touch -h -d @0 out/file out\nexit 0\n'
  # Never read (the shell stops at exit): 24 MiB of comment lines, so that copying the script takes
  # long enough for the other runs to fork meanwhile.
  head -c 25165824 /dev/zero | tr '\0' '#' | fold -w 1023
} > proj/build.sh
chmod 755 proj/build.sh

for attempt in 1 2 3 4 5; do
  run "$REPROIMG" rebuild -C proj --bisect --jobs 4 --copy copy --artifact out -- ./build.sh
  equal "attempt $attempt: exit code ($(head -c 300 "$work/stderr"))" 0 "$rc"
done
finish
