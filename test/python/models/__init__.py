"""Builders of small test models (TFLite flatbuffers, ONNX protobufs), made in the tests."""
import mcusparse.frontend as _frontend

if not hasattr(_frontend, "import_model"):
    # An editable install made before python/mcusparse/frontend/__init__.py existed
    # maps `mcusparse.frontend` to a namespace package; run the real __init__ in it.
    import os as _os
    _init = _os.path.join(list(_frontend.__path__)[-1], "__init__.py")
    with open(_init) as _f:
        exec(compile(_f.read(), _init, "exec"), _frontend.__dict__)
