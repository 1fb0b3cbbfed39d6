"""Compression report and .tflite weight reader, on models built here."""
import json

import flatbuffers
import numpy as np
import pytest
import tflite

from mcusparse import cli, prune
from mcusparse.formats import encode, report
from mcusparse.tflite_weights import read_weights

CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD = 3, 4, 9, 0
FLOAT32, INT8 = 0, 9


def build_tflite(tensors, operators) -> bytes:
    """A minimal TFLite flatbuffer.

    tensors: (name, shape, tensor type code, data bytes or None) per tensor;
    operators: (builtin operator code, input indices, output indices).
    """
    b = flatbuffers.Builder(1024)

    def vector(start, offsets):
        start(b, len(offsets))
        for offset in reversed(offsets):
            b.PrependUOffsetTRelative(offset)
        return b.EndVector()

    tflite.BufferStart(b)
    buffers = [tflite.BufferEnd(b)]  # buffer 0: the empty sentinel
    buffer_of_tensor = []
    for _, _, _, data in tensors:
        if data is None:
            buffer_of_tensor.append(0)
            continue
        payload = b.CreateNumpyVector(np.frombuffer(data, np.uint8))
        tflite.BufferStart(b)
        tflite.BufferAddData(b, payload)
        buffers.append(tflite.BufferEnd(b))
        buffer_of_tensor.append(len(buffers) - 1)

    tensor_tables = []
    for (name, shape, type_code, _), buffer_index in zip(tensors, buffer_of_tensor):
        name_offset = b.CreateString(name)
        shape_offset = b.CreateNumpyVector(np.asarray(shape, np.int32))
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape_offset)
        tflite.TensorAddType(b, type_code)
        tflite.TensorAddBuffer(b, buffer_index)
        tflite.TensorAddName(b, name_offset)
        tensor_tables.append(tflite.TensorEnd(b))

    codes = sorted({code for code, _, _ in operators})
    operator_tables = []
    for code, inputs, outputs in operators:
        inputs_offset = b.CreateNumpyVector(np.asarray(inputs, np.int32))
        outputs_offset = b.CreateNumpyVector(np.asarray(outputs, np.int32))
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, codes.index(code))
        tflite.OperatorAddInputs(b, inputs_offset)
        tflite.OperatorAddOutputs(b, outputs_offset)
        operator_tables.append(tflite.OperatorEnd(b))

    tensors_vector = vector(tflite.SubGraphStartTensorsVector, tensor_tables)
    operators_vector = vector(tflite.SubGraphStartOperatorsVector, operator_tables)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_vector)
    tflite.SubGraphAddOperators(b, operators_vector)
    subgraph = tflite.SubGraphEnd(b)

    code_tables = []
    for code in codes:
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        tflite.OperatorCodeAddVersion(b, 1)
        code_tables.append(tflite.OperatorCodeEnd(b))

    codes_vector = vector(tflite.ModelStartOperatorCodesVector, code_tables)
    subgraphs_vector = vector(tflite.ModelStartSubgraphsVector, [subgraph])
    buffers_vector = vector(tflite.ModelStartBuffersVector, buffers)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes_vector)
    tflite.ModelAddSubgraphs(b, subgraphs_vector)
    tflite.ModelAddBuffers(b, buffers_vector)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.fixture(scope="module")
def weights():
    rng = np.random.default_rng(0)
    conv = prune.magnitude(rng.integers(-128, 128, (16, 3, 3, 8)).astype(np.int8), 0.9)
    depthwise = rng.integers(-128, 128, (1, 3, 3, 16)).astype(np.int8)
    fc = prune.nm(rng.integers(-128, 128, (10, 64)).astype(np.int8), 1, 16)
    fc_float = prune.magnitude(rng.standard_normal((4, 10)).astype(np.float32), 0.5)
    return {"conv": conv, "depthwise": depthwise, "fc": fc, "fc_float": fc_float}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, weights):
    w = weights
    tensors = [
        ("input", [1, 6, 6, 8], INT8, None),                                         # 0
        ("model/conv/Conv2D", list(w["conv"].shape), INT8, w["conv"].tobytes()),     # 1
        ("conv_out", [1, 4, 4, 16], INT8, None),                                     # 2
        ("bn;model/dw/depthwise;bias", list(w["depthwise"].shape), INT8,
         w["depthwise"].tobytes()),                                                  # 3
        ("dw_out", [1, 2, 2, 16], INT8, None),                                       # 4
        ("model/fc/MatMul", list(w["fc"].shape), INT8, w["fc"].tobytes()),           # 5
        ("fc_out", [1, 10], INT8, None),                                             # 6
        ("model/fc2/MatMul", list(w["fc_float"].shape), FLOAT32,
         w["fc_float"].tobytes()),                                                   # 7
        ("fc2_out", [1, 4], FLOAT32, None),                                          # 8
        ("dynamic_weights", [4, 10], FLOAT32, None),                                 # 9
    ]
    operators = [
        (CONV_2D, [0, 1, -1], [2]),
        (DEPTHWISE_CONV_2D, [2, 3, -1], [4]),
        (FULLY_CONNECTED, [4, 5, -1], [6]),
        (FULLY_CONNECTED, [6, 7, -1], [8]),
        (FULLY_CONNECTED, [6, 5, -1], [6]),   # shares weights: reported once
        (FULLY_CONNECTED, [6, 9, -1], [8]),   # weights not constant: skipped
        (ADD, [8, 8], [8]),                   # not a weight operator
    ]
    path = tmp_path_factory.mktemp("models") / "tiny.tflite"
    path.write_bytes(build_tflite(tensors, operators))
    return path


