"""Benchmarks: one script per measured claim, each with a `--quick` mode for CI.

Run from the repository root, e.g. `PYTHONPATH=$PWD python -m benchmarks.throughput`.
Every script writes `<name>.json` and `<name>.md` to `--out` (default `benchmarks/out/`).
"""
