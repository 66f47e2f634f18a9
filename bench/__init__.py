"""Benchmarks run by `make bench`: each module here exposes ``run(out_dir: Path) -> dict``."""
