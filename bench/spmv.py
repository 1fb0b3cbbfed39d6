#!/usr/bin/env python3
"""One SpMV benchmark row: same as `mcusparse bench spmv ...`.

    .venv/bin/python bench/spmv.py --target rv32imc --format nm:1:8 --rows 256 --cols 256 --json
"""
import sys

from mcusparse.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "spmv", *sys.argv[1:]]))
