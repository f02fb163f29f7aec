"""Hostile configuration: every bad setting stops the run with exit code 2 and one message that
names the file, the key and the expected form. Never a traceback, never a silent default."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from querylint.cli import main
from querylint.run.config import _KEYS, Config, ConfigError, config_from_dict, load_config
from querylint.testing import registry

GOOD = "x = 1\n"


def run(tmp_path: Path, monkeypatch, pyproject, *args):
    """The CLI in this process (an escaping exception fails the test) on a one-file project."""
    (tmp_path / "a.py").write_text(GOOD, encoding="utf-8")
    if pyproject is not None:
        data = pyproject if isinstance(pyproject, bytes) else pyproject.encode("utf-8")
        (tmp_path / "pyproject.toml").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--no-cache", *args, "."], catch_exceptions=False)
    return result.exit_code, result.output


# (pyproject text, words the message must contain: the key and the expected form)
BAD_CONFIGS = {
    "invalid-toml": ("[tool.querylint\nselect = ['QL1']\n", ["invalid TOML", "line 1"]),
    "duplicate-key": ("[tool.querylint]\nselect = ['QL1']\nselect = ['QL2']\n", ["invalid TOML"]),
    "unterminated-string": ('[tool.querylint]\nselect = ["QL1\n', ["invalid TOML"]),
    "deeply-nested-toml": ("[tool.querylint]\nselect = " + "[" * 5000 + "]" * 5000 + "\n", ["invalid TOML", "nested"]),
    "unknown-key": ("[tool.querylint]\nselct = ['QL1']\n", ["selct", "did you mean 'select'"]),
    "unknown-key-underscore": ("[tool.querylint]\nextend_selectt = ['QL1']\n", ["extend_selectt", "did you mean 'extend-select'"]),
    "unknown-key-far": ("[tool.querylint]\nzzzz = 1\n", ["zzzz", "known keys", "select"]),
    "select-string": ("[tool.querylint]\nselect = 'QL1'\n", ["select", "list of rule codes", "the string 'QL1'"]),
    "select-int-items": ("[tool.querylint]\nselect = [101]\n", ["select", "list of rule codes"]),
    "select-garbage-code": ("[tool.querylint]\nselect = ['XYZ']\n", ["select", "'XYZ'", "QL101"]),
    "select-unknown-code": ("[tool.querylint]\nselect = ['QL999']\n", ["select", "QL999", "--list-rules"]),
    "ignore-unknown-code": ("[tool.querylint]\nignore = ['QL998']\n", ["ignore", "QL998"]),
    "extend-select-unknown": ("[tool.querylint]\nextend-select = ['QL9']\n", ["extend-select", "QL9"]),
    "bool-as-string": ("[tool.querylint]\npreview = 'yes'\n", ["preview", "true or false", "'yes'"]),
    "bool-as-int": ("[tool.querylint]\nrespect-gitignore = 1\n", ["respect-gitignore", "true or false"]),
    "glob-unbalanced": ("[tool.querylint]\nexclude = ['[abc']\n", ["exclude", "glob", "'[abc'"]),
    "glob-empty": ("[tool.querylint]\nextend-exclude = ['']\n", ["extend-exclude", "glob"]),
    "glob-not-list": ("[tool.querylint]\nextend-exclude = 'build'\n", ["extend-exclude", "list of glob patterns"]),
    "pfi-list": ("[tool.querylint]\nper-file-ignores = ['QL1']\n", ["per-file-ignores", "table of glob"]),
    "pfi-bad-glob": ("[tool.querylint.per-file-ignores]\n'a[.py' = ['QL1']\n", ["per-file-ignores", "a[.py", "glob"]),
    "pfi-bad-codes": ("[tool.querylint.per-file-ignores]\n'*.py' = 'QL1'\n", ["per-file-ignores", "*.py", "list of rule codes"]),
    "pfi-unknown-code": ("[tool.querylint.per-file-ignores]\n'*.py' = ['NOPE']\n", ["per-file-ignores", "NOPE"]),
    "dialect": ("[tool.querylint]\nsql-dialect = 'postgress'\n", ["sql-dialect", "postgres", "'postgress'"]),
    "dialect-type": ("[tool.querylint]\nsql-dialect = 5\n", ["sql-dialect", "one of"]),
    "dotted-name": ("[tool.querylint]\nquery-functions = ['not a name']\n", ["query-functions", "dotted names", "'not a name'"]),
    "dotted-type": ("[tool.querylint]\nrequest-decorators = 'app.route'\n", ["request-decorators", "list"]),
    "table-not-table": ("[tool]\nquerylint = 3\n", ["[tool.querylint]", "must be a table"]),
    "not-utf8": (b"[tool.querylint]\nselect = ['QL1'] # \xff\xfe\n", ["not UTF-8"]),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_configuration_exits_2_naming_file_key_and_form(tmp_path, monkeypatch, name):
    text, words = BAD_CONFIGS[name]
    code, output = run(tmp_path, monkeypatch, text)
    assert code == 2, output
    assert "Traceback" not in output
    assert output.startswith("querylint: error: ")
    assert "pyproject.toml" in output  # the file
    for w in words:
        assert w in output, (w, output)
    assert output.count("\n") <= 2  # one message, not a dump


def test_bad_configuration_in_a_real_process(tmp_path):
    (tmp_path / "a.py").write_text(GOOD, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.querylint]\nselect = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "querylint", "--no-cache", "."], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "pyproject.toml" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "args, words",
    [
        (["--select", "QL999"], ["QL999"]),
        (["--select", "QL1;QL2"], ["--select", "QL1;QL2"]),
        (["--ignore", "bogus"], ["--ignore", "bogus"]),
        (["--extend-select", "QL0000"], ["--extend-select", "QL0000"]),
        (["--config", "missing.toml"], ["missing.toml", "cannot read"]),
        (["--jobs", "0"], ["--jobs"]),
        (["--jobs", "many"], ["--jobs"]),
        (["--format", "xml"], ["--format"]),
    ],
)
def test_bad_command_line_values_exit_2(tmp_path, monkeypatch, args, words):
    code, output = run(tmp_path, monkeypatch, None, *args)
    assert code == 2, output
    assert "Traceback" not in output
    for w in words:
        assert w in output


def test_config_flag_pointing_at_a_folder(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    code, output = run(tmp_path, monkeypatch, None, "--config", "conf")
    assert code == 2 and "conf" in output


def test_explicit_config_with_bad_toml(tmp_path, monkeypatch):
    (tmp_path / "querylint.toml").write_text("select = [\n", encoding="utf-8")
    code, output = run(tmp_path, monkeypatch, None, "--config", "querylint.toml")
    assert code == 2
    assert "querylint.toml" in output and "invalid TOML" in output


def test_unrelated_tool_tables_are_not_ours(tmp_path, monkeypatch):
    """Other tools' settings (and odd top-level keys) are ignored, not validated."""
    text = "[tool.ruff]\nline-length = 'x'\n[tool.black]\nfoo = [1, {a = 2}]\n[project]\nname = 3\n"
    code, output = run(tmp_path, monkeypatch, text)
    assert code == 0, output


