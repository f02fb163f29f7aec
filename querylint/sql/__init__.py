"""Embedded SQL: finding the SQL a call runs (:mod:`.extract`), parsing it with sqlglot
(:mod:`.parse`) and the checks on the parsed statement (:mod:`.checks`). Pure: no rules."""
