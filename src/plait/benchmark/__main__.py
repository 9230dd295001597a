"""``python -m plait.benchmark`` runs plait-perf."""

from plait.benchmark.perf import main

main()
