"""Benchmarks of the SpMV kernels (shared/MEASURE.md, docs/benchmarks.md).

    from mcusparse.bench import spmv, table
    row = spmv.bench_spmv("cortex-m55", "csr", rows=256, cols=256, sparsity=0.9, seed=23)
    rows = table.run_table(targets=["cortex-m55"], formats=["csr"], out_dir="build/bench")

Command line: `mcusparse bench spmv ...`, `mcusparse bench table ...` (cli.py).
"""
