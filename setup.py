"""Package discovery only; everything else is in pyproject.toml.

Every folder under ``querylint/`` with an ``__init__.py`` ships (a new framework adapter needs
no edit here), and ``rules/`` installs as ``querylint_rules``."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["querylint", "querylint.*"]) + ["querylint_rules"],
    package_dir={"querylint_rules": "rules"},
)
