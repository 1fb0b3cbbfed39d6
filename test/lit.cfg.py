# lit configuration for the mcusparse FileCheck tests.
#
# Tools come from the project's virtual environment: sparse-opt (installed by
# `make build`) and FileCheck/not/count from the pinned LLVM wheel. Run through
# `make test` or `.venv/bin/lit test/`.
import os
import shutil
import sysconfig

import lit.formats

config.name = "mcusparse"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["python", "lit.cfg.py"]

site_packages = sysconfig.get_paths()["purelib"]
tool_dirs = [
    sysconfig.get_paths()["scripts"],  # .venv/bin: sparse-opt
    os.path.join(site_packages, "llvm", "bin"),  # FileCheck, not, count
    os.path.join(site_packages, "mlir", "bin"),  # mlir-opt, mlir-translate
]
config.environment["PATH"] = os.pathsep.join(
    [os.path.abspath(d) for d in tool_dirs] + [config.environment.get("PATH", "")])

for tool in ["sparse-opt", "FileCheck", "not", "count"]:
    if not shutil.which(tool, path=config.environment["PATH"]):
        lit_config.fatal(f"{tool} not found; run `make build` first")