def test_unreadable_config_file(tmp_path, monkeypatch):
    import pathlib

    real = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == "pyproject.toml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    (tmp_path / "pyproject.toml").write_text("[tool.querylint]\n", encoding="utf-8")
    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    with pytest.raises(ConfigError, match="pyproject.toml: cannot read the configuration file: Permission denied"):
        load_config(tmp_path / "pyproject.toml")


# --------------------------------------------------------------------------- property: any table

toml_scalars = st.one_of(
    st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
    st.sampled_from(["QL1", "QL101", "ALL", "ql2", "QL", "*.py", "[", "a.b.c", "postgres", "", "QL1000"]),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
keys = st.one_of(st.sampled_from(sorted(_KEYS)), st.sampled_from([k.replace("-", "_") for k in _KEYS]), st.text(max_size=15))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, toml_values, max_size=4))
def test_any_table_is_a_config_or_a_config_error(table):
    """Whatever the table holds, validation answers with a Config or a ConfigError that names
    a key of the table; never another exception."""
    try:
        config = config_from_dict(table, source="pyproject.toml", rule_option_keys=registry().option_keys())
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("pyproject.toml: [tool.querylint]")
        assert any(str(k) in message for k in table), message
    else:
        assert isinstance(config, Config)
        hash(config)  # frozen and hashable: no list slipped through


def test_empty_code_lists_and_empty_explain_are_usage_errors(tmp_path, monkeypatch):
    """`--select ,,` used to select nothing silently, `--explain ''` used to lint."""
    from click.testing import CliRunner

    from querylint.cli import main

    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--select", ",,", "."])
    assert result.exit_code == 2 and "expected rule codes" in result.output
    result = CliRunner().invoke(main, ["--explain", ""])
    assert result.exit_code == 2 and "unknown rule" in result.output
