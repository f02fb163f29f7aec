"""Precision on real code: run querylint over fetched projects and write a triage sheet.

    python benchmarks/triage.py --out triage.md --per-rule 3 --seed 7 /path/to/projectA /path/to/projectB

Each project folder is linted from its root (``querylint --format json --no-cache .``, the
installed ``querylint`` unless ``--cmd`` says otherwise). From all findings, a random sample is
drawn, seeded and stratified by rule (at most ``--per-rule`` per rule per project, so a rule
that fires a thousand times does not drown the others), and written as a Markdown sheet: for
each finding its project, path, line, rule, message, fix, call path, and the surrounding code
(the enclosing function, cut to ``--context`` lines around the finding), with a blank verdict
line to fill in: ``verdict: tp | fp | debatable -- reason``.

``--summary SHEET`` reads a filled-in sheet back and prints precision per family (QL1 N+1, QL2
connections, QL3 SQL, QL4 over-fetch): real / (real + wrong), and the share of "debatable"
(true but not worth fixing).

The projects are not part of this repository (fetch them with the search tool's fetch verb and
export a tree with ``git --git-dir=<mirror> archive HEAD | tar x``).
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

FAMILIES = {"QL1": "N+1", "QL2": "connections", "QL3": "SQL", "QL4": "over-fetch"}


def lint(cmd: str, project: Path, timeout: int) -> List[dict]:
    proc = subprocess.run(
        [cmd, "--format", "json", "--no-cache", "--exit-zero", "."], cwd=project, capture_output=True, text=True, timeout=timeout
    )
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(f"{project}: no JSON output (exit {proc.returncode}): {proc.stderr[-500:]}\n")
        return []
    for f in doc["findings"]:
        f["project"] = project.name
        f["root"] = str(project)
    return doc["findings"]


def context(root: str, path: str, line: int, around: int) -> str:
    try:
        lines = (Path(root) / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(unreadable)"
    start = line - 1
    # walk up to the enclosing def (or class) so the reader sees where the rows come from
    while start > 0 and not re.match(r"\s*(async\s+def|def|class)\s", lines[start]) and line - start < around * 3:
        start -= 1
    lo, hi = max(0, start), min(len(lines), line + around)
    if line - lo > around * 2:
        lo = line - around * 2
    return "\n".join(f"{'>' if i + 1 == line else ' '}{i + 1:5d}  {lines[i]}" for i in range(lo, hi))


def sample(findings: List[dict], per_rule: int, seed: int) -> List[dict]:
    rng = random.Random(seed)
    by: Dict[tuple, List[dict]] = collections.defaultdict(list)
    for f in findings:
        by[(f["project"], f["rule"])].append(f)
    out = []
    for key in sorted(by):
        group = sorted(by[key], key=lambda f: (f["path"], f["line"], f["column"]))
        out.extend(rng.sample(group, min(per_rule, len(group))))
    return out


def write_sheet(picked: List[dict], totals: collections.Counter, out: Path, around: int) -> None:
    parts = ["# querylint triage sheet", "", "Findings per project and rule (all, before sampling):", ""]
    for (project, rule), n in sorted(totals.items()):
        parts.append(f"- {project} {rule}: {n}")
    for i, f in enumerate(picked, 1):
        parts += [
            "",
            f"## {i}. {f['project']} {f['path']}:{f['line']} {f['rule']} ({f.get('name', '')})",
            "",
            f"message: {f['message']}",
            f"fix: {f.get('fix') or '-'}",
        ]
        for note in f.get("notes") or ():
            parts.append(f"note: {note}")
        for key in ("confidence", "context"):
            if key in f:
                parts.append(f"{key}: {f[key]}")
        parts += ["", "```python", context(f["root"], f["path"], f["line"], around), "```", "", "verdict: "]
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")


def summary(sheet: Path) -> None:
    text = sheet.read_text(encoding="utf-8")
    counts: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for m in re.finditer(r"^## \d+\. \S+ \S+ (QL\d+).*?^verdict:\s*(\w*)", text, re.M | re.S):
        family = FAMILIES.get(m.group(1)[:3], "other")
        counts[family][m.group(2).lower() or "unfilled"] += 1
    for family, c in sorted(counts.items()):
        tp, fp, deb = c["tp"], c["fp"], c["debatable"]
        prec = f"{tp / (tp + fp):.0%}" if tp + fp else "-"
        print(f"{family:12s} tp {tp:3d}  fp {fp:3d}  debatable {deb:3d}  unfilled {c['unfilled']:3d}  precision {prec}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("projects", nargs="*", type=Path)
    ap.add_argument("--cmd", default="querylint")
    ap.add_argument("--out", type=Path, default=Path("triage.md"))
    ap.add_argument("--per-rule", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--context", type=int, default=12)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--summary", type=Path, help="print precision per family from a filled-in sheet")
    args = ap.parse_args()
    if args.summary:
        summary(args.summary)
        return 0
    findings: List[dict] = []
    for project in args.projects:
        findings += lint(args.cmd, project.resolve(), args.timeout)
    totals = collections.Counter((f["project"], f["rule"]) for f in findings)
    picked = sample(findings, args.per_rule, args.seed)
    write_sheet(picked, totals, args.out, args.context)
    print(f"{len(findings)} findings in {len(args.projects)} projects; {len(picked)} sampled into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
