//===- LowerStridedCopies.cpp - strided memref.copy as linalg.copy --------===//
//
// convert-to-llvm lowers a memref.copy between contiguous buffers to
// llvm.memcpy, but any other copy (into a padded interior, out of a strided
// view) to a call of `memrefCopy` from MLIR's C runner library, which a
// bare-metal image does not have. Those copies become linalg.copy, which
// convert-linalg-to-loops turns into plain loops. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCLOWERSTRIDEDCOPIES
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

bool isContiguous(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getLayout().isIdentity();
}

struct LowerStridedCopiesPass
    : public mcusparse::impl::SparseEncLowerStridedCopiesBase<
          LowerStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) {
      if (!isContiguous(op.getSource()) || !isContiguous(op.getTarget()))
        copies.push_back(op);
    });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }
};

} // namespace
