//===- VectorizeElementwise.cpp - elementwise linalg.generic as vector loops ===//
//
// The requantisation after every layer (and the other elementwise steps of
// a network) is a parallel linalg.generic whose body is plain 32-bit integer
// or f32 arithmetic. Lowered to scalar loops it costs ~25 instructions per
// element, more than the matrix kernels it follows; LLVM's loop vectoriser
// declines it. This pass writes each such generic (on memrefs, after
// bufferization) as loops over its outer dimensions around a vector loop
// over the innermost one: `lanes` elements per step, a lane mask on the tail,
// operands that do not vary along the innermost dimension (per-tensor
// scalars, per-row values) broadcast, and every body op cloned on vectors.
// See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/LoopAnnotations.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCVECTORIZEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

bool isScalarType(Type t) {
  if (auto i = dyn_cast<IntegerType>(t))
    return i.getWidth() <= 32;
  return t.isF32();
}

bool hasUnitInnerStride(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && (type.getRank() == 0 || type.isLastDimUnitStride());
}

/// The innermost loop dimension appears in `map` only as its last result.
bool walksInnermost(AffineMap map, unsigned inner) {
  for (unsigned r = 0; r < map.getNumResults(); ++r)
    if (map.getDimPosition(r) == inner)
      return r + 1 == map.getNumResults();
  return false;
}

bool usesDim(AffineMap map, unsigned dim) {
  for (unsigned r = 0; r < map.getNumResults(); ++r)
    if (map.getDimPosition(r) == dim)
      return true;
  return false;
}

/// A memref input indexed by the innermost dimension alone (one value per
/// channel, the same at every pixel).
bool hasPerChannelOperand(linalg::GenericOp op, unsigned inner) {
  for (OpOperand *operand : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    if (isa<MemRefType>(operand->get().getType()) && map.getNumResults() == 1 &&
        map.getDimPosition(0) == inner)
      return true;
  }
  return false;
}

