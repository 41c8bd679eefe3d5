#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang++) in build-fuzz/ and runs
# each for a bounded time over a copy of its seed corpus
# (tests/fuzz/corpus/<target>/; the checked-in one is never modified). Fails
# on any crash, leak, sanitizer report, timeout or broken invariant, and keeps
# the input that caused it as build-fuzz/artifacts/<target>/crash-<sha1> (replay
# it with build-fuzz/fuzz_<target> <file>).
#   ci/fuzz.sh [--seconds N] [--target NAME]...   (default: 45 s, every target)
# README "Fuzzing and sanitizers".
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=45
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --target) only+=("$2"); shift 2 ;;
    *) echo "usage: ci/fuzz.sh [--seconds N] [--target NAME]..." >&2; exit 2 ;;
  esac
done
bash ci/install-deps.sh   # every package: clang and libFuzzer are test packages
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DASSAY_WERROR=ON -DASSAY_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++ >/dev/null
targets=("${only[@]}")
if [ ${#targets[@]} -eq 0 ]; then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build build-fuzz -j"$(nproc)" "${build_targets[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "build-fuzz/artifacts/$t"
  cp tests/fuzz/corpus/"$t"/* "$work/$t"/
  log="build-fuzz/artifacts/$t/fuzz.log"
  # -timeout: one input slower than 10 s is a finding; -rss_limit_mb: so is
  # more than 2 GB; -max_len: inputs up to 16 KiB (the seeds are under 6 KB).
  if build-fuzz/"fuzz_$t" "$work/$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$t/" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    echo "fuzz $t: ok, ${runs:-?} inputs in ${seconds} s"
  else
    echo "fuzz $t: FAILED (log and input in build-fuzz/artifacts/$t/):"
    grep -E "ERROR|invariant broken|SUMMARY|runtime error|Test unit written" "$log" | head -20 || tail -20 "$log"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
