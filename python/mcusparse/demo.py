"""`make demo`: one pruned layer through the sparse_enc pipeline.

Until whole models compile, the demo takes one fully connected layer (a
seeded random int8 weight matrix of the shape of a small network's hidden
layer), prunes it for every sparse format, attaches the #sparse_enc
encoding, runs the packing pipeline in the C++ compiler and prints what goes
to flash: bytes per format, against dense and CSR, and whether the compiler's
bytes equal the golden Python encoder's.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from mcusparse import formats, packing, pipeline, prune

ROWS, COLS, SPARSITY, SEED = 128, 256, 0.9, 23


def pruned_layer(fmt: str, W: np.ndarray) -> np.ndarray:
    """W pruned into the pattern `fmt` needs, at about SPARSITY."""
    spec = formats.parse_format(fmt)
    if spec.name == "nm":
        return prune.nm(W, spec.params["n"], spec.params["m"])
    if spec.name == "gs":
        return prune.gs(W, spec.params["lanes"], SPARSITY)
    if spec.name == "dense":
        return W
    return prune.magnitude(W, SPARSITY)


def run(rows: int = ROWS, cols: int = COLS, seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    dense = rng.integers(-128, 128, size=(rows, cols)).astype(np.int8)
    print(f"[demo] layer: {rows}x{cols} int8 weights (seed {seed}); "
          f"unstructured formats pruned to {SPARSITY:.0%} by magnitude")
    rows_out = []
    for fmt in ["dense", "csr", "dcsr", "nm:1:8", "nm:1:16", "gs:16"]:
        W = pruned_layer(fmt, dense)
        golden = formats.encode(W, fmt)
        start = time.perf_counter()
        module_text = packing.weight_module(W, fmt)
        packed_text = str(pipeline.run(module_text, "pack"))
        if fmt == "dense":
            same = True
        else:
            compiled = packing.pack_with_compiler(W, fmt)
            same = all(compiled[k].tobytes() == v.tobytes()
                       for k, v in golden.arrays.items())
        ms = (time.perf_counter() - start) * 1e3
        rows_out.append({
            "format": fmt, "nonzeros": int(np.count_nonzero(W)),
            "bytes": golden.total_bytes, "components": golden.nbytes,
            "compiler_bytes_equal": same, "pack_ms": ms,
            "ir_in": len(module_text), "ir_out": len(packed_text),
        })
    return rows_out


def print_table(rows: list[dict]) -> None:
    dense_bytes = rows[0]["bytes"]
    csr_bytes = next(r["bytes"] for r in rows if r["format"] == "csr")
    print(f"\n{'format':<9}{'nonzeros':>9}{'flash B':>9}{'/dense':>8}{'/CSR':>7}"
          f"{'compiler = golden':>19}{'IR in':>8}{'IR out':>8}{'pack ms':>9}"
          "  components (bytes)")
    for r in rows:
        parts = ", ".join(f"{k} {v}" for k, v in r["components"].items())
        same = "yes" if r["compiler_bytes_equal"] else "NO"
        print(f"{r['format']:<9}{r['nonzeros']:>9}{r['bytes']:>9}"
              f"{r['bytes'] / dense_bytes:>8.3f}{r['bytes'] / csr_bytes:>7.3f}"
              f"{same:>19}{r['ir_in']:>8}{r['ir_out']:>8}{r['pack_ms']:>9.1f}  {parts}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mcusparse.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--cols", type=int, default=COLS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rows = run(args.rows, args.cols, args.seed)
    print_table(rows)
    if not all(r["compiler_bytes_equal"] for r in rows):
        print("\n[demo] ERROR: the compiler's packed bytes differ from the golden encoder",
              file=sys.stderr)
        return 1
    print("\n[demo] IR in/out: characters of the MLIR before and after the 'pack' pipeline")
    print("[demo] every format: sparse-enc-pack-constants produced the golden bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
