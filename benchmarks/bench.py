"""Time querylint on a folder: cold run, warm cached run, single-file warm run, parse alone.

    python benchmarks/bench.py PATH [--jobs N] [--repeat N] [--in-place]
    python benchmarks/bench.py PATH --copies 10 [--jobs N]

``--copies N`` is the monorepo case: it builds a tree of N copies of the folder (each top-level
package renamed, ``shop`` -> ``shop_c2``, imports rewritten to match, so the copies are N
independent projects in one repository) and prints the time and peak memory of a cold run on N
copies against one copy: linear means at most N x (the goal allows 1.1 N).

Peak memory is the largest sum of resident memory over querylint and its worker processes,
sampled every 0.1 s (Linux ``/proc``; "n/a" elsewhere).

The folder is copied into a temporary project (with an empty pyproject.toml) unless
``--in-place`` is given. Runs go through the installed ``querylint`` console script in a
subprocess, as a user or pre-commit runs it, so they include interpreter start-up. "parse
alone" reads and parses every file with libcst in this process (the floor for any
libcst-based linter). Prints each figure (best of ``--repeat``) and the ratios of the goals:
cold <= 1x parse alone, warm <= 3% of cold, single-file warm < 0.3 s.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
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


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every process below it (0 without ``/proc``)."""
    children: dict = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for d in names:
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(p, []))
    return total


# as an installed querylint runs: pip writes the bytecode of what it installs, so a run never
# compiles querylint's modules (an environment that forbids writing bytecode would time that)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd, cwd) -> Tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its workers), waited for without polling
    (the short runs are a few tenths of a second)."""
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"querylint failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{(proc.stderr or '')[-2000:]}")
    return elapsed, _children_cpu() - cpu0


def measured(cmd, cwd) -> Tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process and its workers, peak resident bytes summed
    over them)."""
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    _out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"querylint failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{(err or '')[-2000:]}")
    return elapsed, _children_cpu() - cpu0, peak


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n else "n/a"


def make_copies(src: Path, dest: Path, copies: int) -> None:
    """``copies`` copies of ``src`` under ``dest``, each top-level package renamed (``shop`` ->
    ``shop_c2``) with the imports that name it rewritten, plus an empty pyproject.toml."""
    dest.mkdir(parents=True)
    (dest / "pyproject.toml").write_text("", encoding="utf-8")
    tops = sorted(p.name for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    if (src / "__init__.py").exists():
        tops = [src.name]  # the folder is itself a package
    pattern = re.compile(r"\b(from|import)(\s+)(" + "|".join(map(re.escape, tops)) + r")\b") if tops else None
    for i in range(1, copies + 1):
        suffix = f"_c{i}"
        root = dest / f"copy{i}"
        shutil.copytree(src, root / src.name if src.name in tops else root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for top in tops:
            if (root / top).exists():
                (root / top).rename(root / (top + suffix))
        if pattern is None:
            continue
        for f in root.rglob("*.py"):
            try:
                text = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            new = pattern.sub(lambda m: m.group(1) + m.group(2) + m.group(3) + suffix, text)
            if new != text:
                f.write_text(new, encoding="utf-8")


def linear(args) -> None:
    """One copy against ``args.copies`` copies: time and peak memory of a cold run."""
    src = args.folder.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="querylint-linear-"))
    try:
        rows = []
        for n in (1, args.copies):
            tree = tmp / f"x{n}"
            make_copies(src, tree, n)
            files = sum(1 for _ in tree.rglob("*.py"))
            cmd = querylint_cmd() + ["--select", "ALL", "--quiet", "--no-cache", "."]
            if args.jobs:
                cmd += ["--jobs", str(args.jobs)]
            wall, cpu, peak = measured(cmd, tree)
            rows.append((n, files, wall, cpu, peak))
            shutil.rmtree(tree, ignore_errors=True)
        print(f"folder            {src}  (--jobs {args.jobs or 'default'})")
        print("copies   files      wall       CPU   peak memory (summed over processes)")
        for n, files, wall, cpu, peak in rows:
            print(f"{n:6} {files:7} {wall:7.2f} s {cpu:7.2f} s   {_mb(peak)}")
        (_, _, w1, c1, p1), (n, _, wn, cn, pn) = rows
        mem = f"{pn / p1:.2f}x" if p1 else "n/a"
        print(f"ratio  {n} copies / 1: wall {wn / w1:.2f}x, CPU {cn / c1:.2f}x, memory {mem}   goal <= {1.1 * n:.0f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def parse_alone(files, parser=None) -> Tuple[float, float]:
    """Read and parse every file in this process: with libcst, or with ``parser`` (``ast.parse``)."""
    parse = parser or (lambda text: cst.parse_module(text))
    cpu0 = time.process_time()
    start = time.perf_counter()
    for f in files:
        try:
            parse(f.read_bytes().decode("utf-8"))
        except Exception:
            pass
    return time.perf_counter() - start, time.process_time() - cpu0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--jobs", type=int, default=None, help="passed to querylint --jobs (default: its default, the cores)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--in-place", action="store_true", help="lint the folder where it is (no temporary copy)")
    ap.add_argument("--copies", type=int, default=None, help="the monorepo case: N renamed copies against one")
    args = ap.parse_args()
    if args.copies:
        linear(args)
        return

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

        timed(base + ["--no-cache", str(one.relative_to(project))], project)  # querylint's bytecode written once
        parse = min(parse_alone(files) for _ in range(args.repeat))
        floor = min(parse_alone(files, ast.parse) for _ in range(args.repeat))
        colds, warms, singles = [], [], []
        peaks = []
        for _ in range(args.repeat):
            shutil.rmtree(cache, ignore_errors=True)
            wall, cpu, peak = measured(base + ["."], project)
            colds.append((wall, cpu))
            peaks.append(peak)
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
        print(f"ast parse alone   {floor[0]:7.2f} s {floor[1]:7.2f} s   (Python's ast, in process: the floor)")
        print(f"cold run          {cold[0]:7.2f} s {cold[1]:7.2f} s   = {cold[0] / parse[0]:.2f}x parse alone (wall), {cold[1] / parse[1]:.2f}x (CPU)   goal <= 1x")
        print(f"                                       = {cold[0] / floor[0]:.2f}x ast parse alone (wall), {cold[1] / floor[1]:.2f}x (CPU)")
        print(f"  --no-cache      {nocache[0]:7.2f} s {nocache[1]:7.2f} s")
        print(f"  peak memory     {_mb(min(peaks))}   (summed over processes)")
        print(f"warm run          {warm[0]:7.2f} s {warm[1]:7.2f} s   = {100 * warm[0] / cold[0]:.1f}% of cold (wall)   goal <= 3%")
        print(f"single file warm  {single[0]:7.2f} s {single[1]:7.2f} s   ({one.relative_to(project)})   goal < 0.3 s")
        print(f"start-up          {startup[0]:7.2f} s {startup[1]:7.2f} s   (querylint --version)")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
