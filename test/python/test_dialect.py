"""The sparse_enc dialect from Python: typed encodings, op builders."""
import pytest
from mlir import ir

import mcusparse
from mcusparse.dialects import sparse_enc


@pytest.fixture
def ctx():
    with ir.Context() as context, ir.Location.unknown():
        yield context


@pytest.mark.parametrize("text, cls, props", [
    ("#sparse_enc.nm<n = 2, m = 4>", sparse_enc.NMAttr, {"n": 2, "m": 4}),
    ("#sparse_enc.nm<n = 1, m = 16>", sparse_enc.NMAttr, {"n": 1, "m": 16}),
    ("#sparse_enc.csr<>", sparse_enc.CSRAttr, {"crd_bits": 16, "pos_bits": 16}),
    ("#sparse_enc.csr<crd_bits = 8>", sparse_enc.CSRAttr, {"crd_bits": 8}),
    ("#sparse_enc.dcsr<group = 8>", sparse_enc.DCSRAttr, {"group": 8}),
    ("#sparse_enc.dcsr<>", sparse_enc.DCSRAttr, {"group": 16, "delta_bits": 4}),
    ("#sparse_enc.dcsr<delta_bits = 8>", sparse_enc.DCSRAttr, {"group": 16, "delta_bits": 8}),
    ("#sparse_enc.gs<lanes = 4>", sparse_enc.GSAttr, {"lanes": 4}),
])
def test_parse_returns_typed_attribute(ctx, text, cls, props):
    attr = ir.Attribute.parse(text)
    assert isinstance(attr, cls)
    for name, value in props.items():
        assert getattr(attr, name) == value
    # Printing and parsing again gives the same (uniqued) attribute.
    assert ir.Attribute.parse(str(attr)) == attr


def test_get_builds_attributes(ctx):
    assert str(sparse_enc.NMAttr.get(1, 8)) == "#sparse_enc.nm<n = 1, m = 8>"
    assert sparse_enc.CSRAttr.get(crd_bits=8).crd_bits == 8
    assert sparse_enc.DCSRAttr.get().group == 16
    assert str(sparse_enc.DCSRAttr.get(delta_bits=8)) == "#sparse_enc.dcsr<delta_bits = 8>"
    assert sparse_enc.GSAttr.get(lanes=8).lanes == 8


@pytest.mark.parametrize("build, message", [
    (lambda: sparse_enc.NMAttr.get(4, 4), "n must satisfy 1 <= n < m"),
    (lambda: sparse_enc.NMAttr.get(1, 6), "m must be 4, 8 or 16"),
    (lambda: sparse_enc.DCSRAttr.get(group=32), "group must be 4, 8 or 16"),
    (lambda: sparse_enc.DCSRAttr.get(delta_bits=2), "delta_bits must be 4 .* or 8"),
    (lambda: sparse_enc.CSRAttr.get(crd_bits=12), "crd_bits must be 8, 16 or 32"),
    (lambda: sparse_enc.GSAttr.get(lanes=3), "lanes must be 4, 8 or 16"),
])
def test_get_rejects_bad_parameters(ctx, build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_parse_rejects_bad_parameters(ctx):
    with pytest.raises(ir.MLIRError, match="n must satisfy 1 <= n < m"):
        ir.Attribute.parse("#sparse_enc.nm<n = 5, m = 4>")


def test_shape_checked_by_encoding(ctx):
    enc = sparse_enc.NMAttr.get(1, 8)
    ok = ir.RankedTensorType.get([4, 16], ir.IntegerType.get_signless(8), enc)
    assert ok.encoding == enc
    with pytest.raises(ir.MLIRError, match="not a multiple of m = 8"):
        ir.Type.parse("tensor<4x12xi8, #sparse_enc.nm<n = 1, m = 8>>")


def test_build_ops_from_python(ctx):
    i8, i16 = (ir.IntegerType.get_signless(w) for w in (8, 16))
    enc = sparse_enc.CSRAttr.get()
    weight_type = ir.RankedTensorType.get([4, 8], i8, enc)
    module = ir.Module.create()
    with ir.InsertionPoint(module.body):
        from mlir.dialects import func

        buffer_types = [ir.RankedTensorType.get([6], i8),
                        ir.RankedTensorType.get([6], i16),
                        ir.RankedTensorType.get([5], i16)]

        @func.FuncOp.from_py_func(*buffer_types)
        def assemble_then_read(values, col_idx, row_ptr):
            w = sparse_enc.assemble(weight_type, [values, col_idx, row_ptr])
            return sparse_enc.buffer(buffer_types[1], w, "col_idx")

    assert module.operation.verify()
    text = str(module)
    assert "sparse_enc.assemble" in text and 'sparse_enc.buffer' in text


def test_op_verifier_from_python(ctx):
    with pytest.raises(ir.MLIRError, match="expects 3 storage buffers, got 1"):
        ir.Module.parse("""
          func.func @f(%v: tensor<6xi8>) {
            %w = sparse_enc.assemble (%v) : (tensor<6xi8>) -> tensor<4x8xi8, #sparse_enc.csr<>>
            return
          }""")


def test_context_created_before_import_can_load():
    # Contexts made after `import mcusparse` have the dialect; load_dialect
    # covers one made some other way.
    with ir.Context() as context:
        mcusparse.load_dialect(context)
        assert isinstance(ir.Attribute.parse("#sparse_enc.gs<>"), sparse_enc.GSAttr)
