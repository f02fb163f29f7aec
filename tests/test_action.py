"""The GitHub Action (``action.yml``): its steps run, as a runner would run them, in a temporary
repository whose pull request makes the shop's checkout O(N) with a connection per line; the
annotations and the job summary say so."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "fixtures" / "django" / "report_shop"


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args], cwd=cwd, check=True, capture_output=True)


def _pull_request(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SHOP, repo)
    (repo / "pyproject.toml").write_text("", encoding="utf-8")
    checkout = repo / "dj_shop" / "checkout.py"
    after = checkout.read_text(encoding="utf-8")
    (repo / "dj_shop" / "checkout_before.py").replace(checkout)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "checkout")
    _git(repo, "checkout", "-q", "-b", "feature")
    checkout.write_text(after, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "reserve stock per line")
    return repo


def _expand(text, inputs, github):
    """The ``${{ ... }}`` expressions the action uses: ``inputs.x``, ``github.x`` and ``a || b``."""
    def value(expr):
        for part in (p.strip() for p in expr.split("||")):
            scope, _, name = part.partition(".")
            got = {"inputs": inputs, "github": github}[scope].get(name, "")
            if got:
                return got
        return ""

    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: value(m.group(1)), str(text))


def _condition(expr, inputs, failed):
    """``always() && inputs.x == 'true'`` / ``inputs.x == 'true'`` (a failed step skips the rest otherwise)."""
    if expr is None:
        return not failed
    parts = [p.strip() for p in expr.split("&&")]
    ok = True
    if "always()" in parts:
        parts.remove("always()")
    elif failed:
        return False
    for p in parts:
        m = re.fullmatch(r"inputs\.([\w-]+)\s*==\s*'(.*)'", p)
        assert m, f"unsupported condition {p!r}"
        ok = ok and inputs.get(m.group(1), "") == m.group(2)
    return ok


def _run_action(repo, overrides):
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    inputs.update(overrides)
    summary = repo.parent / "summary.md"
    github = {"base_ref": "main", "action_path": str(ROOT)}
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary), GITHUB_BASE_REF="main", CI="true")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    failed = False
    outputs = []
    for step in action["runs"]["steps"]:
        if not _condition(step.get("if"), inputs, failed):
            continue
        step_env = dict(env, **{k: _expand(v, inputs, github) for k, v in step.get("env", {}).items()})
        proc = subprocess.run(["bash", "-e", "-c", _expand(step["run"], inputs, github)], cwd=repo, env=step_env, capture_output=True, text=True)
        outputs.append((step["name"], proc.returncode, proc.stdout))
        failed = failed or proc.returncode != 0
    return outputs, summary.read_text(encoding="utf-8") if summary.exists() else ""


def test_the_action_annotates_the_change_and_writes_the_cost_delta(tmp_path):
    repo = _pull_request(tmp_path)
    outputs, summary = _run_action(repo, {"version": "none", "sarif": "true"})
    by_name = {name: (code, out) for name, code, out in outputs}
    code, annotations = by_name["Annotate the pull request"]
    assert code == 1  # findings on the changed lines fail the check
    lines = annotations.splitlines()
    assert any(line.startswith("::error file=dj_shop/checkout.py,line=26,") and "QL105" in line for line in lines)
    assert any(line.startswith("::warning file=dj_shop/checkout.py,line=13,") and "QL202" in line for line in lines)
    assert (repo / "querylint.sarif").is_file()
    assert summary.startswith("## querylint: query cost changes")
    assert "`checkout/<int:order_id>/complete/  complete_checkout`: O(1) -> O(N) queries" in summary
    assert "connections per item 0 -> 1" in summary
    assert by_name["Query-cost delta into the job summary"][0] == 0


def test_the_action_can_fail_on_a_cost_regression(tmp_path):
    repo = _pull_request(tmp_path)
    outputs, _summary = _run_action(repo, {"version": "none", "fail-on-regression": "true"})
    assert dict((name, code) for name, code, _ in outputs)["Query-cost delta into the job summary"] == 1
