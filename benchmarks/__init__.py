"""The benchmark suite: each figure measured in its own process, next to the peer it replaces.

``python -m benchmarks.run_all`` (``make bench``) runs every benchmark and writes one JSON file
per benchmark plus ``summary.md`` to ``benchmarks/results/``; ``--quick`` runs tiny sizes (the
smoke test in ``mlops_assets_tests/benchmarks`` keeps the suite from rotting).
"""
