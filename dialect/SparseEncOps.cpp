//===- SparseEncOps.cpp - verifiers and folders of sparse_enc ops ---------===//

#include "dialect/SparseEncOps.h"
#include "dialect/StorageLayout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mcusparse::sparse_enc;

#define GET_OP_CLASSES
#include "dialect/SparseEncOps.cpp.inc"

//===----------------------------------------------------------------------===//
// AssembleOp
//===----------------------------------------------------------------------===//

LogicalResult AssembleOp::verify() {
  auto type = getResult().getType();
  if (!hasSparseEncoding(type))
    return emitOpError("result type must carry a #sparse_enc encoding, got ")
           << type;
  SmallVector<StorageBuffer> layout = getStorageBuffers(type);
  if (layout.size() != getBuffers().size())
    return emitOpError("#sparse_enc.")
           << getFormatName(type.getEncoding()) << " expects "
           << layout.size() << " storage buffers, got " << getBuffers().size();
  for (auto [index, expected, buffer] :
       llvm::enumerate(layout, getBuffers())) {
    Type got = cast<RankedTensorType>(buffer.getType()).getElementType();
    if (got != expected.elementType)
      return emitOpError("buffer #")
             << index << " ('" << expected.name << "') must have element type "
             << expected.elementType << ", got " << got;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// BufferOp
//===----------------------------------------------------------------------===//

/// Index of buffer `name` in the layout of `type`, or -1.
static int64_t findBuffer(RankedTensorType type, StringRef name) {
  for (auto [index, buffer] : llvm::enumerate(getStorageBuffers(type)))
    if (buffer.name == name)
      return index;
  return -1;
}

LogicalResult BufferOp::verify() {
  auto type = getTensor().getType();
  if (!hasSparseEncoding(type))
    return emitOpError("operand type must carry a #sparse_enc encoding, got ")
           << type;
  int64_t index = findBuffer(type, getName());
  if (index < 0) {
    auto diag = emitOpError("#sparse_enc.")
                << getFormatName(type.getEncoding()) << " has no buffer '"
                << getName() << "'; its buffers are:";
    for (const StorageBuffer &buffer : getStorageBuffers(type))
      diag << " '" << buffer.name << "'";
    return diag;
  }
  Type expected = getStorageBuffers(type)[index].elementType;
  if (getResult().getType().getElementType() != expected)
    return emitOpError("buffer '")
           << getName() << "' has element type " << expected << ", got "
           << getResult().getType().getElementType();
  return success();
}

OpFoldResult BufferOp::fold(FoldAdaptor) {
  // buffer(assemble(b0, b1, ...)) -> bi, when the types agree exactly.
  auto assemble = getTensor().getDefiningOp<AssembleOp>();
  if (!assemble)
    return {};
  Value buffer =
      assemble.getBuffers()[findBuffer(getTensor().getType(), getName())];
  if (buffer.getType() != getType())
    return {};
  return buffer;
}
