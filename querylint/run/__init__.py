"""One run: configuration, file discovery, reading sources, the cache, workers, ``--diff`` and baselines."""
