"""Compression report: flash bytes of every weight tensor of a model per format.

Per tensor (reshaped to (out_channels, everything else)) it encodes:

    dense   "dense"
    csr     "csr" (n/a when the tensor has over 65535 columns; row pointers widen
            to uint32 past 65535 nonzeros)
    dcsr    "dcsr:16" for int8, "dcsr:4" for float32
    nm      the smallest exact N:M encoding: over M in {4, 8, 16} (M dividing
            the column count) the least N >= 1 with N >= the most nonzeros in
            any block of M, if N < M; the candidate with the fewest bytes wins
            (ties: smaller M). n/a when no pattern fits without pruning.
    gs      "gs:16" for int8 with cols <= 256 (16 x uint8 gather offsets),
            "gs:8" for int8 with wider rows (8 x uint16 offsets), "gs:4" for
            float32: the vector width of a 128-bit MVE gather.

Totals count a tensor whose format is n/a at its dense size (what a compiler
would fall back to) and say how many did.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from mcusparse.formats import encode, nm as nm_format

FORMAT_COLUMNS = ("dense", "csr", "dcsr", "nm", "gs")


@dataclass
class TensorReport:
    name: str
    operator: str
    shape: tuple[int, int]
    dtype: str
    nnz: int
    size: int
    bytes: dict[str, int | None] = field(default_factory=dict)   # column -> bytes (None = n/a)
    formats: dict[str, str] = field(default_factory=dict)         # column -> format string used
    notes: dict[str, str] = field(default_factory=dict)           # column -> why n/a

    @property
    def zero_fraction(self) -> float:
        return 1.0 - self.nnz / self.size


@dataclass
class ModelReport:
    path: str
    tensors: list[TensorReport]
    totals: dict[str, int]        # column -> bytes, n/a tensors counted dense
    fallbacks: dict[str, int]     # column -> tensors counted dense

    def ratio(self, column: str, baseline: str) -> float:
        return self.totals[column] / self.totals[baseline]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["ratios"] = {col: {"to_dense": self.ratio(col, "dense"), "to_csr": self.ratio(col, "csr")}
                          for col in FORMAT_COLUMNS}
        return data


def smallest_nm_format(W: np.ndarray) -> str | None:
    """The exact N:M pattern with the fewest bytes, or None if none fits."""
    rows, cols = W.shape
    best = None
    for m in nm_format.BLOCK_SIZES:
        if cols % m:
            continue
        n = max(1, int((W.reshape(rows, cols // m, m) != 0).sum(axis=2).max()))
        if n >= m:
            continue
        fmt = f"nm:{n}:{m}"
        size = encode(W, fmt).total_bytes
        if best is None or size < best[0]:
            best = (size, fmt)
    return None if best is None else best[1]


def gs_format(W: np.ndarray) -> str:
    if W.dtype == np.float32:
        return "gs:4"
    return "gs:16" if W.shape[1] <= 256 else "gs:8"


def dcsr_format(W: np.ndarray) -> str:
    return "dcsr:4" if W.dtype == np.float32 else "dcsr:16"


def tensor_report(name: str, operator: str, W: np.ndarray) -> TensorReport:
    report = TensorReport(name, operator, tuple(W.shape), str(W.dtype),
                          int(np.count_nonzero(W)), int(W.size))
    chosen = {"dense": "dense", "csr": "csr", "dcsr": dcsr_format(W),
              "nm": smallest_nm_format(W), "gs": gs_format(W)}
    for column, fmt in chosen.items():
        if fmt is None:
            report.bytes[column] = None
            report.notes[column] = "no N:M pattern fits without pruning"
            continue
        report.formats[column] = fmt
        try:
            report.bytes[column] = encode(W, fmt).total_bytes
        except ValueError as err:
            report.bytes[column] = None
            report.notes[column] = str(err)
    return report


def summarize(path: str, tensors: list[TensorReport]) -> ModelReport:
    totals = {col: 0 for col in FORMAT_COLUMNS}
    fallbacks = {col: 0 for col in FORMAT_COLUMNS}
    for t in tensors:
        for col in FORMAT_COLUMNS:
            size = t.bytes[col]
            if size is None:
                size = t.bytes["dense"]
                fallbacks[col] += 1
            totals[col] += size
    return ModelReport(path, tensors, totals, fallbacks)


def model_report(path) -> ModelReport:
    """Report every CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED weight of a .tflite file."""
    from mcusparse.tflite_weights import read_weights
    tensors = [tensor_report(w.name, w.operator, w.as_matrix()) for w in read_weights(path)]
    if not tensors:
        raise ValueError(f"{path}: no int8/float32 CONV_2D, DEPTHWISE_CONV_2D or "
                         f"FULLY_CONNECTED weights found")
    return summarize(str(path), tensors)


# --- bits per nonzero --------------------------------------------------------

def index_bits_per_nonzero(encoded, nnz: int) -> float:
    """Bits of everything but the `values` component, per true nonzero."""
    return (encoded.total_bytes - encoded.nbytes["values"]) * 8 / nnz


def micro_benchmark_matrix() -> np.ndarray:
    """The dCSR paper's example: 64x64 int8, about 80 % zeros (seed 23)."""
    np.random.seed(23)
    W = np.random.randint(-128, 127, (64, 64)).astype(np.int8)
    W[np.random.random((64, 64)) < 0.8] = 0
    return W


