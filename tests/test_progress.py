"""Progress on long runs: a status line on stderr where a person watches, nothing anywhere else."""
import io
import json
import re

from click.testing import CliRunner

from querylint.api import lint_paths
from querylint.cli import main
from querylint.plugins import load_registry
from querylint.run.config import Config
from querylint.run.progress import Progress, wanted

LOOP = '''import sqlite3


def totals(path, ids):
    conn = sqlite3.connect(path)
    try:
        return [conn.execute("SELECT total FROM orders WHERE id = ?", (i,)).fetchone() for i in ids]
    finally:
        conn.close()
'''


def _project(tmp_path, n):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    for i in range(n):
        (tmp_path / f"mod_{i:03}.py").write_text(LOOP, encoding="utf-8")
    return tmp_path


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 0.5  # every reading half a second later: every update is drawn
        return self.now


def _lines(text):
    return [part for part in text.split("\r") if part.strip()]


def test_the_line_counts_each_pass_to_its_total_and_is_erased(tmp_path):
    _project(tmp_path, 60)  # above the parallel threshold: the workers report their counts
    stream = io.StringIO()
    progress = Progress(stream, min_files=10, clock=_Clock())
    config = Config()
    with_progress = lint_paths([tmp_path], config, tmp_path, load_registry(), cwd=tmp_path, jobs=2, progress=progress)
    progress.close()
    plain = lint_paths([tmp_path], config, tmp_path, load_registry(), cwd=tmp_path, jobs=2)

    lines = _lines(stream.getvalue())
    finals = {}
    for line in lines:
        m = re.match(r"querylint: (indexing|finding queries|linting) (\d+)/(\d+) files, \d+\.\d s", line.strip())
        assert m, line
        done, total = int(m.group(2)), int(m.group(3))
        assert done <= total
        finals[m.group(1)] = (done, total)
    assert finals["indexing"] == (60, 60)
    assert finals["linting"] == (60, 60)
    assert stream.getvalue().endswith("\r")  # the last write blanks the line and returns to its start
    assert [f.line for f in with_progress.findings] == [f.line for f in plain.findings]
    assert len(plain.findings) == 60


def test_a_small_run_draws_nothing(tmp_path):
    _project(tmp_path, 3)
    stream = io.StringIO()
    progress = Progress(stream, min_files=10, clock=_Clock())
    lint_paths([tmp_path], Config(), tmp_path, load_registry(), cwd=tmp_path, progress=progress)
    progress.close()
    assert stream.getvalue() == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_shown_only_to_a_person_reading_text(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert wanted(None, "text", _Terminal())
    assert not wanted(None, "text", io.StringIO())  # a pipe or a file
    assert not wanted(None, "json", _Terminal())  # a machine format
    monkeypatch.setenv("CI", "true")
    assert not wanted(None, "text", _Terminal())  # a CI log
    assert wanted(True, "json", io.StringIO())  # --progress asks
    assert not wanted(False, "text", _Terminal())  # --no-progress


def test_the_command_line_keeps_stderr_clean_when_not_a_terminal(tmp_path, monkeypatch):
    _project(tmp_path, 3)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--no-cache", "--format", "json", "."])
    assert "querylint:" not in result.stderr
    assert len(json.loads(result.stdout)["findings"]) == 3