def test_read_weights(model_path, weights):
    found = read_weights(model_path)
    assert [(t.name, t.operator, t.shape, t.dtype) for t in found] == [
        ("model/conv/Conv2D", "CONV_2D", (16, 3, 3, 8), np.int8),
        ("bn;model/dw/depthwise;bias", "DEPTHWISE_CONV_2D", (1, 3, 3, 16), np.int8),
        ("model/fc/MatMul", "FULLY_CONNECTED", (10, 64), np.int8),
        ("model/fc2/MatMul", "FULLY_CONNECTED", (4, 10), np.float32),
    ]
    for tensor, key in zip(found, ["conv", "depthwise", "fc", "fc_float"]):
        np.testing.assert_array_equal(tensor.data, weights[key])
    conv, depthwise = found[0].as_matrix(), found[1].as_matrix()
    assert conv.shape == (16, 72)
    np.testing.assert_array_equal(conv[3], weights["conv"][3].ravel())
    assert depthwise.shape == (16, 9)  # output channels are the last axis of [1, H, W, C]
    np.testing.assert_array_equal(depthwise[5], weights["depthwise"][0, :, :, 5].ravel())


def test_model_report_matches_encoders(model_path):
    result = report.model_report(model_path)
    assert [t.operator for t in result.tensors] == [
        "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "FULLY_CONNECTED"]
    tensors = {t.name: t for t in result.tensors}
    found = {t.name: t.as_matrix() for t in read_weights(model_path)}
    for name, t in tensors.items():
        W = found[name]
        assert t.nnz == np.count_nonzero(W) and t.size == W.size
        for column, fmt in t.formats.items():
            assert t.bytes[column] == encode(W, fmt).total_bytes
    fc = tensors["model/fc/MatMul"]
    assert fc.formats["nm"] == "nm:1:16"          # pruned 1:16 -> the smallest exact pattern
    assert fc.formats["dcsr"] == "dcsr:16" and fc.formats["gs"] == "gs:16"
    depthwise = tensors["bn;model/dw/depthwise;bias"]
    assert depthwise.bytes["nm"] is None            # 9 columns: no M divides them
    assert tensors["model/fc2/MatMul"].formats["dcsr"] == "dcsr:4"
    assert tensors["model/fc2/MatMul"].formats["gs"] == "gs:4"
    for column in report.FORMAT_COLUMNS:
        expected = sum(t.bytes[column] if t.bytes[column] is not None else t.bytes["dense"]
                       for t in result.tensors)
        assert result.totals[column] == expected
    assert result.fallbacks["nm"] >= 1
    assert result.totals["dense"] == sum(W.nbytes for W in found.values())


def test_smallest_nm_format():
    W = np.zeros((4, 32), np.int8)
    assert report.smallest_nm_format(W) == "nm:1:16"
    W[0, :3] = 1
    assert report.smallest_nm_format(W) == "nm:3:16"
    W[0, :4] = 1  # a full block of 4, but blocks of 8 and 16 still fit
    assert report.smallest_nm_format(W) == "nm:4:16"
    assert report.smallest_nm_format(np.ones((2, 16), np.int8)) is None
    assert report.smallest_nm_format(np.zeros((2, 6), np.int8)) is None


def test_cli_report_text_and_json(model_path, capsys):
    assert cli.main(["formats", "report", str(model_path)]) == 0
    out = capsys.readouterr().out
    assert "model/conv/Conv2D" in out or "conv/Conv2D" in out
    assert "total" in out and "Size relative to dense / to CSR" in out
    assert cli.main(["formats", "report", "--json", str(model_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["tensors"]) == 4
    assert set(data["totals"]) == set(report.FORMAT_COLUMNS)
    assert data["ratios"]["csr"]["to_csr"] == 1.0


@pytest.mark.parametrize("cut", [3, 7, 40, 0.5, -1, -16])
def test_truncated_model(model_path, tmp_path, cut, capsys):
    raw = model_path.read_bytes()
    size = int(len(raw) * cut) if isinstance(cut, float) else (cut if cut > 0 else len(raw) + cut)
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(raw[:size])
    with pytest.raises(ValueError, match="truncated|too short|not a TFLite"):
        read_weights(broken)
    assert cli.main(["formats", "report", str(broken)]) == 1
    assert "mcusparse: error:" in capsys.readouterr().err


def test_corrupt_and_missing_files(tmp_path, capsys):
    not_tflite = tmp_path / "notes.tflite"
    not_tflite.write_bytes(b"this is not a flatbuffer at all")
    with pytest.raises(ValueError, match="not a TFLite model"):
        read_weights(not_tflite)
    with pytest.raises(OSError):
        read_weights(tmp_path / "missing.tflite")
    assert cli.main(["formats", "report", str(tmp_path / "missing.tflite")]) == 1
    assert "No such file" in capsys.readouterr().err


def test_corrupt_offsets(model_path, tmp_path):
    raw = bytearray(model_path.read_bytes())
    raw[0:4] = (len(raw) + 100).to_bytes(4, "little")  # root table past the end
    bad = tmp_path / "bad_root.tflite"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_weights(bad)


def test_micro_benchmark_bits_per_nonzero(capsys):
    W = report.micro_benchmark_matrix()
    nnz = np.count_nonzero(W)
    result = report.micro_benchmark()
    csr = result["csr"]
    assert csr["index_bits_per_nonzero"] == pytest.approx((2 * nnz + 2 * 65) * 8 / nnz)
    dcsr = result["dcsr"]
    # The paper reports about 4.5 index bits per nonzero on its layers; with
    # under one full group of 16 per row here, group padding costs more.
    assert 4.0 < dcsr["index_bits_per_nonzero"] < 10.0
    assert dcsr["total_bytes"] < csr["total_bytes"]
    assert cli.main(["formats", "microbench"]) == 0
    assert "dcsr" in capsys.readouterr().out