def micro_benchmark(W: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Bytes and bits per nonzero (index only, and total) for CSR and dCSR."""
    if W is None:
        W = micro_benchmark_matrix()
    nnz = int(np.count_nonzero(W))
    result = {}
    for fmt in ("csr", "dcsr"):
        enc = encode(W, fmt)
        result[fmt] = {"total_bytes": enc.total_bytes,
                       "index_bits_per_nonzero": index_bits_per_nonzero(enc, nnz),
                       "total_bits_per_nonzero": enc.total_bytes * 8 / nnz}
    return result


# --- text output ---------------------------------------------------------------

OPERATOR_ABBREVIATIONS = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "dw", "FULLY_CONNECTED": "fc"}
OPERATOR_KEYWORDS = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "depthwise", "FULLY_CONNECTED": "matmul"}


NOISE_COMPONENTS = {"ReadVariableOp", "resource", "transpose"}


def short_name(name: str, operator: str, width: int = 40) -> str:
    """A readable tensor name: TFLite joins fused names with ';' and adds
    scope prefixes and ReadVariableOp suffixes; keep the informative part."""
    segments = name.split(";")
    keyword = OPERATOR_KEYWORDS.get(operator, "")
    segment = next((s for s in segments if keyword in s.lower()), segments[0])
    parts = [p for p in segment.split("/") if p not in NOISE_COMPONENTS]
    if len(parts) > 2:
        parts = parts[1:]  # model scope, e.g. "sequential" or "functional_3"
    short = "/".join(parts) or name
    return short if len(short) <= width else short[:width - 3] + "..."


def _cell(t: TensorReport, column: str) -> str:
    size = t.bytes[column]
    if size is None:
        return "n/a"
    if column in ("nm", "gs"):
        return f"{size} {t.formats[column].split(':', 1)[1]}"
    return str(size)


def _table(header: list[str], rows: list[list[str]], left: int = 2) -> list[str]:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    def line(cells):
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def format_report(report: ModelReport) -> str:
    bytes_rows, ratio_rows = [], []
    for t in report.tensors:
        label = short_name(t.name, t.operator)
        common = [label, OPERATOR_ABBREVIATIONS.get(t.operator, t.operator),
                  f"{t.shape[0]}x{t.shape[1]}", f"{100 * t.zero_fraction:.1f}%"]
        bytes_rows.append(common + [_cell(t, c) for c in FORMAT_COLUMNS])
        ratios = []
        for c in FORMAT_COLUMNS[1:]:
            size, csr = t.bytes[c], t.bytes["csr"]
            if size is None:
                ratios.append("n/a")
            else:
                to_csr = f"{size / csr:.2f}" if csr else "n/a"
                ratios.append(f"{size / t.bytes['dense']:.2f} / {to_csr}")
        ratio_rows.append(common[:1] + ratios)

    total_zero = 1 - sum(t.nnz for t in report.tensors) / sum(t.size for t in report.tensors)
    bytes_rows.append(["total", "", f"{len(report.tensors)} tensors", f"{100 * total_zero:.1f}%"]
                      + [str(report.totals[c]) for c in FORMAT_COLUMNS])
    ratio_rows.append(["total"] + [f"{report.ratio(c, 'dense'):.2f} / {report.ratio(c, 'csr'):.2f}"
                                   for c in FORMAT_COLUMNS[1:]])

    lines = [f"Flash bytes per weight tensor: {report.path}", ""]
    lines += _table(["tensor", "op", "shape", "zeros", "dense", "csr", "dcsr", "nm (N:M)", "gs (V)"],
                    bytes_rows, left=3)
    lines += ["", "Size relative to dense / to CSR:", ""]
    lines += _table(["tensor", "csr", "dcsr", "nm", "gs"], ratio_rows, left=1)
    best = sum(min(b for b in t.bytes.values() if b is not None) for t in report.tensors)
    lines += ["", f"Smallest format per tensor: {best} bytes, "
                  f"{best / report.totals['dense']:.2f} of dense, {best / report.totals['csr']:.2f} of CSR."]
    fell_back = [f"{c}: {n}" for c, n in report.fallbacks.items() if n]
    lines += ["", "dCSR uses G=16 lanes (int8) / 4 (float32); N:M is the smallest exact pattern; "
                  "GS uses V=16 (int8, <=256 columns), 8 (int8, wider), 4 (float32)."]
    if fell_back:
        lines.append("Tensors counted at dense size in the totals (format n/a): " + ", ".join(fell_back))
    return "\n".join(lines)


def format_micro_benchmark(result: dict) -> str:
    lines = ["dCSR paper micro-benchmark: 64x64 int8, np.random.seed(23), 80 % zeros"]
    for fmt, r in result.items():
        lines.append(f"  {fmt:5s} {r['total_bytes']:6d} bytes  "
                     f"{r['index_bits_per_nonzero']:6.2f} index bits/nonzero  "
                     f"{r['total_bits_per_nonzero']:6.2f} total bits/nonzero")
    return "\n".join(lines)


def report_json(report: ModelReport) -> str:
    return json.dumps(report.to_dict(), indent=2)
