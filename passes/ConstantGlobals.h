//===- ConstantGlobals.h - the constant table a memref reads ---*- C++ -*-===//
//
// Model passes that specialise on constant data (per-channel requantisation
// shifts, depthwise weights) find it by following a memref back to the
// `memref.global` it came from: through reshapes to a `memref.get_global`
// of a constant global with integer contents.
//
//===----------------------------------------------------------------------===//

#ifndef MCUSPARSE_PASSES_CONSTANTGLOBALS_H
#define MCUSPARSE_PASSES_CONSTANTGLOBALS_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace mcusparse {

/// The constant integer global that `memref` reads (through expand_shape /
/// collapse_shape), or null.
inline mlir::memref::GlobalOp constantIntGlobal(mlir::Value memref) {
  using namespace mlir;
  while (Operation *op = memref.getDefiningOp()) {
    if (auto expand = dyn_cast<memref::ExpandShapeOp>(op))
      memref = expand.getSrc();
    else if (auto collapse = dyn_cast<memref::CollapseShapeOp>(op))
      memref = collapse.getSrc();
    else
      break;
  }
  auto get = memref.getDefiningOp<memref::GetGlobalOp>();
  auto global = get ? SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
                          get, get.getNameAttr())
                    : nullptr;
  if (!global || !global.getConstant() ||
      !isa_and_nonnull<DenseIntElementsAttr>(global.getInitialValueAttr()))
    return nullptr;
  return global;
}

} // namespace mcusparse

#endif // MCUSPARSE_PASSES_CONSTANTGLOBALS_H
