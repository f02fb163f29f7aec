"""Old per-ORM codes keep working wherever a user names a code, after their rules were merged
into one rule per pattern (QL401/QL410/QL412 -> QL405, ...). One test per place."""
import hashlib
import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from querylint.run.baseline import enclosing_name, normalise
from querylint.cli import main

MODELS_DJ = """\
from django.db import models
class Product(models.Model):
    name = models.CharField(max_length=9)
"""
MODELS_PW = """\
from peewee import CharField, Model
class User(Model):
    username = CharField()
"""
# line 3 of each view: one finding of QL405, as the Django (QL401) or peewee (QL412) variant
VIEW_DJ = "from shop.models import Product\ndef page():\n    return len(Product.objects.all()){comment}\n"
VIEW_PW = "from app.models import User\ndef page():\n    return len(User.select()){comment}\n"


def project(root: Path, dj_comment: str = "", pw_comment: str = "", pyproject: str = "") -> Path:
    files = {
        "pyproject.toml": pyproject,
        "shop/__init__.py": "",
        "shop/models.py": MODELS_DJ,
        "shop/views.py": VIEW_DJ.format(comment=dj_comment),
        "app/__init__.py": "",
        "app/models.py": MODELS_PW,
        "app/views.py": VIEW_PW.format(comment=pw_comment),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def run(root, monkeypatch, *args):
    monkeypatch.chdir(root)
    res = CliRunner().invoke(main, ["--no-cache", "--format", "json", *args], catch_exceptions=False)
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def found(doc):
    return sorted((f["path"], f["rule"], tuple(f.get("aliases", ()))) for f in doc["findings"])


DJ = ("shop/views.py", "QL405", ("QL401",))
PW = ("app/views.py", "QL405", ("QL412",))


def test_both_variants_report_the_new_code_with_their_alias(tmp_path, monkeypatch):
    doc = run(project(tmp_path), monkeypatch)
    assert found(doc) == [PW, DJ]
    assert all(f["fix"] for f in doc["findings"]), "the remedy is its own field"


@pytest.mark.parametrize(
    "args, want",
    [
        (["--select", "QL401"], [DJ]),
        (["--select", "QL412"], [PW]),
        (["--select", "QL405"], [PW, DJ]),
        (["--select", "QL4", "--ignore", "QL412"], [DJ]),
        (["--select", "QL4", "--ignore", "QL405"], []),
        (["--select", "QL3", "--extend-select", "QL41"], [PW]),
    ],
)
def test_cli_selection(tmp_path, monkeypatch, args, want):
    assert found(run(project(tmp_path), monkeypatch, *args)) == want


def test_config_select_and_ignore(tmp_path, monkeypatch):
    root = project(tmp_path, pyproject='[tool.querylint]\nselect = ["QL4"]\nignore = ["QL401"]\n')
    assert found(run(root, monkeypatch)) == [PW]


def test_per_file_ignores(tmp_path, monkeypatch):
    root = project(tmp_path, pyproject='[tool.querylint]\nper-file-ignores = { "*/views.py" = ["QL412"] }\n')
    doc = run(root, monkeypatch)
    assert found(doc) == [DJ]
    assert [f["path"] for f in doc["suppressed"]] == ["app/views.py"]


@pytest.mark.parametrize("comment", ["  # noqa: QL401", "  # querylint: ignore[QL401] -- two rows"])
def test_suppression_comments(tmp_path, monkeypatch, comment):
    root = project(tmp_path, dj_comment=comment, pw_comment="  # noqa: QL401")
    doc = run(root, monkeypatch, "--report-unused-suppressions")
    # the Django finding is silenced; QL401 on the peewee line silences nothing (it is QL412 there)
    assert sorted((f["path"], f["rule"]) for f in doc["findings"]) == [("app/views.py", "QL001"), ("app/views.py", "QL405")]
    assert [f["path"] for f in doc["suppressed"]] == ["shop/views.py"]


def _old_fingerprint(code, path, text, line):
    """What a baseline written before the merge holds (the finding then had the code ``code``)."""
    lines = text.splitlines()
    base = [code, path, normalise(lines[line - 1]), enclosing_name(lines, line), 0]
    return hashlib.sha256(json.dumps(base).encode("utf-8")).hexdigest()[:32]


def test_baseline_written_before_the_change(tmp_path, monkeypatch):
    root = project(tmp_path)
    text = (root / "shop/views.py").read_text(encoding="utf-8")
    old = {"querylint-baseline": 1, "findings": [{"fingerprint": _old_fingerprint("QL401", "shop/views.py", text, 3), "rule": "QL401"}]}
    (root / "baseline.json").write_text(json.dumps(old), encoding="utf-8")
    doc = run(root, monkeypatch, "--baseline", "baseline.json")
    assert found(doc) == [PW]


def test_explain_and_list_rules_know_the_aliases(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["--explain", "QL410"])
    assert res.exit_code == 0
    assert res.stdout.startswith("QL410 is now part of QL405 (len-as-count)")
    assert "QL405 (len-as-count) [on by default" in res.stdout
    rows = CliRunner().invoke(main, ["--list-rules"]).stdout.splitlines()
    row = next(r for r in rows if r.startswith("QL405"))
    assert "QL401,QL410,QL412" in row
    assert not any(r.startswith("QL410") for r in rows), "an alias is not a rule of its own"
