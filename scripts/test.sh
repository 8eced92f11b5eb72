#!/usr/bin/env bash
# README command 2: install what is missing, build, and run the whole test suite (ctest); then the
# unit suites again under ASan + UBSan and every fuzz target for REPROIMG_FUZZ_SECONDS (15) seconds.
# REPROIMG_FUZZ_SECONDS=0 skips the fuzz run (the sanitized suites still run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
start=$SECONDS
scripts/build.sh -DREPROIMG_WERROR=ON
echo "== unit and end-to-end suites (build/)"
(cd build && ctest --output-on-failure -j"$(nproc)" --timeout 600)
echo "== took $((SECONDS - start)) s"

# One clang build serves both: ASan + UBSan everywhere, -O1, libFuzzer coverage instrumentation;
# only the libraries, the unit-test executables and the fuzz targets are built in it. It is a unity
# build (the sources of a target compiled a batch at a time: the JSON and Boost.Test headers are
# parsed once per batch, not once per file), which takes 30% less CPU; the build above compiles
# every file on its own, so a file that misses an include still fails there.
start=$SECONDS
asan_dir=${ASAN_BUILD_DIR:-build-asan}
cmake -S . -B "$asan_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DREPROIMG_FUZZ=ON -DREPROIMG_TESTS=ON \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" >/dev/null
cmake --build "$asan_dir" --target reproimg_unit_tests reproimg_fuzz_all -j"$(nproc)"
echo "== sanitized build took $((SECONDS - start)) s"
fuzz_status=0
if [ "${REPROIMG_FUZZ_SECONDS:-15}" -gt 0 ]; then
  start=$SECONDS
  echo "== fuzz targets, ${REPROIMG_FUZZ_SECONDS:-15} s each"
  REPROIMG_FUZZ_BUILD_DIR="$asan_dir" tests/fuzz/run "${REPROIMG_FUZZ_SECONDS:-15}" || fuzz_status=$?
  echo "== took $((SECONDS - start)) s"
fi
echo "== unit suites under ASan + UBSan ($asan_dir/)"
export UBSAN_OPTIONS=print_stacktrace=1
# The truncation sweep tries every cut of its layers; under ASan every 17th is enough.
(cd "$asan_dir" && REPROIMG_SWEEP_STRIDE=17 ctest --output-on-failure -j"$(nproc)" --timeout 600 -R '^unit\.')
if [ "$fuzz_status" -ne 0 ]; then
  echo "== FAILED: the fuzz targets reported a finding (exit $fuzz_status; the input is printed above)"
  exit "$fuzz_status"
fi
exit 0
