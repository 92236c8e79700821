"""Benchmarks of Jigiya against its own loopback Bot API emulator (issue 6, items 5 and 6).

Run with `python -m bench.run` (see bench/README.md); results go to bench/RESULTS.md.
"""
