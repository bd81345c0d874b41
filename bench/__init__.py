"""Benchmarks: python -m bench.NAME; each ends with one JSON line of figures."""
