"""Golden numpy reference for the sparse weight formats.

`encode(W, fmt)` turns a 2-D int8 or float32 weight matrix into the exact
arrays that go to flash for one storage format; `Encoded.decode()` inverts it.
Kernels, the C++ packing pass and the tests all check against these arrays.
docs/formats.md describes every byte.

Format strings:

    "dense"          row-major values
    "csr"            values, uint16 column indices, uint16 row pointers (uint32
                     when there are more than 65535 nonzeros)
    "csr:8"          the same with uint8 column indices (at most 256 columns)
    "dcsr" / "dcsr:G"  delta-compressed CSR, G in {4, 8, 16} lanes per group
                     (default 16 for int8, 4 for float32; also group=G)
    "dcsr:G:8"       the same rows with whole-byte offsets from each group's
                     first column and uint8 jumps between groups (no slope,
                     nibbles, extension maps or masks); "dcsr:G:4" is "dcsr:G"
    "nm:N:M"         at most N nonzeros per block of M along a row, M in {4, 8, 16}
    "gs:V"           load-balanced gather-scatter over groups of V rows, V in {4, 8, 16}
    "cse-csr"        CSR extended with common subexpressions (pairs of entries that
                     recur in several rows, computed once)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from mcusparse.formats import csecsr, csr, dcsr, dense, gs, nm

SUPPORTED_DTYPES = (np.dtype(np.int8), np.dtype(np.float32))

# Dtypes a flash component may have (all little-endian).
COMPONENT_DTYPES = tuple(np.dtype(t).newbyteorder("<") for t in
                         ("i1", "u1", "i2", "u2", "i4", "u4", "f4"))

_MODULES = {"dense": dense, "csr": csr, "dcsr": dcsr, "nm": nm, "gs": gs, "cse-csr": csecsr}

FORMAT_HELP = ("dense, csr[:8], dcsr[:G[:D]] (G in 4, 8, 16; D = 4 or 8 delta bits), "
               "nm:N:M (M in 4, 8, 16), gs:V (V in 4, 8, 16), cse-csr")


@dataclass(frozen=True)
class FormatSpec:
    """A parsed format string: the format name and its integer parameters."""
    name: str
    params: Mapping[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.name == "csr" and self.params.get("crd_bits", 16) != 16:
            return f"csr:{self.params['crd_bits']}"
        if self.name == "dcsr":
            bits = self.params.get("delta_bits", 4)
            return f"dcsr:{self.params['group']}" + (f":{bits}" if bits != 4 else "")
        if self.name == "nm":
            return f"nm:{self.params['n']}:{self.params['m']}"
        if self.name == "gs":
            return f"gs:{self.params['lanes']}"
        return self.name


def _parse_int(text: str, what: str, fmt: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"format {fmt!r}: {what} must be an integer, got {text!r}") from None


def parse_format(fmt: str, dtype=np.int8, **options) -> FormatSpec:
    """Parse a format string (plus keyword options) into a FormatSpec.

    `dtype` only picks the default dCSR group (16 for int8, 4 for float32).
    """
    if not isinstance(fmt, str):
        raise ValueError(f"format must be a string like 'nm:2:4', got {type(fmt).__name__}")
    parts = fmt.strip().lower().split(":")
    name, args = parts[0], parts[1:]
    if name not in _MODULES:
        raise ValueError(f"unknown format {fmt!r}: expected one of {FORMAT_HELP}")

    allowed_options = {"dcsr": {"group"}}.get(name, set())
    unknown = set(options) - allowed_options
    if unknown:
        raise ValueError(f"format {name!r} takes no option(s) {sorted(unknown)}"
                         + (f"; allowed: {sorted(allowed_options)}" if allowed_options else ""))

    if name in ("dense", "cse-csr"):
        if args:
            raise ValueError(f"format {fmt!r}: {name} takes no parameters")
        return FormatSpec(name, {})

    if name == "csr":
        if len(args) > 1:
            raise ValueError(f"format {fmt!r}: expected csr or csr:B (B = 8 or 16 index bits)")
        bits = _parse_int(args[0], "B", fmt) if args else 16
        if bits not in csr.CRD_BITS:
            raise ValueError(f"format {fmt!r}: CSR column indices are 8 or 16 bits, got {bits}")
        # 16 bits is the paper's CSR and the plain "csr".
        return FormatSpec("csr", {"crd_bits": 8} if bits == 8 else {})

    if name == "dcsr":
        if len(args) > 2:
            raise ValueError(f"format {fmt!r}: expected dcsr, dcsr:G or dcsr:G:D")
        group = _parse_int(args[0], "G", fmt) if args else None
        delta_bits = _parse_int(args[1], "D", fmt) if len(args) > 1 else 4
        if delta_bits not in dcsr.DELTA_BITS:
            raise ValueError(f"format {fmt!r}: dCSR deltas are 4 bits (with extension "
                             f"masks) or 8 bits, got {delta_bits}")
        if "group" in options:
            opt = options["group"]
            if not isinstance(opt, (int, np.integer)) or isinstance(opt, bool):
                raise ValueError(f"dcsr group must be an integer, got {opt!r}")
            if group is not None and group != opt:
                raise ValueError(f"format {fmt!r} conflicts with group={opt}")
            group = int(opt)
        if group is None:
            group = dcsr.default_group(np.dtype(dtype))
        if group not in dcsr.GROUP_SIZES:
            raise ValueError(f"format {fmt!r}: dCSR group must be 4, 8 or 16, got {group}")
        # 4 bits is the paper's dCSR and the plain "dcsr:G".
        return FormatSpec("dcsr", {"group": group, **({"delta_bits": 8} if delta_bits == 8 else {})})

    if name == "nm":
        if len(args) != 2:
            raise ValueError(f"format {fmt!r}: expected nm:N:M, e.g. nm:2:4")
        n, m = (_parse_int(a, w, fmt) for a, w in zip(args, ("N", "M")))
        if m not in nm.BLOCK_SIZES:
            raise ValueError(f"format {fmt!r}: M must be 4, 8 or 16, got {m}")
        if not 1 <= n < m:
            raise ValueError(f"format {fmt!r}: N must satisfy 1 <= N < M, got N={n}, M={m}")
        return FormatSpec("nm", {"n": n, "m": m})

    # gs
    if len(args) != 1:
        raise ValueError(f"format {fmt!r}: expected gs:V, e.g. gs:16")
    lanes = _parse_int(args[0], "V", fmt)
    if lanes not in gs.LANE_COUNTS:
        raise ValueError(f"format {fmt!r}: V must be 4, 8 or 16, got {lanes}")
    return FormatSpec("gs", {"lanes": lanes})


def check_matrix(W) -> np.ndarray:
    """Validate an encoder input: a non-empty 2-D int8 or float32 array."""
    if not isinstance(W, np.ndarray):
        raise ValueError(f"W must be a numpy array, got {type(W).__name__}")
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D (rows, cols), got rank {W.ndim} with shape {W.shape}")
    if W.dtype not in SUPPORTED_DTYPES:
        raise ValueError(f"W must be int8 or float32, got {W.dtype}")
    if W.shape[0] == 0 or W.shape[1] == 0:
        raise ValueError(f"W must have at least one row and one column, got shape {W.shape}")
    return np.ascontiguousarray(W)


class Encoded:
    """One weight matrix in one storage format.

    `arrays` is what goes to flash, in a fixed order: component name -> 1-D
    little-endian array. `shape`, `dtype` and `spec` are compile-time facts
    (they come from the tensor type and the encoding attribute) and are not
    stored.
    """

    def __init__(self, spec: FormatSpec, shape: tuple[int, int], dtype: np.dtype,
                 arrays: dict[str, np.ndarray]):
        self.spec = spec
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        for name, arr in arrays.items():
            if arr.ndim != 1 or arr.dtype not in COMPONENT_DTYPES:
                raise AssertionError(f"component {name} must be 1-D with a fixed dtype, "
                                     f"got {arr.dtype} {arr.shape}")
        self.arrays = arrays

    @property
    def fmt(self) -> str:
        """Canonical format string, e.g. 'dcsr:16' or 'nm:2:4'."""
        return str(self.spec)

    @property
    def nbytes(self) -> dict[str, int]:
        return {name: int(arr.nbytes) for name, arr in self.arrays.items()}

    @property
    def total_bytes(self) -> int:
        return sum(self.nbytes.values())

    def decode(self) -> np.ndarray:
        module = _MODULES[self.spec.name]
        return module.decode(self.arrays, self.shape, self.dtype, **self.spec.params)

    def tobytes(self) -> bytes:
        """All components concatenated in `arrays` order (no alignment padding)."""
        return b"".join(arr.tobytes() for arr in self.arrays.values())

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.nbytes.items())
        return (f"Encoded({self.fmt}, shape={self.shape}, dtype={self.dtype}, "
                f"total_bytes={self.total_bytes}: {parts})")


def encode(W: np.ndarray, fmt: str, **options) -> Encoded:
    """Encode a 2-D int8/float32 matrix in format `fmt` (see module doc).

    Raises ValueError naming the problem when W does not fit the format.
    """
    W = check_matrix(W)
    spec = parse_format(fmt, W.dtype, **options)
    arrays = _MODULES[spec.name].encode(W, **spec.params)
    return Encoded(spec, W.shape, W.dtype, arrays)


__all__ = ["encode", "Encoded", "FormatSpec", "parse_format", "check_matrix", "FORMAT_HELP"]
