"""mcusparse: sparse neural-network compilation for microcontrollers.

Importing the package adds the sparse_enc dialect to the registry that every
new `mlir.ir.Context` starts from, and registers the sparse-enc-* passes, so
`ir.Attribute.parse("#sparse_enc.nm<n = 2, m = 4>")` and
`PassManager.parse("builtin.module(sparse-enc-pack-constants)")` work.
"""
from mlir import ir as _ir  # loads the MLIR C API library our extension links
from mlir._mlir_libs import get_dialect_registry as _get_dialect_registry

from mcusparse import _mcusparse_ext

_mcusparse_ext.register_dialect(_get_dialect_registry())
_mcusparse_ext.register_passes()


def load_dialect(context: _ir.Context) -> None:
    """Make sparse_enc available in a context created before the import."""
    _mcusparse_ext.load_dialect(context)


def compile(model, target: str = "cortex-m55", format: str = "auto", out_dir=None, **kwargs):
    """Compile a .tflite / .onnx model for an MCU target (mcusparse.compiler.compile_model)."""
    from mcusparse.compiler import compile_model
    return compile_model(model, target, format, out_dir, **kwargs)


def run(out_dir, *inputs, **kwargs):
    """Run a compiled model on its target's emulator (mcusparse.compiler.run)."""
    from mcusparse.compiler import run as _run
    return _run(out_dir, *inputs, **kwargs)


def __getattr__(name):
    # `import mcusparse; mcusparse.kernels.spmv(...)` without importing the
    # targets layer on every `import mcusparse`.
    if name == "kernels":
        import importlib
        return importlib.import_module("mcusparse.kernels")
    raise AttributeError(f"module 'mcusparse' has no attribute {name!r}")


__all__ = ["load_dialect", "compile", "run"]
