#!/usr/bin/env python3
"""The standard SpMV table (docs/benchmarks.md): same as `mcusparse bench table ...`.

    .venv/bin/python bench/spmv_table.py [--targets cortex-m55,rv32imc] [--out build/bench] ...
"""
import sys

from mcusparse.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "table", *sys.argv[1:]]))
