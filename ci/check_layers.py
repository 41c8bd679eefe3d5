#!/usr/bin/env python3
"""Fails on an #include that reaches a layer it may not use.

The table is worker/layers.txt (the build links the same table). A file in
worker/<layer>/ may include "<layer>/..." and "<dep>/..." for each dep its
line lists; a scorer in scorers/<name>/ may include its own folder and what
the `scorers` line (or a `scorers/<name>` line) lists. Prints every
violation as file:line and exits 1; exits 0 with a summary otherwise.
Usage: ci/check_layers.py [REPO_ROOT]
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
table = {}
for line in (root / "worker/layers.txt").read_text().splitlines():
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, deps = line.partition(":")
    table[name.strip()] = set(deps.split())

layers = {k for k in table if "/" not in k and k != "scorers"}
unknown = [d for deps in table.values() for d in deps if d not in layers]
if unknown:
    sys.exit(f"worker/layers.txt names unknown layers: {sorted(set(unknown))}")
folders = {p.name for p in (root / "worker").iterdir() if p.is_dir()}
if folders != layers:
    sys.exit(f"worker/ folders {sorted(folders)} and the layers of worker/layers.txt {sorted(layers)} differ")

include_re = re.compile(r'^\s*#\s*include\s+"([^"/]+)/')
violations = []
checked = 0


def check(path, own, allowed, local):
    global checked
    checked += 1
    for n, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = include_re.match(text)
        if not m:
            continue
        target = m.group(1)
        if target == own or target in allowed or target in local:
            continue
        violations.append(f"{path.relative_to(root)}:{n}: {own} may not include \"{target}/...\""
                          f" (allowed: {', '.join(sorted(allowed)) or 'nothing'}; worker/layers.txt)")


for layer in sorted(layers):
    for path in sorted((root / "worker" / layer).rglob("*")):
        if path.suffix in (".h", ".cpp"):
            check(path, layer, table[layer], set())

scorers_dir = root / "scorers"
for folder in sorted(p for p in scorers_dir.iterdir() if p.is_dir()):
    allowed = table.get(f"scorers/{folder.name}", table.get("scorers", set()))
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".h", ".cpp"):
            # A scorer's tests may use the shared test support (tests/support).
            local = {"support"} if path.stem.endswith("_test") else set()
            check(path, folder.name, allowed, local)

if checked == 0:
    sys.exit("check_layers: no source files found; is the repository root right?")
for v in violations:
    print(v)
if violations:
    print(f"check_layers: {len(violations)} include(s) reach a layer they may not use")
    sys.exit(1)
print(f"check_layers: {checked} files in {len(layers)} layers and {len(list(scorers_dir.iterdir()))} scorers, "
      "every include allowed")
