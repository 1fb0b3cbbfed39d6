"""MLIR text emission shared by the TFLite and ONNX front ends.

`Emitter` writes one `func.func @main` on tensors (func, arith, math, tensor,
linalg). Values are SSA names with a known shape and element type. Weight
matrices of convolutions and fully connected layers are emitted as 2-D
`arith.constant` tensors (out_channels x kh*kw*in) used directly by a
`linalg.matmul` / `linalg.matvec` (im2col for convolutions), so a later pass
can attach a `#sparse_enc` encoding to them.

Integer conventions: int8 x int8 products accumulate in i32; the input zero
point is folded into the bias (bias - zp_in * sum_k w[o, k]), which is exact
because padding is filled with the input zero point. Requantisation is TFLite's
MultiplyByQuantizedMultiplier, emitted inline in a linalg.generic body.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcusparse.frontend.model import OperatorSpan
from mcusparse.frontend.quant import single_rounding_fits_i32

ELEM = {np.dtype(np.int8): "i8", np.dtype(np.uint8): "i8", np.dtype(np.int16): "i16",
        np.dtype(np.int32): "i32", np.dtype(np.int64): "i64",
        np.dtype(np.float32): "f32", np.dtype(np.bool_): "i1"}


@dataclass(frozen=True)
class Value:
    name: str
    shape: tuple[int, ...]
    elem: str  # i8, i32, f32, ...

    @property
    def type(self) -> str:
        return ttype(self.shape, self.elem)


def ttype(shape, elem: str) -> str:
    dims = "x".join(str(int(d)) for d in shape)
    return f"tensor<{dims}x{elem}>" if dims else f"tensor<{elem}>"


def dense_literal(array: np.ndarray, elem: str) -> str:
    a = np.ascontiguousarray(array)
    if a.size == 0:
        return "dense<>"
    if a.size == 1 or np.all(a == a.flat[0]):
        v = a.flat[0]
        if elem == "f32":
            return f"dense<{_float_lit(v)}>"
        return f"dense<{int(v)}>"
    if elem == "f32":
        data = a.astype("<f4").tobytes()
    elif elem in ("i8",):
        data = a.astype(np.int8 if a.dtype != np.uint8 else np.uint8).tobytes()
    else:
        data = a.astype({"i16": "<i2", "i32": "<i4", "i64": "<i8", "i1": "u1"}[elem]).tobytes()
    return f'dense<"0x{data.hex().upper()}">'


def _float_lit(v) -> str:
    f = np.float32(v)
    if np.isnan(f) or np.isinf(f):
        return "0x" + f.view(np.uint32).item().to_bytes(4, "big").hex().upper()
    return repr(float(f)) if float(f) != int(f) or abs(float(f)) >= 1e16 else f"{float(f):.1f}"


def scalar_lit(v, elem: str) -> str:
    if elem.startswith("f"):
        return _float_lit(v)
    return str(int(v))


def amap(n: int, results) -> str:
    dims = ", ".join(f"d{i}" for i in range(n))
    return f"affine_map<({dims}) -> ({', '.join(results)})>"


def identity(n: int) -> str:
    return amap(n, [f"d{i}" for i in range(n)])


def broadcast_map(in_shape, out_shape) -> str:
    """numpy broadcasting of in_shape into out_shape as an indexing map."""
    n = len(out_shape)
    off = n - len(in_shape)
    res = []
    for i, d in enumerate(in_shape):
        j = i + off
        res.append("0" if d == 1 and out_shape[j] != 1 else f"d{j}")
    return amap(n, res)


class Body:
    """Ops inside a linalg.generic region (scalar SSA names)."""

    def __init__(self, em: "Emitter"):
        self.em = em
        self.lines: list[str] = []

    def op(self, text: str) -> str:
        name = self.em.fresh("s")
        self.lines.append(f"{name} = {text}")
        return name

    def const(self, v, elem: str) -> str:
        return self.op(f"arith.constant {scalar_lit(v, elem)} : {elem}")

    # --- integer helpers -------------------------------------------------
    def to_f32(self, x: str) -> str:
        return self.op(f"arith.sitofp {x} : i32 to f32")

    def round_half_even_i32(self, f: str) -> str:
        """f rounded half to even, as i32, for |f| <= 2^22; beyond, +-2^22 (a
        requantisation saturates there anyway). Adding 1.5 * 2^23 leaves an
        ulp of 1, so the float add itself rounds half to even, and the sum's
        low mantissa bits are the integer: no libm roundevenf (which picolibc
        lacks) and no float-to-int conversion (QEMU 7.2 aborts on RVV's
        narrowing vfncvt.rtz)."""
        f = self.clamp(f, -4194304.0, 4194304.0, "f32")
        t = self.op(f"arith.addf {f}, {self.const(12582912.0, 'f32')} : f32")
        bits = self.op(f"arith.bitcast {t} : f32 to i32")
        return self.op(f"arith.subi {bits}, {self.const(0x4B400000, 'i32')} : i32")

    def dequantize(self, x: str, zp: int, scale) -> str:
        """float(x - zp) * scale of an i8 scalar (ONNX DequantizeLinear, TFLite
        DEQUANTIZE)."""
        d = self.op(f"arith.subi {self.ext(x, 'i8', 'i32')}, {self.const(zp, 'i32')} : i32")
        s = self.const(np.float32(scale), "f32")
        return self.op(f"arith.mulf {self.to_f32(d)}, {s} : f32")

    def quantize(self, f: str, zp: int, lo: int = -128, hi: int = 127,
                 elem: str = "i8") -> str:
        """round_half_even(f) + zp, saturated to [lo, hi], as `elem`."""
        r = self.op(f"arith.addi {self.round_half_even_i32(f)}, {self.const(zp, 'i32')} : i32")
        return self.op(f"arith.trunci {self.clamp(r, lo, hi)} : i32 to {elem}")

    def clamp(self, x: str, lo, hi, elem: str = "i32") -> str:
        lo_c = lo if isinstance(lo, str) else self.const(lo, elem)
        hi_c = hi if isinstance(hi, str) else self.const(hi, elem)
        if elem.startswith("f"):
            x = self.op(f"arith.maximumf {x}, {lo_c} : {elem}")
            return self.op(f"arith.minimumf {x}, {hi_c} : {elem}")
        x = self.op(f"arith.maxsi {x}, {lo_c} : {elem}")
        return self.op(f"arith.minsi {x}, {hi_c} : {elem}")

    def mbqm(self, x: str, mult, shift, rounding: str = "double") -> str:
        """TFLite MultiplyByQuantizedMultiplier(x, mult, shift) on i32.

        mult/shift: Python ints (per-tensor) or pairs of SSA names
        (mult, (left_shift, right_shift)) for per-channel values.
        """
        if rounding == "single-i32":
            return self.single_rounding_i32(x, mult, shift)
        if rounding == "single":
            # (x * m - (x * m < 0) + 2^(30 - shift)) >> (31 - shift), in i64:
            # rounded half away from zero (the - 1 turns negative ties down).
            if isinstance(mult, str):
                m = mult
                tot = self.op(f"arith.extsi {shift[2]} : i32 to i64")
            else:
                m = self.const(mult, "i32")
                tot = self.const(31 - shift, "i64")
            a = self.op(f"arith.extsi {x} : i32 to i64")
            b = self.op(f"arith.extsi {m} : i32 to i64")
            ab = self.op(f"arith.muli {a}, {b} : i64")
            neg = self.op(f"arith.cmpi slt, {ab}, {self.const(0, 'i64')} : i64")
            neg = self.op(f"arith.extui {neg} : i1 to i64")
            ab = self.op(f"arith.subi {ab}, {neg} : i64")
            one = self.const(1, "i64")
            tm1 = self.op(f"arith.subi {tot}, {one} : i64")
            rnd = self.op(f"arith.shli {one}, {tm1} : i64")
            s = self.op(f"arith.addi {ab}, {rnd} : i64")
            s = self.op(f"arith.shrsi {s}, {tot} : i64")
            return self.op(f"arith.trunci {s} : i64 to i32")
        if isinstance(mult, str):
            m = mult
            ls, rs = shift[0], shift[1]
        else:
            m = self.const(mult, "i32")
            ls = self.const(max(shift, 0), "i32")
            rs = self.const(max(-shift, 0), "i32")
        xs = self.op(f"arith.shli {x}, {ls} : i32")
        # SaturatingRoundingDoublingHighMul in 32-bit ops, so that it vectorises
        # (MVE vmul + vmulh): with ab = hi * 2^32 + lo, TFLite's
        # (ab + (ab >= 0 ? 2^30 : 1 - 2^30)) / 2^31 (truncating) equals
        # floor((ab + 2^30) / 2^31) = 2 * (hi + carry(lo + 2^30)) + bit 31 of
        # (lo + 2^30), for every ab except (-2^31)^2, which TFLite saturates
        # and which cannot occur with its positive multipliers.
        prod = self.em.fresh("s")
        self.lines.append(f"{prod}:2 = arith.mulsi_extended {xs}, {m} : i32")
        lo, hi_word = f"{prod}#0", f"{prod}#1"
        s = self.op(f"arith.addi {lo}, {self.const(1 << 30, 'i32')} : i32")
        carry = self.op(f"arith.cmpi ult, {s}, {lo} : i32")
        carry = self.op(f"arith.extui {carry} : i1 to i32")
        h = self.op(f"arith.addi {hi_word}, {carry} : i32")
        h = self.op(f"arith.shli {h}, {self.const(1, 'i32')} : i32")
        top = self.op(f"arith.shrui {s}, {self.const(31, 'i32')} : i32")
        hi = self.op(f"arith.ori {h}, {top} : i32")
        return self.rdbp(hi, rs)

    def single_rounding_i32(self, x: str, mult, shift) -> str:
        """mbqm's "single" rounding with e = -shift in 1..31 in 32-bit ops
        (single_rounding_fits_i32 says when): x * m / 2^(31 + e) rounded half
        away from zero, that is (p + 2^(30 + e)) >> (31 + e) with p = x * m -
        (x * m < 0). With x * m = hi * 2^32 + lo,
          v = floor(p / 2^31) = (hi << 1) | (lo >>u 31), minus 1 where
              x * m < 0 (v < 0) and 2^31 divides x * m (lo << 1 = 0);
          the result is v rounded right by e, half up: (v >> e) + bit e - 1.
        Unlike the i64 form it vectorises (MVE vqdmulh + vrshl,
        sparse-enc-fixed-point-to-mve) and needs no 64-bit shifts on rv32."""
        if isinstance(mult, str):
            m, e = mult, shift[1]
            em1 = self.op(f"arith.subi {e}, {self.const(1, 'i32')} : i32")
        else:
            m = self.const(mult, "i32")
            e, em1 = self.const(-shift, "i32"), self.const(-shift - 1, "i32")
        one, zero = self.const(1, "i32"), self.const(0, "i32")
        lo = self.op(f"arith.muli {x}, {m} : i32")
        prod = self.em.fresh("s")
        self.lines.append(f"{prod}:2 = arith.mulsi_extended {x}, {m} : i32")
        hi = self.op(f"arith.shli {prod}#1, {one} : i32")
        top = self.op(f"arith.shrui {lo}, {self.const(31, 'i32')} : i32")
        v = self.op(f"arith.ori {hi}, {top} : i32")
        low31 = self.op(f"arith.shli {lo}, {one} : i32")
        exact = self.op(f"arith.cmpi eq, {low31}, {zero} : i32")
        neg = self.op(f"arith.cmpi slt, {v}, {zero} : i32")
        down = self.op(f"arith.andi {exact}, {neg} : i1")
        down = self.op(f"arith.extui {down} : i1 to i32")
        v = self.op(f"arith.subi {v}, {down} : i32")
        q = self.op(f"arith.shrsi {v}, {e} : i32")
        half = self.op(f"arith.shrsi {v}, {em1} : i32")
        half = self.op(f"arith.andi {half}, {one} : i32")
        return self.op(f"arith.addi {q}, {half} : i32")

    def rdbp(self, x: str, exponent: str) -> str:
        one = self.const(1, "i32")
        zero = self.const(0, "i32")
        p = self.op(f"arith.shli {one}, {exponent} : i32")
        mask = self.op(f"arith.subi {p}, {one} : i32")
        rem = self.op(f"arith.andi {x}, {mask} : i32")
        neg = self.op(f"arith.cmpi slt, {x}, {zero} : i32")
        negi = self.op(f"arith.extui {neg} : i1 to i32")
        half = self.op(f"arith.shrsi {mask}, {one} : i32")
        thr = self.op(f"arith.addi {half}, {negi} : i32")
        sh = self.op(f"arith.shrsi {x}, {exponent} : i32")
        gt = self.op(f"arith.cmpi sgt, {rem}, {thr} : i32")
        gti = self.op(f"arith.extui {gt} : i1 to i32")
        return self.op(f"arith.addi {sh}, {gti} : i32")

    def ext(self, x: str, elem: str, to: str = "i32", unsigned: bool = False) -> str:
        if elem == to:
            return x
        return self.op(f"arith.{'extui' if unsigned else 'extsi'} {x} : {elem} to {to}")


class Emitter:
    def __init__(self):
        self.lines: list[str] = []
        self.counter = 0
        self.args: list[Value] = []
        # (index into self.lines, operator index, op, name): where each
        # source operator's ops begin (begin_operator).
        self.operator_marks: list[tuple[int, int, str, str]] = []
        self.operators: list[OperatorSpan] = []   # set by module()

    # --- plumbing ---------------------------------------------------------
    def fresh(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"%{prefix}{self.counter}"

    def emit(self, text: str, shape, elem: str) -> Value:
        v = Value(self.fresh(), tuple(int(d) for d in shape), elem)
        self.lines.append(f"{v.name} = {text}")
        return v

    def arg(self, shape, elem: str) -> Value:
        v = Value(f"%arg{len(self.args)}", tuple(int(d) for d in shape), elem)
        self.args.append(v)
        return v

    def begin_operator(self, index: int, op: str, name: str) -> None:
        """The ops emitted from here on, up to the next call, belong to source
        operator `index` (its line span in the module text: self.operators)."""
        self.operator_marks.append((len(self.lines), int(index), op, name))

    def _operator_spans(self) -> list[OperatorSpan]:
        # Line 1 is `module {`, line 2 the func.func; entry k of self.lines
        # starts after the lines of the entries before it.
        starts = [3]
        for line in self.lines:
            starts.append(starts[-1] + line.count("\n") + 1)
        spans = []
        for i, (at, index, op, name) in enumerate(self.operator_marks):
            end = self.operator_marks[i + 1][0] if i + 1 < len(self.operator_marks) \
                else len(self.lines)
            if end > at:     # an operator that emitted nothing (folded) has no lines
                spans.append(OperatorSpan(index, op, name, starts[at], starts[end] - 1))
        return spans

    def module(self, results: list[Value], name: str = "main", attrs: str = "") -> str:
        self.operators = self._operator_spans()
        args = ", ".join(f"{a.name}: {a.type}" for a in self.args)
        rtypes = ", ".join(r.type for r in results)
        body = "\n".join("    " + line for line in self.lines)
        ret = f"    return {', '.join(r.name for r in results)} : {rtypes}"
        attr = f" attributes {{{attrs}}}" if attrs else ""
        return (f"module {{\n  func.func @{name}({args}) -> ({rtypes}){attr} {{\n"
                f"{body}\n{ret}\n  }}\n}}\n")

    def constant(self, array: np.ndarray, elem: str | None = None,
                 layer: int | None = None) -> Value:
        """A tensor constant; `layer` marks a layer's 2-D weight matrix with
        `{mcusparse.layer = i}` (its index in ImportedModel.layers), which is how
        the model compiler finds the constant to give a sparse layout."""
        array = np.asarray(array)
        elem = elem or ELEM[array.dtype]
        tag = "" if layer is None else f"{{mcusparse.layer = {int(layer)} : i64}} "
        return self.emit(f"arith.constant {tag}{dense_literal(array, elem)} : "
                         f"{ttype(array.shape, elem)}", array.shape, elem)

    def empty(self, shape, elem: str) -> Value:
        return self.emit(f"tensor.empty() : {ttype(shape, elem)}", shape, elem)

    def filled(self, shape, elem: str, value) -> Value:
        e = self.empty(shape, elem)
        c = self.fresh("c")
        self.lines.append(f"{c} = arith.constant {scalar_lit(value, elem)} : {elem}")
        return self.emit(f"linalg.fill ins({c} : {elem}) outs({e.name} : {e.type}) -> {e.type}",
                         shape, elem)

    def generic(self, ins: list[tuple[Value, str]], out_shape, out_elem: str, out_map: str,
                iterators: list[str], body_fn, init: Value | None = None) -> Value:
        """linalg.generic with one result; body_fn(Body, in_args, out_arg) -> yielded name."""
        if init is None:
            init = self.empty(out_shape, out_elem)
        b = Body(self)
        in_args = [self.fresh("a") for _ in ins]
        out_arg = self.fresh("o")
        y = body_fn(b, in_args, out_arg)
        maps = ", ".join([m for _, m in ins] + [out_map])
        its = ", ".join(f'"{i}"' for i in iterators)
        ins_txt = ""
        if ins:
            ins_txt = (f"ins({', '.join(v.name for v, _ in ins)} : "
                       f"{', '.join(v.type for v, _ in ins)}) ")
        block_args = ", ".join([f"{a}: {v.elem}" for a, (v, _) in zip(in_args, ins)] +
                               [f"{out_arg}: {out_elem}"])
        body = "\n".join("      " + line for line in b.lines)
        text = (f"linalg.generic {{indexing_maps = [{maps}], iterator_types = [{its}]}} "
                f"{ins_txt}outs({init.name} : {init.type}) {{\n"
                f"    ^bb0({block_args}):\n{body}\n      linalg.yield {y} : {out_elem}\n"
                f"    }} -> {ttype(out_shape, out_elem)}")
        return self.emit(text, out_shape, out_elem)

    def map(self, inputs: list[Value], out_shape, out_elem: str, fn) -> Value:
        """Elementwise with numpy broadcasting; fn(Body, [scalars]) -> scalar."""
        n = len(out_shape)
        ins = [(v, broadcast_map(v.shape, out_shape)) for v in inputs]
        return self.generic(ins, out_shape, out_elem, identity(n), ["parallel"] * n,
                            lambda b, a, o: fn(b, a))

    # --- shapes -----------------------------------------------------------
    def reshape(self, x: Value, shape) -> Value:
        shape = tuple(int(d) for d in shape)
        if shape == x.shape:
            return x
        flat = x
        if len(x.shape) != 1:
            if len(x.shape) == 0:
                flat = self.emit(f"tensor.expand_shape {x.name} [] output_shape [1] : "
                                 f"{x.type} into {ttype((1,), x.elem)}", (1,), x.elem)
            else:
                n = int(np.prod(x.shape))
                grp = ", ".join(str(i) for i in range(len(x.shape)))
                flat = self.emit(f"tensor.collapse_shape {x.name} [[{grp}]] : {x.type} into "
                                 f"{ttype((n,), x.elem)}", (n,), x.elem)
        if len(shape) == 1:
            return flat
        if len(shape) == 0:
            return self.emit(f"tensor.collapse_shape {flat.name} [] : {flat.type} into "
                             f"{ttype((), x.elem)}", (), x.elem)
        grp = ", ".join(str(i) for i in range(len(shape)))
        osh = ", ".join(str(d) for d in shape)
        return self.emit(f"tensor.expand_shape {flat.name} [[{grp}]] output_shape [{osh}] : "
                         f"{flat.type} into {ttype(shape, x.elem)}", shape, x.elem)

    def pad(self, x: Value, pads: list[tuple[int, int]], value) -> Value:
        if all(lo == 0 and hi == 0 for lo, hi in pads):
            return x
        shape = tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, pads))
        lows = ", ".join(str(lo) for lo, _ in pads)
        highs = ", ".join(str(hi) for _, hi in pads)
        c = self.fresh("c")
        self.lines.append(f"{c} = arith.constant {scalar_lit(value, x.elem)} : {x.elem}")
        idx = ", ".join(self.fresh("i") + ": index" for _ in pads)
        return self.emit(f"tensor.pad {x.name} low[{lows}] high[{highs}] {{\n"
                         f"    ^bb0({idx}):\n      tensor.yield {c} : {x.elem}\n"
                         f"    }} : {x.type} to {ttype(shape, x.elem)}", shape, x.elem)

    def concat(self, values: list[Value], axis: int) -> Value:
        """The values joined along `axis` (all other dimensions equal)."""
        shape = list(values[0].shape)
        shape[axis] = sum(v.shape[axis] for v in values)
        out = self.empty(tuple(shape), values[0].elem)
        start = 0
        for v in values:
            offsets = ", ".join(str(start if i == axis else 0) for i in range(len(shape)))
            sizes = ", ".join(str(d) for d in v.shape)
            ones = ", ".join("1" for _ in shape)
            out = self.emit(f"tensor.insert_slice {v.name} into {out.name}[{offsets}] "
                            f"[{sizes}] [{ones}] : {v.type} into {out.type}",
                            out.shape, out.elem)
            start += v.shape[axis]
        return out

    def extract_slice(self, x: Value, offsets, sizes, strides) -> Value:
        shape = tuple(int(d) for d in sizes)
        fmt = lambda v: ", ".join(str(int(i)) for i in v)  # noqa: E731
        return self.emit(f"tensor.extract_slice {x.name}[{fmt(offsets)}] [{fmt(sizes)}] "
                         f"[{fmt(strides)}] : {x.type} to {ttype(shape, x.elem)}",
                         shape, x.elem)

    def transpose(self, x: Value, perm) -> Value:
        shape = tuple(x.shape[p] for p in perm)
        init = self.empty(shape, x.elem)
        p = ", ".join(str(i) for i in perm)
        return self.emit(f"linalg.transpose ins({x.name} : {x.type}) outs({init.name} : "
                         f"{init.type}) permutation = [{p}]", shape, x.elem)

    # --- products ----------------------------------------------------------
    def _mul_add(self, acc_elem: str, unsigned=(False, False)):
        def body(b: Body, a, o):
            if acc_elem.startswith("f"):
                p = b.op(f"arith.mulf {a[0]}, {a[1]} : {acc_elem}")
                return b.op(f"arith.addf {o}, {p} : {acc_elem}")
            x = b.ext(a[0], self._cur_elems[0], acc_elem, unsigned[0])
            w = b.ext(a[1], self._cur_elems[1], acc_elem, unsigned[1])
            p = b.op(f"arith.muli {x}, {w} : {acc_elem}")
            return b.op(f"arith.addi {o}, {p} : {acc_elem}")
        return body

    def matmul_wt(self, x: Value, w: Value, acc_elem: str) -> Value:
        """[M, K] x [O, K]^T -> [M, O] (w is the 2-D weight constant)."""
        m, k = x.shape
        o, k2 = w.shape
        assert k == k2, (x.shape, w.shape)
        init = self.filled((m, o), acc_elem, 0)
        maps = ("affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, "
                "affine_map<(d0, d1, d2) -> (d0, d1)>")
        return self.emit(f"linalg.matmul indexing_maps = [{maps}] ins({x.name}, {w.name} : "
                         f"{x.type}, {w.type}) outs({init.name} : {init.type}) -> {init.type}",
                         (m, o), acc_elem)

    def matvec(self, w: Value, x: Value, acc_elem: str) -> Value:
        """[O, K] x [K] -> [O]."""
        o, k = w.shape
        init = self.filled((o,), acc_elem, 0)
        return self.emit(f"linalg.matvec ins({w.name}, {x.name} : {w.type}, {x.type}) "
                         f"outs({init.name} : {init.type}) -> {init.type}", (o,), acc_elem)

    def dense(self, x: Value, w: Value, acc_elem: str) -> Value:
        """Fully connected: x [N, K], w [O, K] -> [N, O]; matvec when N == 1."""
        n = x.shape[0]
        if n == 1:
            y = self.matvec(w, self.reshape(x, (x.shape[1],)), acc_elem)
            return self.reshape(y, (1, w.shape[0]))
        return self.matmul_wt(x, w, acc_elem)

    def im2col(self, x: Value, kh: int, kw: int, oh: int, ow: int, stride, dilation) -> Value:
        """x [N, H, W, C] (already padded) -> [N*OH*OW, KH*KW*C]."""
        n, _, _, c = x.shape
        sh, sw = stride
        dh, dw = dilation
        shape6 = (n, oh, ow, kh, kw, c)
        in_map = amap(6, ["d0", f"d1 * {sh} + d3 * {dh}", f"d2 * {sw} + d4 * {dw}", "d5"])
        cols = self.generic([(x, in_map)], shape6, x.elem, identity(6), ["parallel"] * 6,
                            lambda b, a, o: a[0])
        return self.emit(f"tensor.collapse_shape {cols.name} [[0, 1, 2], [3, 4, 5]] : "
                         f"{cols.type} into {ttype((n * oh * ow, kh * kw * c), x.elem)}",
                         (n * oh * ow, kh * kw * c), x.elem)

    def conv2d(self, x: Value, w2d: Value, kh: int, kw: int, out_hw, stride, dilation,
               acc_elem: str) -> Value:
        """x [N, Hp, Wp, C] padded, w2d [O, KH*KW*C] -> acc [N, OH, OW, O]."""
        n, h, wd, c = x.shape
        oh, ow = out_hw
        o = w2d.shape[0]
        if kh == kw == 1 and tuple(stride) == (1, 1) and (oh, ow) == (h, wd):
            cols = self.reshape(x, (n * h * wd, c))
        else:
            cols = self.im2col(x, kh, kw, oh, ow, stride, dilation)
        if cols.shape[0] == 1:
            acc = self.dense(cols, w2d, acc_elem)
        else:
            self._cur_elems = (x.elem, w2d.elem)
            acc = self.matmul_wt(cols, w2d, acc_elem)
        return self.reshape(acc, (n, oh, ow, o))

    def depthwise(self, x: Value, w2d: Value, kh: int, kw: int, mult: int, out_hw, stride,
                  dilation, acc_elem: str) -> Value:
        """x [N, Hp, Wp, C] padded, w2d [C*M, KH*KW] -> acc [N, OH, OW, C*M]."""
        n, _, _, c = x.shape
        oh, ow = out_hw
        sh, sw = stride
        dh, dw = dilation
        w4 = self.emit(f"tensor.expand_shape {w2d.name} [[0, 1], [2, 3]] output_shape "
                       f"[{c}, {mult}, {kh}, {kw}] : {w2d.type} into "
                       f"{ttype((c, mult, kh, kw), w2d.elem)}", (c, mult, kh, kw), w2d.elem)
        init = self.filled((n, oh, ow, c, mult), acc_elem, 0)
        # loops: d0 n, d1 oh, d2 ow, d3 c, d4 m, d5 kh, d6 kw
        x_map = amap(7, ["d0", f"d1 * {sh} + d5 * {dh}", f"d2 * {sw} + d6 * {dw}", "d3"])
        w_map = amap(7, ["d3", "d4", "d5", "d6"])
        o_map = amap(7, ["d0", "d1", "d2", "d3", "d4"])
        self._cur_elems = (x.elem, w2d.elem)
        acc = self.generic([(x, x_map), (w4, w_map)], (n, oh, ow, c, mult), acc_elem, o_map,
                           ["parallel"] * 5 + ["reduction"] * 2, self._mul_add(acc_elem),
                           init=init)
        return self.reshape(acc, (n, oh, ow, c * mult))

    # --- requantisation ----------------------------------------------------
    def requant_tflite(self, acc: Value, bias: np.ndarray | None, mult: np.ndarray,
                       shift: np.ndarray, zp_out: int, qmin: int, qmax: int,
                       out_elem: str = "i8", rounding: str = "double") -> Value:
        """i32 acc (channels last) -> int8: (MBQM(acc + bias) + zp) clamped."""
        n = len(acc.shape)
        ch = acc.shape[-1]
        ins = [(acc, identity(n))]
        chan = amap(n, [f"d{n - 1}"])
        per_channel = np.size(mult) > 1
        has_bias = bias is not None and np.any(bias != 0)
        if has_bias:
            ins.append((self.constant(np.asarray(bias, np.int64).astype(np.int32)
                                      .reshape(ch), "i32"), chan))
        if rounding == "single" and single_rounding_fits_i32(mult, shift):
            rounding = "single-i32"
        if per_channel:
            shift = np.asarray(shift, np.int64)
            ins.append((self.constant(np.asarray(mult, np.int64).astype(np.int32), "i32"), chan))
            if rounding == "single-i32":
                # Only the right shift: mbqm's 32-bit single rounding.
                ins.append((self.constant((-shift).astype(np.int32), "i32"), chan))
            else:
                ins.append((self.constant(np.maximum(shift, 0).astype(np.int32), "i32"), chan))
                ins.append((self.constant(np.maximum(-shift, 0).astype(np.int32), "i32"), chan))
                ins.append((self.constant((31 - shift).astype(np.int32), "i32"), chan))

        def body(b: Body, a, o):
            v = a[0]
            i = 1
            if has_bias:
                v = b.op(f"arith.addi {v}, {a[1]} : i32")
                i = 2
            if per_channel and rounding == "single-i32":
                r = b.mbqm(v, a[i], (None, a[i + 1], None), rounding)
            elif per_channel:
                r = b.mbqm(v, a[i], (a[i + 1], a[i + 2], a[i + 3]), rounding)
            else:
                r = b.mbqm(v, int(np.ravel(mult)[0]), int(np.ravel(shift)[0]), rounding)
            r = b.op(f"arith.addi {r}, {b.const(zp_out, 'i32')} : i32")
            r = b.clamp(r, qmin, qmax)
            return b.op(f"arith.trunci {r} : i32 to {out_elem}")
        return self.generic(ins, acc.shape, out_elem, identity(n), ["parallel"] * n, body)

    def requant_float(self, acc: Value, bias: np.ndarray | None, scale: np.ndarray,
                      zp_out: int, qmin: int, qmax: int, out_elem: str = "i8") -> Value:
        """ONNX-runtime style: round_half_even(float(acc + bias) * scale) + zp, saturated."""
        n = len(acc.shape)
        ch = acc.shape[-1]
        chan = amap(n, [f"d{n - 1}"])
        ins = [(acc, identity(n))]
        has_bias = bias is not None and np.any(bias != 0)
        if has_bias:
            ins.append((self.constant(np.asarray(bias).astype(np.int32).reshape(ch), "i32"), chan))
        per_channel = np.size(scale) > 1
        if per_channel:
            ins.append((self.constant(np.asarray(scale, np.float32).reshape(ch), "f32"), chan))

        def body(b: Body, a, o):
            v = a[0]
            i = 1
            if has_bias:
                v = b.op(f"arith.addi {v}, {a[1]} : i32")
                i = 2
            s = a[i] if per_channel else b.const(np.float32(np.ravel(scale)[0]), "f32")
            f = b.to_f32(v)
            f = b.op(f"arith.mulf {f}, {s} : f32")
            return b.quantize(f, zp_out, qmin, qmax, out_elem)
        return self.generic(ins, acc.shape, out_elem, identity(n), ["parallel"] * n, body)

    # --- pooling / reductions ---------------------------------------------
    def pool(self, x: Value, kh: int, kw: int, out_hw, stride, kind: str, acc_elem: str) -> Value:
        """Window reduction over a padded NHWC input: kind 'sum' or 'max'."""
        n, _, _, c = x.shape
        oh, ow = out_hw
        sh, sw = stride
        if kind == "sum":
            init = self.filled((n, oh, ow, c), acc_elem, 0)
        else:
            lo = -np.inf if acc_elem.startswith("f") else \
                {"i8": -128, "i32": -(1 << 31), "i16": -32768}[acc_elem]
            init = self.filled((n, oh, ow, c), acc_elem, lo if not acc_elem.startswith("f")
                               else np.float32(-np.inf))
        x_map = amap(6, ["d0", f"d1 * {sh} + d4", f"d2 * {sw} + d5", "d3"])
        o_map = amap(6, ["d0", "d1", "d2", "d3"])

        window = self.empty((kh, kw), "i8")  # gives the window loops their bounds

        def body(b: Body, a, o):
            v = a[0]
            if kind == "sum":
                if acc_elem.startswith("f"):
                    return b.op(f"arith.addf {o}, {v} : {acc_elem}")
                v = b.ext(v, x.elem, acc_elem)
                return b.op(f"arith.addi {o}, {v} : {acc_elem}")
            if acc_elem.startswith("f"):
                return b.op(f"arith.maximumf {o}, {v} : {acc_elem}")
            return b.op(f"arith.maxsi {o}, {v} : {acc_elem}")
        return self.generic([(x, x_map), (window, amap(6, ["d4", "d5"]))], (n, oh, ow, c),
                            acc_elem, o_map,
                            ["parallel"] * 4 + ["reduction"] * 2, body, init=init)

    def reduce(self, x: Value, axes, kind: str, acc_elem: str, keep_dims: bool) -> Value:
        """Sum or max over `axes`."""
        r = len(x.shape)
        axes = sorted(a % r for a in axes)
        kept = [i for i in range(r) if i not in axes]
        out_shape = tuple(x.shape[i] for i in kept)
        if kind == "sum":
            init = self.filled(out_shape, acc_elem, 0)
        else:
            lo = np.float32(-np.inf) if acc_elem.startswith("f") else \
                {"i8": -128, "i32": -(1 << 31)}[acc_elem]
            init = self.filled(out_shape, acc_elem, lo)
        its = ["reduction" if i in axes else "parallel" for i in range(r)]

        def body(b: Body, a, o):
            v = a[0]
            if acc_elem.startswith("f"):
                return b.op(f"arith.{'addf' if kind == 'sum' else 'maximumf'} {o}, {v} : {acc_elem}")
            v = b.ext(v, x.elem, acc_elem)
            return b.op(f"arith.{'addi' if kind == 'sum' else 'maxsi'} {o}, {v} : {acc_elem}")
        y = self.generic([(x, identity(r))], out_shape, acc_elem,
                         amap(r, [f"d{i}" for i in kept]), its, body, init=init)
        if keep_dims:
            y = self.reshape(y, tuple(1 if i in axes else x.shape[i] for i in range(r)))
        return y
