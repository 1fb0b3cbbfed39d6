//===- SparseEncDialect.h - the sparse_enc dialect and its encodings ------===//

#ifndef MCUSPARSE_DIALECT_SPARSEENCDIALECT_H
#define MCUSPARSE_DIALECT_SPARSEENCDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/TensorEncoding.h"

#include "dialect/SparseEncDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/SparseEncAttrs.h.inc"

#endif // MCUSPARSE_DIALECT_SPARSEENCDIALECT_H
