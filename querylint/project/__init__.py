"""What querylint knows about the whole project: per-file facts, the index, the call graph, entry points."""
