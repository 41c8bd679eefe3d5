#!/usr/bin/env bash
# Fails when a C++ file under worker/, scorers/, tests/ or bench/ differs from
# what clang-format (Debian's, with the repository's .clang-format) makes of
# it; prints the files. Fix with: ci/check_format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- 'worker/*.cpp' 'worker/*.h' 'scorers/*.cpp' 'scorers/*.h' \
  'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h')
if [ "${#files[@]}" -eq 0 ]; then
  echo "check_format: no C++ files found (not a git checkout?)" >&2
  exit 1
fi
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  echo "check_format: formatted ${#files[@]} files"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ "${#bad[@]}" -ne 0 ]; then
  printf 'check_format: not formatted: %s\n' "${bad[@]}"
  echo "check_format: ${#bad[@]} of ${#files[@]} files differ from clang-format; run ci/check_format.sh --fix"
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
