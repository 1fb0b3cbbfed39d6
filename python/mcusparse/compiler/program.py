"""A compiled network's program: the model object + our harness + the inputs -> ELF -> run.

The harness (runtime/common/model_main.c) calls

    void mcusparse_model(const T *in0, ..., T *out0, ...);

once between the benchmark markers and prints the outputs as hex bytes. The
inputs are linked into the program (model_data.c, generated here), so one ELF
is built per input (cached by content under OUT/programs/).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Sequence

import numpy as np

from mcusparse.targets import qemu as _qemu
from mcusparse.targets import toolchain as _tc

C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t",
           "int64": "int64_t", "float32": "float", "bool": "uint8_t"}


class ModelRunError(RuntimeError):
    """The program printed no complete result (the message names target and model)."""


@dataclass(frozen=True)
class IoSpec:
    name: str
    shape: tuple
    dtype: str          # numpy dtype name

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def to_json(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    @staticmethod
    def from_json(d: dict) -> "IoSpec":
        return IoSpec(d["name"], tuple(d["shape"]), d["dtype"])


@dataclass
class ProgramRun:
    outputs: List[np.ndarray]
    instructions: int
    weight_bytes_read: int
    core_cycles: int            # modeled cycles at 0 wait states (-1 if not modeled)
    weight_transactions: int    # ceil(weight bytes read / 8)
    elf: Path
    blocks: list = field(default_factory=list)   # the plugin's per-block counts (qemu.Block)

    def modeled_cycles(self, wait_states: int = 4) -> int:
        if self.core_cycles < 0:
            return -1
        return self.core_cycles + int(wait_states) * self.weight_transactions


def _c_array(name: str, a: np.ndarray, const: bool) -> str:
    ctype = C_TYPES[a.dtype.name]
    raw = np.ascontiguousarray(a).view(np.uint8).ravel()
    body = ",".join(str(int(b)) for b in raw)
    qual = "const " if const else ""
    # Bytes, then reinterpreted: exact for every element type.
    return (f"static {qual}uint8_t {name}_bytes[{max(raw.size, 1)}] __attribute__((aligned(16)))"
            f" = {{{body}}};\n#define {name} (({qual}{ctype} *){name}_bytes)\n")


def data_c(inputs: Sequence[np.ndarray], outputs: Sequence[IoSpec]) -> str:
    lines = ["#include <stdint.h>\n"]
    for i, a in enumerate(inputs):
        lines.append(_c_array(f"mcs_in{i}", a, const=True))
    for i, o in enumerate(outputs):
        lines.append(f"static uint8_t mcs_out{i}[{max(o.nbytes, 1)}] __attribute__((aligned(16)));\n")
    in_t = [f"const {C_TYPES[np.dtype(a.dtype).name]} *" for a in inputs]
    out_t = [f"{C_TYPES[o.dtype]} *" for o in outputs]
    lines.append(f"void mcusparse_model({', '.join(in_t + out_t)});\n")
    args = [f"mcs_in{i}" for i in range(len(inputs))] + \
           [f"({C_TYPES[o.dtype]} *)mcs_out{i}" for i, o in enumerate(outputs)]
    lines.append(f"#define MCUSPARSE_MODEL_CALL() mcusparse_model({', '.join(args)})\n")
    outs = " ".join(f"X({i}, mcs_out{i}, {o.nbytes}UL)" for i, o in enumerate(outputs))
    lines.append(f"#define MCUSPARSE_MODEL_OUTPUTS(X) {outs}\n")
    return "".join(lines)


def check_inputs(inputs: Sequence[np.ndarray], specs: Sequence[IoSpec], model: str) -> List[np.ndarray]:
    if len(inputs) != len(specs):
        raise ValueError(f"{model}: expects {len(specs)} input(s), got {len(inputs)}")
    out = []
    for i, (a, s) in enumerate(zip(inputs, specs)):
        a = np.asarray(a)
        if tuple(a.shape) != tuple(s.shape):
            if a.size == int(np.prod(s.shape)):
                a = a.reshape(s.shape)
            else:
                raise ValueError(f"{model}: input {i} ({s.name!r}) must have shape "
                                 f"{tuple(s.shape)}, got {tuple(a.shape)}")
        if a.dtype != np.dtype(s.dtype):
            raise ValueError(f"{model}: input {i} ({s.name!r}) must be {s.dtype}, got {a.dtype}")
        out.append(np.ascontiguousarray(a))
    return out


def build(target: str, model_obj: Path, inputs: Sequence[np.ndarray], outputs: Sequence[IoSpec],
          out_dir: Path) -> Path:
    """The ELF running the model on `inputs` (cached by content)."""
    harness = _tc.runtime_root() / "common" / "model_main.c"
    config = data_c(inputs, outputs)
    h = hashlib.sha256()
    for part in (target, model_obj.read_bytes(), config.encode(), harness.read_bytes()):
        h.update(part if isinstance(part, bytes) else part.encode())
    key = h.hexdigest()[:16]
    prog = out_dir / "programs" / key
    elf = prog / "model.elf"
    if elf.is_file():
        return elf
    prog.mkdir(parents=True, exist_ok=True)
    (prog / "model_config.h").write_text(config)
    tmp = prog / "tmp" / "model.elf"
    tmp.parent.mkdir(exist_ok=True)
    _tc.build(target, [harness, model_obj], tmp, include_dirs=[prog], opt="-O2")
    tmp.rename(elf)
    return elf


def parse_outputs(text: str, outputs: Sequence[IoSpec], where: str) -> List[np.ndarray]:
    chunks, done = _qemu.hex_sections(text, "mcs-out", "mcs-done")
    if not done:
        raise ModelRunError(f"{where}: the program printed no complete result; "
                            f"output:\n{text[-2000:]}")
    res = []
    for i, o in enumerate(outputs):
        data = chunks.get(i, ([], b""))[1]
        if len(data) != o.nbytes:
            raise ModelRunError(f"{where}: output {i} has {len(data)} bytes, expected {o.nbytes}")
        res.append(np.frombuffer(data, dtype=o.dtype).reshape(o.shape).copy())
    return res


def run(target: str, elf: Path, outputs: Sequence[IoSpec], *, model: str,
        timeout: float = 300.0) -> ProgramRun:
    where = f"{target}: model {model!r}"
    res = _qemu.run(target, elf, timeout=timeout, program=f"{model} ({elf.name})")
    outs = parse_outputs(res.stdout_text, outputs, where)
    core, trans = -1, 0
    if res.instructions is not None and res.blocks:
        from mcusparse import cyclemodel
        est = cyclemodel.estimate(target, elf, res.blocks, res.weight_bytes_read or 0)
        core, trans = est.core_cycles, est.weight_transactions
    return ProgramRun(outputs=outs, instructions=int(res.instructions or 0),
                      weight_bytes_read=int(res.weight_bytes_read or 0), core_cycles=int(core),
                      weight_transactions=int(trans), elf=elf, blocks=list(res.blocks))
