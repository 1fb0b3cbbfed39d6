"""Run a compiled module on aarch64: the aarch64 iree-base-runtime wheel's
`iree-run-module` under `qemu-aarch64 -L /usr/aarch64-linux-gnu`.

scripts/setup-iree.sh downloads the wheel (same version as the host runtime)
and unpacks the tool to build/iree-aarch64/bin/iree-run-module. Inputs and
results travel as .npy files (`--input=@x.npy`, `--output=@y.npy`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import List, Sequence

import numpy as np

from mcusparse.targets import toolchain as _tc

from .compile import SETUP_HINT, CompiledModule, IreeError

__all__ = ["run_aarch64", "run_module_path", "qemu_aarch64_command"]

SYSROOT = "/usr/aarch64-linux-gnu"


def run_module_path() -> Path:
    env = os.environ.get("MCUSPARSE_IREE_AARCH64_RUN_MODULE")
    return Path(env) if env else _tc.build_root() / "iree-aarch64" / "bin" / "iree-run-module"


def qemu_aarch64_command() -> List[str]:
    qemu = shutil.which("qemu-aarch64")
    if qemu is None:
        raise IreeError(f"aarch64: qemu-aarch64 not found: {SETUP_HINT}", target="aarch64")
    if not Path(SYSROOT, "lib", "ld-linux-aarch64.so.1").exists():
        raise IreeError(f"aarch64: the arm64 C library ({SYSROOT}) is missing: {SETUP_HINT}",
                        target="aarch64")
    tool = run_module_path()
    if not tool.is_file():
        raise IreeError(f"aarch64: {tool} not found: {SETUP_HINT}", target="aarch64")
    return [qemu, "-L", SYSROOT, str(tool)]


def run_aarch64(mod: CompiledModule, function: str, inputs: Sequence[np.ndarray], *,
                num_outputs: int = 1, timeout: float = 60.0) -> List[np.ndarray]:
    """Run `function` under qemu-aarch64; returns the results (read from .npy files)."""
    prefix = qemu_aarch64_command()
    with tempfile.TemporaryDirectory(prefix="mcusparse-iree-a64-") as tmp:
        t = Path(tmp)
        cmd = [*prefix, "--device=local-sync", f"--module={mod.vmfb}", f"--function={function}"]
        for i, a in enumerate(inputs):
            np.save(t / f"in{i}.npy", np.ascontiguousarray(a))
            cmd.append(f"--input=@{t / f'in{i}.npy'}")
        cmd += [f"--output=@{t / f'out{i}.npy'}" for i in range(num_outputs)]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise IreeError(f"aarch64: iree-run-module timed out after {timeout:.0f} s running "
                            f"@{function} of module {mod.name!r}", target="aarch64",
                            module=mod.name, output=str(e.output or ""), command=cmd) from None
        if proc.returncode != 0:
            what = "crashed (signal %d)" % -proc.returncode if proc.returncode < 0 \
                else f"failed (exit {proc.returncode})"
            raise IreeError(f"aarch64: iree-run-module {what} running @{function} of module "
                            f"{mod.name!r} under qemu-aarch64:\n$ {' '.join(cmd)}\n"
                            f"{proc.stdout[-3000:]}", target="aarch64", module=mod.name,
                            output=proc.stdout, command=cmd)
        outs = []
        for i in range(num_outputs):
            path = t / f"out{i}.npy"
            if not path.is_file():
                raise IreeError(f"aarch64: iree-run-module wrote no result {i} for @{function} "
                                f"of module {mod.name!r}:\n{proc.stdout[-2000:]}",
                                target="aarch64", module=mod.name, output=proc.stdout,
                                command=cmd)
            outs.append(np.load(path))
        return outs
