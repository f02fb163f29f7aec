"""Time querylint on a folder: cold run, warm cached run, single-file warm run, parse alone.

    python benchmarks/bench.py PATH [--jobs N] [--repeat N] [--in-place]

The folder is copied into a temporary project (with an empty pyproject.toml) unless
``--in-place`` is given. Runs go through the installed ``querylint`` console script in a
subprocess, as a user or pre-commit runs it, so they include interpreter start-up. "parse
alone" reads and parses every file with libcst in this process (the floor for any
libcst-based linter). Prints each figure (best of ``--repeat``) and the ratios of the goals:
cold <= 2x parse alone, warm <= 10% of cold, single-file warm < 0.5 s.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Tuple

import libcst as cst


def querylint_cmd() -> list:
    exe = Path(sys.executable).with_name("querylint")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "querylint"]


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd, cwd) -> Tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its workers)."""
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"querylint failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return elapsed, _children_cpu() - cpu0


def parse_alone(files) -> Tuple[float, float]:
    cpu0 = time.process_time()
    start = time.perf_counter()
    for f in files:
        try:
            cst.parse_module(f.read_bytes().decode("utf-8"))
        except Exception:
            pass
    return time.perf_counter() - start, time.process_time() - cpu0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--jobs", type=int, default=None, help="passed to querylint --jobs (default: its default, the cores)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--in-place", action="store_true", help="lint the folder where it is (no temporary copy)")
    args = ap.parse_args()

    src = args.folder.resolve()
    tmp = None
    if args.in_place:
        project = src
    else:
        tmp = Path(tempfile.mkdtemp(prefix="querylint-bench-"))
        project = tmp / src.name
        shutil.copytree(src, project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (project / "pyproject.toml").write_text("", encoding="utf-8")
    try:
        files = sorted(p for p in project.rglob("*.py") if "__pycache__" not in p.parts)
        cache = project / ".querylint_bench_cache"
        base = querylint_cmd() + ["--select", "ALL", "--quiet", "--cache-dir", str(cache)]
        if args.jobs:
            base += ["--jobs", str(args.jobs)]
        one = max(files, key=lambda p: p.stat().st_size)  # the largest file: the worst pre-commit case

        parse = min(parse_alone(files) for _ in range(args.repeat))
        colds, warms, singles = [], [], []
        for _ in range(args.repeat):
            shutil.rmtree(cache, ignore_errors=True)
            colds.append(timed(base + ["."], project))
            warms.append(timed(base + ["."], project))
            singles.append(timed(base + [str(one.relative_to(project))], project))
        cold, warm, single = min(colds), min(warms), min(singles)
        nocache = timed(base[:-2] + ["--no-cache", "."], project)
        startup = timed(querylint_cmd() + ["--version"], project)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

        print(f"folder            {src} ({len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB)")
        print(f"cores             {os.cpu_count()}  (--jobs {args.jobs or 'default'}; load average {load:.1f})")
        print("                     wall       CPU")
        print(f"parse alone       {parse[0]:7.2f} s {parse[1]:7.2f} s   (libcst, in process)")
        print(f"cold run          {cold[0]:7.2f} s {cold[1]:7.2f} s   = {cold[0] / parse[0]:.2f}x parse alone (wall), {cold[1] / parse[1]:.2f}x (CPU)   goal <= 2x")
        print(f"  --no-cache      {nocache[0]:7.2f} s {nocache[1]:7.2f} s")
        print(f"warm run          {warm[0]:7.2f} s {warm[1]:7.2f} s   = {100 * warm[0] / cold[0]:.1f}% of cold (wall)   goal <= 10%")
        print(f"single file warm  {single[0]:7.2f} s {single[1]:7.2f} s   ({one.relative_to(project)})   goal < 0.5 s")
        print(f"start-up          {startup[0]:7.2f} s {startup[1]:7.2f} s   (querylint --version)")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
