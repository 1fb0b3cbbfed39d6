//===- PlanArena.cpp - every activation buffer in one static arena --------===//
//
// After bufferization each intermediate tensor is a memref.alloc. A
// microcontroller has no heap to spare, so the pass gives every alloc of a
// function a fixed offset in one statically sized global, `mcusparse_arena`:
// two buffers share bytes only when their live ranges (first op to last use
// of the buffer or of any view of it, at the granularity of the function's
// top-level ops) do not overlap. Offsets are assigned largest buffer first,
// each at the lowest 16-byte aligned offset that is free over its live
// range. The arena's size is recorded as `mcusparse.arena_bytes` on the
// module. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/SetVector.h"

#include "llvm/Support/Debug.h"
#include <random>

#define DEBUG_TYPE "sparse-enc-plan-arena"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCPLANARENA
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

constexpr int64_t kAlign = 16;
/// Swaps the planner's local search tries at most (about a second for a few
/// hundred buffers).
constexpr int kSearchSteps = 2000;

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0;
  int64_t first = 0, last = 0; // live range, in top-level op positions
  int64_t offset = -1;
  llvm::SetVector<Operation *> deallocs;
};

int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

/// First fit in `order`: each buffer at the lowest aligned offset where it
/// overlaps no placed buffer whose live range meets its own. Returns the
/// arena's end and each buffer's offset (indexed like `buffers`).
int64_t placeAll(ArrayRef<Buffer> buffers, ArrayRef<unsigned> order,
                 SmallVectorImpl<int64_t> &offsets) {
  offsets.assign(buffers.size(), -1);
  int64_t end = 0;
  SmallVector<std::pair<int64_t, int64_t>> busy; // [begin, end)
  for (unsigned i : order) {
    const Buffer &buf = buffers[i];
    busy.clear();
    for (auto [j, other] : llvm::enumerate(buffers))
      if (offsets[j] >= 0 && other.first <= buf.last && buf.first <= other.last)
        busy.push_back({offsets[j], offsets[j] + other.bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [begin, busyEnd] : busy) {
      if (offset + buf.bytes <= begin)
        break;
      offset = std::max(offset, alignUp(busyEnd));
    }
    offsets[i] = offset;
    end = std::max(end, offset + buf.bytes);
  }
  return end;
}

/// The position where the most bytes are live (a buffer's first position,
/// the earliest on ties), and those bytes; `aligned` rounds each buffer up
/// to the arena's alignment.
std::pair<int64_t, int64_t> busiestPosition(ArrayRef<Buffer> buffers,
                                            bool aligned) {
  std::pair<int64_t, int64_t> best = {0, 0};
  for (const Buffer &b : buffers) {
    int64_t live = 0;
    for (const Buffer &other : buffers)
      if (other.first <= b.first && b.first <= other.last)
        live += aligned ? alignUp(other.bytes) : other.bytes;
    if (live > best.second)
      best = {b.first, live};
  }
  return best;
}

/// Offsets for every buffer. No arena can be smaller than the most bytes
/// live at one position; first fit in order of size (largest first) often
/// leaves gaps above that, so a local search swaps two buffers of the
/// order at a time (deterministic: a fixed seed) and keeps each swap that
/// does not grow the arena, until the bound is met or the swaps run out.
int64_t placeBuffers(MutableArrayRef<Buffer> buffers) {
  int64_t bound = busiestPosition(buffers, /*aligned=*/true).second;
  auto indices = llvm::seq<unsigned>(0, buffers.size());
  SmallVector<unsigned> order(indices.begin(), indices.end());
  llvm::stable_sort(order, [&](unsigned a, unsigned b) {
    return buffers[a].bytes > buffers[b].bytes;
  });
  SmallVector<int64_t> offsets, best;
  int64_t arenaBytes = placeAll(buffers, order, best);
  std::mt19937 rng(0);
  for (int step = 0;
       step < kSearchSteps && arenaBytes > bound && buffers.size() > 1;
       ++step) {
    unsigned i = rng() % order.size(), j = rng() % order.size();
    std::swap(order[i], order[j]);
    int64_t bytes = placeAll(buffers, order, offsets);
    if (bytes <= arenaBytes)
      arenaBytes = bytes, best.swap(offsets);
    else
      std::swap(order[i], order[j]);
  }
  for (auto [buf, offset] : llvm::zip(buffers, best))
    buf.offset = offset;
  return arenaBytes;
}

struct PlanArenaPass
    : public mcusparse::impl::SparseEncPlanArenaBase<PlanArenaPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    int64_t total = 0, largest = -1;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      SmallVector<Attribute> peak;
      FailureOr<int64_t> bytes = plan(func, symbols, peak);
      if (failed(bytes))
        return signalPassFailure();
      total += *bytes;
      if (*bytes > largest) {
        largest = *bytes;
        module->setAttr(mcusparse::kArenaPeakAttr,
                        ArrayAttr::get(&getContext(), peak));
      }
    }
    module->setAttr(
        mcusparse::kArenaBytesAttr,
        IntegerAttr::get(IntegerType::get(&getContext(), 64), total));
  }

  /// A public function's buffer arguments (the model's inputs and
  /// outputs, model.h's `restrict` pointers) overlap neither each other nor
  /// the arena: `llvm.noalias`, so that LLVM may keep values loaded from one
  /// in registers across stores to another. Without it, once an output was
  /// written in place rather than copied out of an arena buffer, the
  /// register-blocked dense kernel reloaded its operands after every store
  /// (a 64x64 layer over 125 pixels: 61,223 -> 66,030 instructions).
  static void markBuffersDistinct(func::FuncOp func) {
    if (!func.isPublic())
      return;
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      if (isa<MemRefType>(func.getArgument(i).getType()))
        func.setArgAttr(i, "llvm.noalias", UnitAttr::get(func.getContext()));
  }

  /// The buffers live together where the most bytes are, largest first, as
  /// "<type> <bytes>" strings (for the compile report).
  static SmallVector<Attribute> peakBuffers(ArrayRef<Buffer> buffers,
                                            MLIRContext *ctx) {
    int64_t bestAt = busiestPosition(buffers, /*aligned=*/false).first;
    SmallVector<const Buffer *> live;
    for (const Buffer &b : buffers)
      if (b.first <= bestAt && bestAt <= b.last)
        live.push_back(&b);
    llvm::stable_sort(live, [](const Buffer *a, const Buffer *b) {
      return a->bytes > b->bytes;
    });
    SmallVector<Attribute> out;
    for (const Buffer *b : live) {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << memref::AllocOp(b->alloc).getType() << " " << b->bytes;
      out.push_back(StringAttr::get(ctx, text));
    }
    return out;
  }

  FailureOr<int64_t> plan(func::FuncOp func, SymbolTable &symbols,
                          SmallVectorImpl<Attribute> &peak) {
    if (!func.getBody().hasOneBlock())
      return func.emitOpError("sparse-enc-plan-arena expects structured "
                              "control flow (one block per function)");
    Block &body = func.getBody().front();
    markBuffersDistinct(func);
    DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(body))
      position[&op] = i;
    auto positionOf = [&](Operation *op) {
      return position.lookup(body.findAncestorOpInBlock(*op));
    };

    SmallVector<Buffer> buffers;
    WalkResult walk = func.walk([&](memref::AllocOp alloc) -> WalkResult {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity())
        return alloc.emitOpError("sparse-enc-plan-arena needs a static shape "
                                 "and identity layout, got ")
               << type;
      Buffer buf;
      buf.alloc = alloc;
      // Bytes per element as the target lays it out (index: 4 or 8; i1: 1).
      int64_t elemBytes =
          std::max<int64_t>(1, DataLayout::closest(alloc)
                                   .getTypeSize(type.getElementType())
                                   .getFixedValue());
      buf.bytes = std::max<int64_t>(type.getNumElements() * elemBytes, 1);
      buf.first = buf.last = positionOf(alloc);
      // Follow every value that may alias the buffer: results of memref
      // type of any op using it (views, casts, loops carrying it), and
      // everything computed from a raw address of it.
      SmallVector<Value> worklist = {alloc.getResult()};
      DenseSet<Value> seen(worklist.begin(), worklist.end());
      while (!worklist.empty()) {
        Value v = worklist.pop_back_val();
        for (OpOperand &use : v.getUses()) {
          Operation *user = use.getOwner();
          if (isa<memref::DeallocOp>(user)) {
            buf.deallocs.insert(user);
            continue;
          }
          if (isa<scf::YieldOp>(user)) {
            Operation *parent = user->getParentOp();
            if (isa<LoopLikeOpInterface>(parent) && parent->isAncestor(alloc))
              return alloc.emitOpError(
                  "a buffer allocated inside a loop is carried to the next "
                  "iteration; sparse-enc-plan-arena cannot give it one fixed "
                  "place");
            // Yielded out of a region (scf.if, scf.for): the parent's
            // results may be this buffer.
            buf.last = std::max(buf.last, positionOf(parent));
            for (Value r : parent->getResults())
              if ((isa<BaseMemRefType>(r.getType()) ||
                   !isa<BaseMemRefType>(v.getType())) &&
                  seen.insert(r).second)
                worklist.push_back(r);
            continue;
          }
          if (isa<func::ReturnOp>(user))
            return alloc.emitOpError("a buffer is returned from the "
                                     "function (run "
                                     "buffer-results-to-out-params first)");
          buf.last = std::max(buf.last, positionOf(user));
          // A raw address of the buffer (the kernels that walk their
          // operands with pointers, passes/lower/Pointers.cpp): every value
          // computed from it may still read the buffer, whatever its type.
          bool raw = isa<memref::ExtractAlignedPointerAsIndexOp>(user) ||
                     !isa<BaseMemRefType>(v.getType());
          for (Value r : user->getResults())
            if ((raw || isa<BaseMemRefType>(r.getType())) &&
                seen.insert(r).second)
              worklist.push_back(r);
        }
      }
      buffers.push_back(std::move(buf));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    if (buffers.empty())
      return 0;

    int64_t arenaBytes = placeBuffers(buffers);
    arenaBytes = alignUp(arenaBytes);
    peak.append(peakBuffers(buffers, func.getContext()));
    LLVM_DEBUG({
      for (Buffer &buf : buffers)
        llvm::dbgs() << "buffer [" << buf.offset << ", "
                     << buf.offset + buf.bytes << ") live " << buf.first << ".."
                     << buf.last << ": " << buf.alloc.getType() << " at "
                     << buf.alloc.getLoc() << "\n";
    });

    MLIRContext *ctx = func.getContext();
    auto arenaType = MemRefType::get({arenaBytes}, IntegerType::get(ctx, 8));
    OpBuilder moduleBuilder(func);
    auto global = memref::GlobalOp::create(
        moduleBuilder, func.getLoc(), mcusparse::kArenaName,
        moduleBuilder.getStringAttr("private"), arenaType, UnitAttr::get(ctx),
        /*constant=*/false, moduleBuilder.getI64IntegerAttr(kAlign));
    symbols.insert(global);
    OpBuilder b = OpBuilder::atBlockBegin(&body);
    Value arena = memref::GetGlobalOp::create(b, func.getLoc(), arenaType,
                                              global.getSymName());
    for (Buffer &buf : buffers) {
      OpBuilder ab(buf.alloc);
      Value offset =
          arith::ConstantIndexOp::create(ab, buf.alloc.getLoc(), buf.offset);
      Value view =
          memref::ViewOp::create(ab, buf.alloc.getLoc(), buf.alloc.getType(),
                                 arena, offset, ValueRange{});
      buf.alloc.getResult().replaceAllUsesWith(view);
      for (Operation *dealloc : buf.deallocs)
        dealloc->erase();
      buf.alloc.erase();
    }
    return arenaBytes;
  }
};

} // namespace
