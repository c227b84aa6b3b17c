"""Benchmarks, run as ``lastmile bench NAME``; each returns a dict of figures (no pytest)."""
