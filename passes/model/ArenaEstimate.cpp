//===- ArenaEstimate.cpp - the arena planner's view, estimated on tensors -===//

#include "passes/model/ArenaEstimate.h"

#include "passes/model/Accumulators.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

using namespace mlir;
using namespace mcusparse;

int64_t mcusparse::bytesOf(Value v) {
  auto type = cast<ShapedType>(v.getType());
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

int64_t mcusparse::tiledBytes(Value v, int64_t pixels) {
  auto layer = v.getDefiningOp<linalg::LinalgOp>();
  if (pixels <= 0 || !layer)
    return bytesOf(v);
  std::optional<Accumulator> acc = findAccumulator(layer);
  if (!acc)
    return bytesOf(v);
  auto [axis, tile] = accumulatorTile(*acc, pixels);
  return bytesOf(v) / cast<RankedTensorType>(v.getType()).getDimSize(axis) *
         tile;
}

Liveness::Liveness(func::FuncOp func, int64_t tilePixels) {
  Block &body = func.getBody().front();
  for (auto [i, op] : llvm::enumerate(body)) {
    position[&op] = i;
    op.walk([&](Operation *nested) {
      for (Value operand : nested->getOperands())
        if (auto it = bufferOf.find(operand); it != bufferOf.end())
          buffers[it->second].last = i;
    });
    for (OpResult result : op.getResults()) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (!type || !type.hasStaticShape() || matchPattern(result, m_Constant()))
        continue;
      Value source;
      bool isView = isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op);
      if (isView)
        source = op.getOperand(0);
      else if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
        source = dps.getTiedOpOperand(result)->get();
      if (auto it = bufferOf.find(source); source && it != bufferOf.end()) {
        int64_t index = it->second;
        bufferOf[result] = index;
        // A tiled layer result: its init's buffer is one tile.
        buffers[index].bytes =
            std::min(buffers[index].bytes, tiledBytes(result, tilePixels));
        continue;
      }
      if (isView) // of a constant or an argument
        continue;
      bufferOf[result] = buffers.size();
      buffers.push_back(
          {bytesOf(result), static_cast<int64_t>(i), static_cast<int64_t>(i)});
    }
  }
}

int64_t Liveness::bytesLiveAt(int64_t t, int64_t createdBefore) const {
  int64_t bytes = 0;
  for (const Buffer &b : buffers)
    if (b.first <= t && t <= b.last && b.first < createdBefore)
      bytes += b.bytes;
  return bytes;
}

bool Liveness::createdBefore(Value v, int64_t t) const {
  auto it = bufferOf.find(v);
  return it != bufferOf.end() && buffers[it->second].first < t;
}
