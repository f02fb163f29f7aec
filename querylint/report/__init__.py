"""Findings out: the output formats and the rule documentation."""
