"""Format strings (as mcusparse.formats takes them) <-> #sparse_enc encodings."""
from __future__ import annotations

import functools

import numpy as np

from mcusparse.formats import FormatSpec, csr, parse_format

_ELEMENT_TYPES = {np.dtype(np.int8): "i8", np.dtype(np.float32): "f32"}


def encoding_attr(fmt: str | FormatSpec, dtype=np.int8, nnz: int = 0) -> str | None:
    """The encoding attribute text for a format, or None for "dense".

    nnz: the matrix's nonzeros (CSR row pointers widen to 32 bits past 65535;
    for CSE-CSR the entries of its col_idx).
    """
    spec = fmt if isinstance(fmt, FormatSpec) else parse_format(fmt, dtype)
    p = spec.params
    if spec.name == "dense":
        return None
    if spec.name == "csr":
        return (f"#sparse_enc.csr<crd_bits = {p.get('crd_bits', 16)}, "
                f"pos_bits = {csr.pos_bits(nnz)}>")
    if spec.name == "dcsr":
        bits = p.get("delta_bits", 4)
        return (f"#sparse_enc.dcsr<group = {p['group']}"
                + (f", delta_bits = {bits}>" if bits != 4 else ">"))
    if spec.name == "nm":
        return f"#sparse_enc.nm<n = {p['n']}, m = {p['m']}>"
    if spec.name == "gs":
        return f"#sparse_enc.gs<lanes = {p['lanes']}>"
    if spec.name == "cse-csr":   # nnz: the entries of col_idx
        return f"#sparse_enc.cse_csr<pos_bits = {csr.pos_bits(nnz)}>"
    raise ValueError(f"format {spec} has no sparse_enc encoding")


def pointer_count(spec: FormatSpec, arrays) -> int:
    """The count `encoding_attr`'s nnz means for an encoding's buffers: CSR's
    nonzeros, CSE-CSR's col_idx entries (0 for formats without pointers)."""
    name = {"csr": "values", "cse-csr": "col_idx"}.get(spec.name)
    return int(arrays[name].size) if name else 0


def element_type(dtype) -> str:
    """MLIR element type of a weight dtype (int8 -> i8, float32 -> f32)."""
    try:
        return _ELEMENT_TYPES[np.dtype(dtype)]
    except KeyError:
        raise ValueError(f"weights must be int8 or float32, got {np.dtype(dtype)}") from None


def check_weight_type(enc: str, shape: tuple[int, int], dtype) -> None:
    """Raises ValueError with the sparse_enc dialect's own diagnostic when `enc`
    does not accept a weight tensor of this shape and element type (a dCSR
    group that does not fill one 128-bit vector, say), before any pipeline runs."""
    why = _weight_type_diagnostic(enc, int(shape[0]), int(shape[1]), element_type(dtype))
    if why:
        raise ValueError(why)


@functools.lru_cache(maxsize=1024)
def _weight_type_diagnostic(enc: str, rows: int, cols: int, elem: str) -> str:
    from mlir import ir                  # importing mcusparse registered sparse_enc
    with ir.Context():                   # a fresh one costs about 4 ms: cached
        try:
            ir.Type.parse(f"tensor<{rows}x{cols}x{elem}, {enc}>")
        except ir.MLIRError as err:
            why = "; ".join(d.message for d in err.error_diagnostics) or str(err)
            return f"{enc} on tensor<{rows}x{cols}x{elem}>: {why}"
    return ""


def tensor_type(W: np.ndarray, fmt: str | FormatSpec = "dense") -> str:
    """`tensor<RxCxT[, #enc]>` for a weight matrix stored in `fmt`."""
    dims = "x".join(str(d) for d in W.shape)
    enc = encoding_attr(fmt, W.dtype, int(np.count_nonzero(W)))
    suffix = f", {enc}" if enc else ""
    return f"tensor<{dims}x{element_type(W.dtype)}{suffix}>"


def dense_literal(W: np.ndarray) -> str:
    """A compact `dense<"0x...">` literal holding W's bytes (little-endian)."""
    data = np.ascontiguousarray(W).astype(W.dtype.newbyteorder("<"), copy=False)
    return f'dense<"0x{data.tobytes().hex().upper()}">'
