//===- SparseEncDialect.cpp - sparse_enc dialect registration -------------===//

#include "dialect/SparseEncDialect.h"
#include "dialect/SparseEncOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mcusparse::sparse_enc;

#include "dialect/SparseEncDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/SparseEncAttrs.cpp.inc"

void SparseEncDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/SparseEncAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialect/SparseEncOps.cpp.inc"
      >();
}
