"""Run a compiled module on the host with `iree.runtime`, in process.

`iree.runtime` can share a process with the upstream `mlir` package (only
`iree.compiler` cannot), so no subprocess is needed here.
"""
from __future__ import annotations

from typing import List, Sequence

import numpy as np

from .compile import CompiledModule, IreeError

__all__ = ["run_host"]

DRIVER = "local-sync"       # one thread; deterministic and cheap to start


def run_host(mod: CompiledModule, function: str, inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
    """Call `function` of the module with numpy inputs; returns its results as numpy arrays."""
    try:
        import iree.runtime as rt
    except ImportError as e:
        raise IreeError(f"host: iree.runtime is not installed ({e}); run scripts/setup-iree.sh",
                        target="host", module=mod.name) from None
    try:
        bound = rt.load_vm_flatbuffer_file(str(mod.vmfb), driver=DRIVER)
        fn = bound[function]
        res = fn(*[np.ascontiguousarray(a) for a in inputs])
    except Exception as e:   # iree.runtime raises RuntimeError/ValueError with its status text
        raise IreeError(f"host: running @{function} of module {mod.name!r} with iree.runtime "
                        f"failed: {e}", target="host", module=mod.name) from None
    results = res if isinstance(res, (tuple, list)) else (res,)
    return [np.asarray(r.to_host() if hasattr(r, "to_host") else r) for r in results]
