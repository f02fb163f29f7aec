"""The rules' catalogue in the cache folder: a run the cache answers whole imports neither the
parser nor a rule, and says exactly what a run with the rules loaded says."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from querylint.api import check_selection, rule_info
from querylint.plugins import load_registry, select_rules, unknown_codes
from querylint.run.catalogue import FILE, Catalogue, code_key
from querylint.run.config import Config, ConfigError

SERVICE = '''\
def total(cur, items):
    out = 0
    for item in items:
        cur.execute("SELECT price FROM prices WHERE id = %s", (item.id,))
        out += cur.fetchone()[0]
    return out
'''

# runs the command line in this interpreter and says which heavy modules it imported
PROBE = """
import runpy, sys
sys.argv = ["querylint", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("querylint", run_name="__main__")
except SystemExit as exc:
    code = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"libcst", "sqlglot", "querylint_rules"})
print("LOADED", ",".join(loaded), "EXIT", code, file=sys.stderr)
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.querylint]\nselect = [\"QL1\", \"QL2\"]\n", encoding="utf-8")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "shop" / "services.py").write_text(SERVICE, encoding="utf-8")
    (tmp_path / "shop" / "models.py").write_text("X = 1\n", encoding="utf-8")
    return tmp_path


def cli(project: Path, *args: str):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=project, capture_output=True, text=True, timeout=300)
    loaded, code = re.findall(r"LOADED (\S*) EXIT (\S+)", proc.stderr)[-1]
    return proc.stdout, loaded, code


def test_a_run_the_cache_answers_imports_no_parser_and_no_rule(project):
    cold, loaded, code = cli(project, "--format", "json", "shop/services.py")
    assert "libcst" in loaded and "querylint_rules" in loaded and code == "1"
    assert (project / ".querylint_cache" / FILE).is_file()
    warm, loaded, code = cli(project, "--format", "json", "shop/services.py")
    assert loaded == "" and code == "1"
    assert json.loads(warm) == json.loads(cold)
    assert [f["rule"] for f in json.loads(warm)["findings"]] == ["QL101"]


def test_a_changed_file_loads_the_rules_and_finds_what_changed(project):
    cli(project, "shop/services.py")
    (project / "shop" / "services.py").write_text(SERVICE.replace("for item in items:", "if items:\n        item = items[0]"), encoding="utf-8")
    out, loaded, code = cli(project, "shop/services.py")
    assert "querylint_rules" in loaded and code == "0", out


def test_a_catalogue_of_other_code_is_ignored(project):
    cli(project, "shop/services.py")
    path = project / ".querylint_cache" / FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["key"] = "0" * 32  # taken from another version of the code
    doc["rules"] = []  # and it would say there are no rules
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert Catalogue.read(path.parent) is None
    out, loaded, code = cli(project, "shop/services.py")
    assert "querylint_rules" in loaded and code == "1" and "QL101" in out
    assert json.loads(path.read_text(encoding="utf-8"))["key"] == code_key()  # taken again


def test_an_unknown_code_is_an_error_with_a_catalogue_too(project):
    cli(project, "shop/services.py")
    out, loaded, code = cli(project, "--select", "QL9Z", "shop/services.py")
    assert code == "2" and loaded == ""


def test_a_catalogue_selects_validates_and_describes_as_the_registry_does(tmp_path):
    registry = load_registry()
    Catalogue.of(registry).write(tmp_path)
    catalogue = Catalogue.read(tmp_path)
    assert catalogue is not None and catalogue.plugin_errors == registry.plugin_errors
    assert catalogue.option_keys() == registry.option_keys()
    selections = [(None, (), (), False), (("QL1",), (), ("QL120",), False), (("ALL",), (), (), True), (None, ("QL4",), ("QL2",), False)]
    for sel in selections:
        ours = select_rules(catalogue, *sel)
        theirs = select_rules(registry, *sel)
        assert [r.code for r in ours] == [r.code for r in theirs], sel
        assert [rule_info(r) for r in ours] == [rule_info(r) for r in theirs]
    assert unknown_codes(catalogue, ["QL1", "QL120", "QL9", "XX"]) == unknown_codes(registry, ["QL1", "QL120", "QL9", "XX"]) == ["QL9", "XX"]
    with pytest.raises(ConfigError):
        check_selection(catalogue, Config(select=("QL999",)))


# a fresh interpreter: whatever this test session imported already cannot hide the difference
TWICE = """
import sys
from pathlib import Path
import querylint.engine as engine
from querylint.api import lint_paths
from querylint.plugins import load_registry
from querylint.run.config import Config

parsed = []
real = engine.parse_file
engine.parse_file = lambda path, *a: parsed.append(str(path)) or real(path, *a)
root = Path(sys.argv[1])
for _ in range(2):
    parsed.clear()
    lint_paths([root], Config(), root, load_registry(["querylint_rules"]), cwd=root, cache_dir=root / ".cache", jobs=1)
    print(len(parsed))
"""


def test_a_second_run_in_one_process_finds_the_first_ones_results(project):
    # the code's fingerprint is read from disk: it does not change when the first run imports the
    # parser and the rules' passes (the language server lints again and again in one process)
    out = subprocess.run([sys.executable, "-c", TWICE, str(project)], capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == ["3", "0"], out.stderr[-2000:]
