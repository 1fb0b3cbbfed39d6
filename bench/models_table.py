#!/usr/bin/env python3
"""Whole pruned models, dense vs sparse (docs/benchmarks.md): same as `mcusparse bench models ...`.

    .venv/bin/python bench/models_table.py [--targets cortex-m55] [--models sparse_s_90] [--out build/bench]
"""
import sys

from mcusparse.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "models", *sys.argv[1:]]))