struct VectorizeElementwisePass
    : public mcusparse::impl::SparseEncVectorizeElementwiseBase<
          VectorizeElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    if (lanes < 2) {
      getOperation().emitError("sparse-enc-vectorize-elementwise: lanes must be >= 2");
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> ops;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isCandidate(op))
        ops.push_back(op);
    });
    for (linalg::GenericOp op : ops)
      rewrite(op);
  }

  bool isCandidate(linalg::GenericOp op) {
    unsigned n = op.getNumLoops();
    if (!op.hasPureBufferSemantics() || n == 0 ||
        op.getNumParallelLoops() != n || op.getNumDpsInits() != 1)
      return false;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic) || ranges.back() < 2)
      return false;
    unsigned inner = n - 1;
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap map = op.getMatchingIndexingMap(&operand);
      bool isInit = op.isDpsInit(&operand);
      if (isInit && !map.isIdentity())
        return false;
      if (!isa<MemRefType>(operand.get().getType())) {
        if (isInit || !isScalarType(operand.get().getType()))
          return false;
        continue;
      }
      if (!map.isProjectedPermutation() ||
          !isScalarType(getElementTypeOrSelf(operand.get().getType())))
        return false;
      if (usesDim(map, inner) &&
          (!walksInnermost(map, inner) || !hasUnitInnerStride(operand.get())))
        return false;
    }
    for (Operation &bodyOp : op.getBody()->without_terminator()) {
      if (bodyOp.getNumRegions() ||
          !isa<arith::ArithDialect, math::MathDialect>(bodyOp.getDialect()))
        return false;
      for (Type t : llvm::concat<Type>(bodyOp.getOperandTypes(),
                                       bodyOp.getResultTypes()))
        if (!isScalarType(t) && !t.isInteger(1))
          return false;
    }
    return true;
  }

  void rewrite(linalg::GenericOp op) {
    Location loc = op.getLoc();
    OpBuilder b(op);
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    unsigned n = ranges.size(), inner = n - 1;
    int64_t size = ranges.back(), width = lanes;
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);

    // Loops over the outer dimensions around the vector loop over the
    // innermost one; with per-channel operands (only the innermost
    // dimension: a requantisation's bias, multipliers and shifts) the vector
    // loop goes outside instead, so that their loads are invariant in the
    // loops over pixels and LLVM hoists them (a requantisation on MVE: 16
    // -> about 12 instructions per four outputs; DS-CNN S 935,546 -> 857,911
    // instructions).
    bool channelsOutside = inner > 0 && hasPerChannelOperand(op, inner);
    SmallVector<Value> ivs(n);
    Value ub = arith::ConstantIndexOp::create(b, loc, size);
    Value step = arith::ConstantIndexOp::create(b, loc, width);
    Value mask;
    auto vectorLoop = [&]() {
      auto loop = scf::ForOp::create(b, loc, c0, ub, step);
      b.setInsertionPointToStart(loop.getBody());
      ivs[inner] = loop.getInductionVar();
      // Lane mask when the innermost size is not a multiple of the width.
      if (size % width) {
        Value left = arith::SubIOp::create(b, loc, ub, ivs[inner]);
        mask = vector::CreateMaskOp::create(
            b, loc, VectorType::get({width}, b.getI1Type()), ValueRange{left});
      }
    };
    if (channelsOutside)
      vectorLoop();
    for (unsigned d = 0; d < inner; ++d) {
      Value outerUb = arith::ConstantIndexOp::create(b, loc, ranges[d]);
      auto loop = scf::ForOp::create(b, loc, c0, outerUb, c1);
      // Pixels further apart than MVE's post-increment reaches (508 bytes
      // of i32 accumulators): unrolled, every pixel needs its own pointer,
      // which LLVM spills (DS-CNN M, 172 channels: 8.21M instructions
      // unrolled, 7.87M not). Closer ones gain from the unroll (DS-CNN S,
      // 64 channels: 857,911 against 877,402).
      if (channelsOutside && size * 4 > 508)
        mcusparse::disableUnroll(loop);
      b.setInsertionPointToStart(loop.getBody());
      ivs[d] = loop.getInductionVar();
    }
    if (!channelsOutside)
      vectorLoop();
    auto indicesOf = [&](AffineMap map) {
      SmallVector<Value> idx;
      for (unsigned r = 0; r < map.getNumResults(); ++r)
        idx.push_back(ivs[map.getDimPosition(r)]);
      return idx;
    };
    auto vectorOf = [&](Type t) { return VectorType::get({width}, t); };

    IRMapping mapping;
    Block *body = op.getBody();
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = body->getArgument(operand.getOperandNumber());
      if (arg.use_empty())
        continue;
      Value v = operand.get();
      VectorType vt = vectorOf(arg.getType());
      Value loaded;
      if (!isa<MemRefType>(v.getType())) {
        loaded = vector::BroadcastOp::create(b, loc, vt, v);
      } else {
        AffineMap map = op.getMatchingIndexingMap(&operand);
        SmallVector<Value> idx = indicesOf(map);
        if (!usesDim(map, inner)) {
          Value s = memref::LoadOp::create(b, loc, v, idx);
          loaded = vector::BroadcastOp::create(b, loc, vt, s);
        } else if (mask) {
          Value pass = arith::ConstantOp::create(
              b, loc, vt, DenseElementsAttr::get(vt, b.getZeroAttr(arg.getType())));
          loaded = vector::MaskedLoadOp::create(b, loc, vt, v, idx, mask, pass);
        } else {
          loaded = vector::LoadOp::create(b, loc, vt, v, idx);
        }
      }
      mapping.map(arg, loaded);
    }

    for (Operation &bodyOp : body->without_terminator()) {
      if (auto cst = dyn_cast<arith::ConstantOp>(bodyOp)) {
        VectorType vt = vectorOf(cst.getType());
        mapping.map(cst.getResult(),
                    arith::ConstantOp::create(
                        b, loc, vt, DenseElementsAttr::get(vt, cst.getValue())));
        continue;
      }
      OperationState state(bodyOp.getLoc(), bodyOp.getName());
      for (Value operand : bodyOp.getOperands()) {
        // A scalar captured from outside the body: the same in every lane.
        if (!mapping.contains(operand))
          mapping.map(operand, vector::BroadcastOp::create(
                                   b, loc, vectorOf(operand.getType()), operand));
        state.addOperands(mapping.lookup(operand));
      }
      for (Type t : bodyOp.getResultTypes())
        state.addTypes(vectorOf(t));
      state.addAttributes(bodyOp.getAttrs());
      Operation *vectorOp = b.create(state);
      mapping.map(bodyOp.getResults(), vectorOp->getResults());
    }

    Value yielded = body->getTerminator()->getOperand(0);
    if (!mapping.contains(yielded))
      mapping.map(yielded, vector::BroadcastOp::create(
                               b, loc, vectorOf(yielded.getType()), yielded));
    Value result = mapping.lookup(yielded);
    Value out = op.getDpsInits()[0];
    SmallVector<Value> idx = indicesOf(op.getMatchingIndexingMap(op.getDpsInitOperand(0)));
    if (mask)
      vector::MaskedStoreOp::create(b, loc, out, idx, mask, result);
    else
      vector::StoreOp::create(b, loc, result, out, idx);
    op.erase();
  }
};

} // namespace
