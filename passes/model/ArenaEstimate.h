//===- ArenaEstimate.h - the arena planner's view, estimated on tensors ---===//
//
// sparse-enc-plan-arena places buffers after bufferization; passes that run
// on tensors (sparse-enc-partial-execution) decide with this estimate of
// what it will see.
//
//===----------------------------------------------------------------------===//

#ifndef MCUSPARSE_PASSES_MODEL_ARENAESTIMATE_H
#define MCUSPARSE_PASSES_MODEL_ARENAESTIMATE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

namespace mcusparse {

/// Bytes of a statically shaped tensor value (at least a byte an element).
int64_t bytesOf(mlir::Value v);

/// Bytes of v's buffer once sparse-enc-tile-accumulators{pixels} has run: a
/// layer's int32 result it tiles is one tile.
int64_t tiledBytes(mlir::Value v, int64_t pixels);

/// One buffer per tensor value that is not a constant, a function argument
/// (the caller's), a reshape (a view of its source) or a destination-style
/// result (written into its init), live from the top-level op that creates
/// it to the last one that reads it or a view of it.
class Liveness {
public:
  /// `tilePixels`: as tiledBytes.
  Liveness(mlir::func::FuncOp func, int64_t tilePixels);

  int64_t positionOf(mlir::Operation *op) const { return position.lookup(op); }
  int64_t size() const { return position.size(); }

  /// Bytes of the buffers live at position t that were created before
  /// `createdBefore`.
  int64_t bytesLiveAt(int64_t t, int64_t createdBefore = INT64_MAX) const;

  /// Whether v's buffer was created before position t.
  bool createdBefore(mlir::Value v, int64_t t) const;

private:
  struct Buffer {
    int64_t bytes, first, last;
  };
  llvm::DenseMap<mlir::Operation *, int64_t> position;
  llvm::SmallVector<Buffer> buffers;
  llvm::DenseMap<mlir::Value, int64_t> bufferOf;
};

} // namespace mcusparse

#endif // MCUSPARSE_PASSES_MODEL_ARENAESTIMATE_H
