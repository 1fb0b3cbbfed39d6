"""Whole networks: compile a TFLite / ONNX model for a target and run it on the emulator.

    import mcusparse
    cm = mcusparse.compile("model.tflite", target="cortex-m55", format="auto", out_dir="out/")
    res = mcusparse.run("out/", x)              # or cm.run(x)
    res.outputs, res.instructions, res.weight_bytes_read, res.modeled_cycles(4)
    cm.report                                   # what report.json holds

Stages (each written to OUT/):

1. `00-imported.mlir`: the front end's module (mcusparse.frontend): tensors,
   linalg, weights as constants, each layer's weight tagged `mcusparse.layer`.
2. `01-layouts.mlir`: the chosen layout of every layer as a `sparse_enc.layout`
   attribute on its weight constant (compiler/layouts.py: one format for all,
   or `auto`), the entry point renamed `@mcusparse_model`.
3. `02-llvm.mlir`: after `sparse-enc-model-to-llvm{target=...}` (C++, see
   docs/model-passes.md): layouts attached and packed, convolutions as one
   matvec per output pixel, every matvec lowered for its layout and the
   target, buffers bufferized into one activation arena planned at compile
   time (`mcusparse.arena_bytes`), constants in the `.weights` section.
4. `model.ll` (mlir-translate), `model.o` (the target's LLVM route),
   `model.h` (the C entry point), `report.json` (per layer: format, bytes,
   MACs; totals: flash, peak SRAM; each source operator's lines in
   01-layouts.mlir).

model.o carries a DWARF line table whose lines are those of
01-layouts.mlir (the MLIR locations, kept through the lowering); it changes
no code (tested) and no flash byte (debug sections are not loaded), and it is
how `mcusparse.compiler.profile` charges executed instructions to operators.

`run` links model.o with runtime/common/model_main.c and the input (one ELF
per input, cached) and runs it on the target's emulator with the counting
plugin.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np

from mcusparse.compiler import program as _program
from mcusparse.compiler.layouts import LayerChoice, choose_layouts
from mcusparse.compiler.program import IoSpec, ModelRunError, ProgramRun

__all__ = ["compile_model", "load", "run", "CompiledModel", "CompileError", "ModelRunError",
           "ProgramRun", "MODEL_TARGETS"]

MODEL_TARGETS = ("cortex-m55", "rv32imc", "rv32gcv")
ENTRY = "mcusparse_model"


class CompileError(RuntimeError):
    """A stage of the model compilation failed (the message names the stage)."""


def _iospecs(specs) -> List[IoSpec]:
    return [IoSpec(s.name, tuple(int(d) for d in s.shape), np.dtype(s.dtype).name) for s in specs]


def _buffers_attr(buffers) -> str:
    """`sparse_enc.buffers = {name = dense<"0x..."> : tensor<NxT>, ...}` (hex: compact)."""
    from mcusparse.kernels import _MLIR_TYPES
    items = []
    for name, a in buffers.items():
        data = f'"0x{a.tobytes().hex().upper()}"' if a.size else ""
        items.append(f"{name} = dense<{data}> : tensor<{a.size}x{_MLIR_TYPES[a.dtype]}>")
    return "sparse_enc.buffers = {" + ", ".join(items) + "}"


def with_layouts(mlir: str, choices: Sequence[LayerChoice]) -> str:
    """The imported module with each chosen layout on its weight constant (a dense
    layer that reads its weights once: `sparse_enc.weights_once`), @main renamed."""
    for c in choices:
        tag = f"{{mcusparse.layer = {c.index} : i64}}"
        if c.encoding is None:
            if c.weights_once:
                if mlir.count(tag) != 1:
                    raise CompileError(f"layer {c.index} ({c.name!r}): its weight constant is "
                                       f"not tagged once in the imported module")
                mlir = mlir.replace(tag, f"{{mcusparse.layer = {c.index} : i64, "
                                         "sparse_enc.weights_once}")
            continue
        if mlir.count(tag) != 1:
            raise CompileError(f"layer {c.index} ({c.name!r}): its weight constant is not "
                               f"tagged once in the imported module ({mlir.count(tag)} times)")
        buffers = "" if c.buffers is None else f", {_buffers_attr(c.buffers)}"
        mlir = mlir.replace(tag, f"{{mcusparse.layer = {c.index} : i64, "
                                 f"sparse_enc.layout = {c.encoding}{buffers}}}")
    renamed, n = re.subn(r"func\.func @main\(", f"func.func @{ENTRY}(", mlir, count=1)
    if n != 1:
        raise CompileError("the imported module has no func.func @main")
    return renamed


# Memory of the boards the targets run on (runtime/*/ *.ld): what each
# compiled model's weights and activation arena must fit, and where they go.
_REGIONS = {
    # mps3-an547: weights alone in SRAM2; an arena up to 384 KiB in the DTCM
    # (512 KiB, shared with .data and the 32 KiB stack), larger ones in the
    # 2 MiB SRAM (sparse-enc-place-weights{arena-section=.sram_bss}).
    "cortex-m55": {"weights": ("SRAM2 0x21000000", 4 << 20),
                   "arena_fast": ("DTCM 0x20000000 (.bss)", 384 << 10),
                   "arena": ("SRAM 0x01000000 (.sram_bss)", 2 << 20)},
    "rv32imc": {"weights": ("RAM 0x80000000 (.weights)", 48 << 20),
                "arena": ("RAM 0x80000000 (.bss)", 12 << 20)},
    "rv32gcv": {"weights": ("RAM 0x80000000 (.weights)", 48 << 20),
                "arena": ("RAM 0x80000000 (.bss)", 12 << 20)},
}


def placement(target: str, weight_bytes: int, arena_bytes: int) -> dict:
    """Where weights and arena go on the target's board; CompileError if they do not fit."""
    r = _REGIONS[target]
    wname, wsize = r["weights"]
    if weight_bytes > wsize:
        raise CompileError(f"{target}: the weights take {weight_bytes:,} bytes, more than "
                           f"{wname} holds ({wsize:,})")
    fast = r.get("arena_fast")
    if fast and arena_bytes <= fast[1]:
        aname = fast[0]
    else:
        aname, asize = r["arena"]
        if arena_bytes > asize:
            raise CompileError(f"{target}: the activation arena needs {arena_bytes:,} bytes, "
                               f"more than {aname} holds ({asize:,})")
    return {"weights": wname, "arena": aname}


