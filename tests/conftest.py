from pathlib import Path

import pytest

import querylint.run.parallel as parallel

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def record_parses(monkeypatch) -> list:
    """The relative paths the engine parses from now on (in this process), in order."""
    seen: list = []
    real = parallel.parse_file

    def counting(path, relpath, display):
        seen.append(relpath)
        return real(path, relpath, display)

    monkeypatch.setattr(parallel, "parse_file", counting)
    return seen
