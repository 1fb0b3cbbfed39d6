//===- SparseEncOps.h - sparse_enc operations ------------------------------===//

#ifndef MCUSPARSE_DIALECT_SPARSEENCOPS_H
#define MCUSPARSE_DIALECT_SPARSEENCOPS_H

#include "dialect/SparseEncDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/SparseEncOps.h.inc"

#endif // MCUSPARSE_DIALECT_SPARSEENCOPS_H
