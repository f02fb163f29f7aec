"""docs/rules.md is the generated reference of every registered rule, and it is up to date."""
from pathlib import Path

from click.testing import CliRunner

from querylint.cli import main
from querylint.report.docs import rules_markdown
from querylint.testing import registry

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_rules_reference_is_up_to_date():
    assert DOCS.read_text(encoding="utf-8") == rules_markdown(registry()), "run: querylint --explain ALL > docs/rules.md"


def test_every_rule_has_a_section_and_a_table_row():
    text = rules_markdown(registry())
    for rule in registry().sorted_rules():
        assert f"## {rule.code} `{rule.name}`" in text
        assert f"| [{rule.code}]" in text


def test_explain_all_prints_the_reference():
    result = CliRunner().invoke(main, ["--explain", "all"])
    assert result.exit_code == 0
    assert result.output == rules_markdown(registry())
