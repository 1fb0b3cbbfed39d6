"""LiteRT's reference kernels (BUILTIN_REF) on a .tflite file, for the tests."""
from ai_edge_litert import interpreter as litert


def reference(path, preserve=False):
    """An allocated interpreter; `preserve` keeps every intermediate tensor."""
    it = litert.Interpreter(str(path),
                            experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
                            experimental_preserve_all_tensors=preserve)
    it.allocate_tensors()
    return it
