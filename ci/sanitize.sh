#!/usr/bin/env bash
# The unit tests (assay_unit_tests and each scorer's test_scorer_<name>) built
# with AddressSanitizer and UndefinedBehaviorSanitizer (gcc), in build-asan/
# beside the normal build/. Any report (memory error, leak, undefined
# behaviour) fails the test that caused it, so the script fails.
#   ci/sanitize.sh [ctest args...]   e.g. ci/sanitize.sh -R unit
# README "Fuzzing and sanitizers".
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh --build-only
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# -O1: less compile time than -O2, and the reports keep their lines. Warnings
# are not fatal here (ci/build.sh makes them fatal): with the sanitizers gcc
# reports false "may be used uninitialized" in libstdc++'s <regex>.
# glibc's malloc (ASSAY_ALLOCATOR=system): the sanitizers replace malloc themselves.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASSAY_WERROR=OFF -DASSAY_ALLOCATOR=system \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS="$san -Wno-maybe-uninitialized" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
targets=(--target assay_unit_tests)
for f in scorers/*/CMakeLists.txt; do
  if grep -q "TESTS" "$f"; then
    targets+=(--target "test_scorer_$(basename "$(dirname "$f")")")
  fi
done
cmake --build build-asan -j"$(nproc)" "${targets[@]}"
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-asan
ctest --output-on-failure --timeout 900 -R '^(unit|unit\.postgres|scorer\..*)$' "$@"
