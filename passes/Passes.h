//===- Passes.h - sparse_enc passes ----------------------------------------===//

#ifndef MCUSPARSE_PASSES_PASSES_H
#define MCUSPARSE_PASSES_PASSES_H

#include "dialect/SparseEncDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mcusparse {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mcusparse

#endif // MCUSPARSE_PASSES_PASSES_H