def _section_bytes(obj: Path) -> dict:
    """Section sizes of an object file (llvm-size -A)."""
    from mcusparse.targets.toolchain import llvm_tool
    out = subprocess.run([llvm_tool("llvm-size"), "-A", str(obj)], capture_output=True,
                         text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        # Debug sections (the line table) are not loaded: not flash.
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit() and \
                not parts[0].startswith(".debug"):
            sizes[parts[0]] = sizes.get(parts[0], 0) + int(parts[1])
    return sizes


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass
class CompiledModel:
    out_dir: Path
    target: str
    report: dict

    @property
    def inputs(self) -> List[IoSpec]:
        return [IoSpec.from_json(d) for d in self.report["inputs"]]

    @property
    def outputs(self) -> List[IoSpec]:
        return [IoSpec.from_json(d) for d in self.report["outputs"]]

    @property
    def object(self) -> Path:
        return self.out_dir / "model.o"

    def run(self, *inputs: np.ndarray, timeout: float = 300.0) -> ProgramRun:
        name = self.report.get("model", "model")
        ins = _program.check_inputs(inputs, self.inputs, name)
        elf = _program.build(self.target, self.object, ins, self.outputs, self.out_dir)
        return _program.run(self.target, elf, self.outputs, model=name, timeout=timeout)


def load(out_dir: Union[str, os.PathLike]) -> CompiledModel:
    """A model compiled earlier into `out_dir` (reads report.json)."""
    out = Path(out_dir)
    rep = out / "report.json"
    if not rep.is_file() or not (out / "model.o").is_file():
        raise OSError(f"{out}: no compiled model (report.json and model.o; run "
                      "`mcusparse compile MODEL -o DIR` first)")
    report = json.loads(rep.read_text())
    return CompiledModel(out, report["target"], report)


def run(out_dir: Union[str, os.PathLike], *inputs: np.ndarray, timeout: float = 300.0) -> ProgramRun:
    """Run a compiled model (see `compile_model`) on its target's emulator."""
    return load(out_dir).run(*inputs, timeout=timeout)


def compile_model(model_path: Union[str, os.PathLike], target: str = "cortex-m55",
                  format: str = "auto", out_dir: Union[str, os.PathLike, None] = None, *,
                  wait_states: int = 4, pex_peak_bytes: int = 0, tile_pixels: int = 0,
                  dense_weights_once: bool = False, progress: bool = True,
                  log=None) -> CompiledModel:
    """Compile a .tflite / .onnx model for `target` into `out_dir` (see the module docstring).

    format: "auto" (per layer, measured) or one format for every sparse-capable layer
            ("dense", "csr", "csr:8", "dcsr", "nm:N:M", "gs:V").
    pex_peak_bytes: partial execution (docs/model-passes.md): operator chains whose
            estimated peak is above this many bytes run in channel slices; 0: off.
    tile_pixels: layers' int32 results and their requantisation in tiles of at most this
            many pixels (docs/model-passes.md); 0: whole.
    dense_weights_once: on cortex-m55 each dense convolution of 32 or more columns
            takes, of the register-blocked kernel and the one that reads every weight
            once (rows, or chunks of 96 columns, held in registers while the pixels
            pass; more instructions), the one with fewer measured modeled cycles at
            `wait_states` (docs/kernels.md). For weights behind wait states.
    The output directory is written only when every stage succeeded (built in a
    temporary directory next to it, then moved into place)."""
    from mcusparse.frontend import import_model

    say = log or (lambda msg: None)
    if target not in MODEL_TARGETS:
        raise ValueError(f"unknown model target {target!r}; known: {', '.join(MODEL_TARGETS)}")
    if pex_peak_bytes < 0:
        raise ValueError(f"pex_peak_bytes must be 0 (off) or a positive byte count, "
                         f"got {pex_peak_bytes}")
    if tile_pixels < 0:
        raise ValueError(f"tile_pixels must be 0 (whole) or a positive pixel count, "
                         f"got {tile_pixels}")
    if dense_weights_once and target != "cortex-m55":
        raise ValueError(f"dense_weights_once chooses between two dense kernels on "
                         f"cortex-m55 only, not {target} (rv32gcv's dense layers always "
                         f"read each weight once; rv32imc has no such kernel)")
    model_path = Path(model_path)
    out = Path(out_dir) if out_dir is not None else Path("build") / "models" / \
        f"{model_path.stem}-{target}-{format.replace(':', '_')}"
    _check_output(out)
    say(f"importing {model_path}")
    imported = import_model(model_path)
    say(f"choosing layouts for {len(imported.layers)} layers ({format})")
    choices = choose_layouts(imported, target, format, wait_states=wait_states,
                             progress=progress, dense_weights_once=dense_weights_once)
    text = with_layouts(imported.mlir, choices)

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write(work / "00-imported.mlir", imported.mlir)
        _write(work / "01-layouts.mlir", text)
        say(f"lowering with {model_pipeline(target, pex_peak_bytes, tile_pixels)}")
        # The dense kernels are chosen per layer (sparse_enc.weights_once).
        llvm_text = lower_to_object(text, target, work, model_path.name,
                                    pex_peak_bytes=pex_peak_bytes, tile_pixels=tile_pixels)
        m = re.search(r"mcusparse\.arena_bytes = (\d+)", llvm_text)
        arena = int(m.group(1)) if m else 0
        # The buffers live together at the arena's peak (sparse-enc-plan-arena).
        m = re.search(r"mcusparse\.arena_peak = \[([^\]]*)\]", llvm_text)
        peak = [{"type": t.rsplit(" ", 1)[0], "bytes": int(t.rsplit(" ", 1)[1])}
                for t in re.findall(r'"([^"]*)"', m.group(1))] if m else []
        sections = _section_bytes(work / "model.o")
        where = placement(target, sum(v for k, v in sections.items()
                                      if k.startswith(".weights")), arena)
        inputs, outputs = _iospecs(imported.inputs), _iospecs(imported.outputs)
        _write(work / "model.h", _header(imported, inputs, outputs, target))
        report = _report(model_path, imported, target, format, choices, sections, arena,
                         inputs, outputs, wait_states)
        report["placement"] = where
        report["totals"]["arena_peak"] = peak
        report["pex_peak_bytes"] = pex_peak_bytes
        report["tile_pixels"] = tile_pixels
        report["dense_weights_once"] = dense_weights_once
        _write(work / "report.json", json.dumps(report, indent=1) + "\n")
        if out.exists():
            _check_output(out)
            shutil.rmtree(out)
        os.replace(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    say(f"wrote {out}/ (model.o, model.h, report.json, stage MLIR)")
    return CompiledModel(out, target, report)


def _check_output(out: Path) -> None:
    """Only an absent path, an empty directory or an earlier compiled-model
    directory may become the output (checked before the work and again
    before the output is replaced)."""
    if out.exists() and not out.is_dir():
        raise CompileError(f"{out} exists and is not a directory (the output is a directory: "
                           "model.o, model.h, report.json); not overwriting it")
    if out.is_dir() and not (out / "report.json").exists() and any(out.iterdir()):
        raise CompileError(f"{out} exists and is not a compiled-model directory; "
                           "not overwriting it")


def model_pipeline(target: str, pex_peak_bytes: int = 0, tile_pixels: int = 0,
                   dense_weights_once: bool = False) -> str:
    """The sparse-enc-model-to-llvm invocation for `target` (passes/Pipelines.cpp)."""
    pex = f" pex-peak-bytes={pex_peak_bytes}" if pex_peak_bytes else ""
    tile = f" tile-pixels={tile_pixels}" if tile_pixels else ""
    once = " dense-weights-once" if dense_weights_once else ""
    return f"sparse-enc-model-to-llvm{{target={target}{pex}{tile}{once}}}"


# A line table only (no variables or types): the MLIR locations of the
# module text become the object's DWARF lines.
LINE_TABLES = "ensure-debug-info-scope-on-llvm-func{emission-kind=LineTablesOnly}"


def lower_to_object(text: str, target: str, work: Path, name: str, *,
                    pex_peak_bytes: int = 0, tile_pixels: int = 0,
                    line_tables: bool = True, dense_weights_once: bool = False) -> str:
    """Model MLIR (01-layouts form) -> work/02-llvm.mlir, model.ll, model.o; returns the
    llvm-dialect text. line_tables: model.o maps its code to the lines of `text`."""
    from mcusparse import pipeline
    from mcusparse.kernels import _mlir_translate
    from mcusparse.targets import get_target
    from mcusparse.targets import toolchain as _tc
    passes = model_pipeline(target, pex_peak_bytes, tile_pixels, dense_weights_once)
    if line_tables:
        passes += "," + LINE_TABLES
    try:
        llvm_mod = pipeline.run(text, f"builtin.module({passes})")
    except pipeline.PipelineError as err:
        raise CompileError(f"{name}: lowering for {target} failed:\n{err}") from None
    llvm_text = str(llvm_mod)
    _write(work / "02-llvm.mlir", llvm_text)
    # mlir-translate reads the module with its locations (the stage file
    # above stays readable without them).
    located = llvm_mod.operation.get_asm(enable_debug_info=True) if line_tables else llvm_text
    proc = subprocess.run([_mlir_translate(), "--mlir-to-llvmir", "-", "-o",
                           str(work / "model.ll")], input=located, capture_output=True,
                          text=True)
    if proc.returncode:
        raise CompileError(f"{name}: mlir-translate failed:\n{proc.stderr[-3000:]}")
    t = get_target(target)
    for cmd in _tc.ir_commands(t, work / "model.ll", work / "model.o", tmpdir=work):
        _tc._run(cmd, f"{target}: compiling {name}")
    for f in work.glob("*.opt.bc"):
        f.unlink()
    return llvm_text


def _header(imported, inputs: List[IoSpec], outputs: List[IoSpec], target: str) -> str:
    from mcusparse.compiler.program import C_TYPES
    params = [f"const {C_TYPES[s.dtype]} *MCUSPARSE_RESTRICT in{i} /* {s.name}: {'x'.join(map(str, s.shape))} */"
              for i, s in enumerate(inputs)]
    params += [f"{C_TYPES[s.dtype]} *MCUSPARSE_RESTRICT out{i} /* {s.name}: {'x'.join(map(str, s.shape))} */"
               for i, s in enumerate(outputs)]
    guard = "MCUSPARSE_MODEL_H"
    return (f"/* Generated by mcusparse for {target} from {Path(imported.source).name or 'a model'}. */\n"
            f"#ifndef {guard}\n#define {guard}\n#include <stdint.h>\n\n"
            "#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L\n"
            "#define MCUSPARSE_RESTRICT restrict\n#else\n"
            "#define MCUSPARSE_RESTRICT __restrict /* C++ and C89: the compilers' spelling */\n"
            "#endif\n\n"
            "/* Runs one inference. Inputs and outputs are dense, row-major, in the model's\n"
            "   layout; activations live in the statically planned arena `mcusparse_arena`\n"
            "   and weights in the `.weights` section. Inputs and outputs must not overlap\n"
            "   each other or the arena (the model is compiled with that assumption). Not\n"
            "   reentrant. */\n"
            f"void {ENTRY}(\n    " + ",\n    ".join(params) + ");\n\n#endif\n")


def _report(model_path: Path, imported, target: str, fmt: str, choices: Sequence[LayerChoice],
            sections: dict, arena: int, inputs, outputs, wait_states: int) -> dict:
    weights = sum(v for k, v in sections.items() if k.startswith(".weights"))
    text = sum(v for k, v in sections.items() if k.startswith(".text"))
    rodata = sum(v for k, v in sections.items() if k.startswith(".rodata"))
    io = sum(s.nbytes for s in inputs) + sum(s.nbytes for s in outputs)
    # Zero-initialised data besides the arena: the CSE-CSR kernels' u buffers.
    scratch = max(0, sum(v for k, v in sections.items()
                         if k.startswith((".bss", ".sram_bss"))) - arena)
    layers = []
    for c, l in zip(choices, imported.layers):
        layers.append({"index": c.index, "operator": int(l.index), "name": c.name,
                       "op": c.op, "format": c.format,
                       **({"weights_once": True} if c.weights_once else {}),
                       "matrix_shape": list(l.matrix_shape), "sparsity": round(l.sparsity, 4),
                       "macs": int(l.macs), "dense_bytes": c.dense_bytes,
                       "bytes": c.weight_bytes, "pixels": c.pixels, "reason": c.reason,
                       **({"costs": c.costs} if c.costs else {})})
    return {
        "model": model_path.name, "source": str(model_path), "target": target,
        "format": fmt, "wait_states": wait_states,
        "inputs": [s.to_json() for s in inputs], "outputs": [s.to_json() for s in outputs],
        "layers": layers,
        "operators": [o.to_json() for o in imported.operators],
        "totals": {
            "macs": int(sum(l.macs for l in imported.layers)),
            "layer_weight_bytes": int(sum(c.weight_bytes for c in choices)),
            "weights_section_bytes": int(weights),
            "text_bytes": int(text), "rodata_bytes": int(rodata),
            "flash_bytes": int(weights + text + rodata),
            "arena_bytes": int(arena), "io_bytes": int(io), "scratch_bytes": int(scratch),
            "peak_sram_bytes": int(arena + io + scratch),
        },
    }
