"""The analysis: indicator catalogue, reference groups, comparison and findings.

The flow inside this package is one-way: ``catalogue`` (declarative tables) → ``indicators``
(values per unit and year) → ``groups`` (who is compared) → ``compare`` (aggregates, benchmarks,
ranks) → ``findings`` (Dutch sentences).
"""
