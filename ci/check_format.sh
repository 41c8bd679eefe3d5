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
# One clang-format per batch of 40 files, two at a time (one process per file
# took a minute); each unformatted file is named in a "file:line:col: error:"
# line of clang-format's own output.
report=$(printf '%s\0' "${files[@]}" |
  xargs -0 -n 40 -P 2 clang-format --dry-run -Werror 2>&1 >/dev/null || true)
mapfile -t bad < <(printf '%s\n' "$report" | grep -oE '^[^:]+:[0-9]+:[0-9]+: (error|warning):' |
  cut -d: -f1 | sort -u)
if [ "${#bad[@]}" -eq 0 ] && printf '%s\n' "$report" | grep -q .; then
  printf '%s\n' "$report" | head -20 >&2
  echo "check_format: clang-format failed" >&2
  exit 1
fi
if [ "${#bad[@]}" -ne 0 ]; then
  printf 'check_format: not formatted: %s\n' "${bad[@]}"
  echo "check_format: ${#bad[@]} of ${#files[@]} files differ from clang-format; run ci/check_format.sh --fix"
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
