"""mcusparse.pipeline runs our C++ passes from Python."""
import pytest
from mlir import ir
from mlir.passmanager import PassManager

from mcusparse import pipeline

CSR_CONSTANT = """
func.func @f() -> tensor<2x4xi8, #sparse_enc.csr<>> {
  %w = arith.constant dense<[[0, 3, 0, 0], [0, 0, -2, 0]]> : tensor<2x4xi8, #sparse_enc.csr<>>
  return %w : tensor<2x4xi8, #sparse_enc.csr<>>
}
"""


def test_pass_manager_parses_our_pass():
    with ir.Context():
        module = ir.Module.parse(CSR_CONSTANT)
        PassManager.parse(
            "builtin.module(sparse-enc-pack-constants, canonicalize)"
        ).run(module.operation)
        assert "sparse_enc.assemble" in str(module)


def test_named_pipeline_packs_constants():
    module = pipeline.run(CSR_CONSTANT, "pack")
    text = str(module)
    assert "dense<[3, -2]> : tensor<2xi8>" in text
    assert "dense<[1, 2]> : tensor<2xi16>" in text
    assert "dense<[0, 1, 2]> : tensor<3xi16>" in text


def test_unknown_pipeline_is_a_clear_error():
    with pytest.raises(pipeline.PipelineError, match="unknown pipeline 'nope'"):
        pipeline.run(CSR_CONSTANT, "nope")


def test_malformed_input_is_a_clear_error():
    with pytest.raises(pipeline.PipelineError, match="Unable to parse"):
        pipeline.run("func.func @f(", "pack")


def test_register_custom_pipeline():
    pipeline.register("just-canonicalize", "builtin.module(canonicalize)")
    module = pipeline.run(CSR_CONSTANT, "just-canonicalize")
    assert "sparse_enc.assemble" not in str(module)
