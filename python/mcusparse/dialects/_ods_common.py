"""What the generated op classes import, taken from the upstream package.

mlir-tblgen's Python op bindings import `._ods_common` relative to their own
package; ours live in mcusparse.dialects, so this module forwards to mlir's.
"""
from mlir.dialects._ods_common import (  # noqa: F401
    _cext,
    equally_sized_accessor,
    get_default_loc_context,
    get_op_result_or_op_results,
    get_op_result_or_value,
    get_op_results_or_values,
    segmented_accessor,
)
