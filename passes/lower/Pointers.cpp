//===- Pointers.cpp - raw pointers into read-only storage buffers ---------===//
//
// The cortex-m55 dCSR kernels walk their buffers with `!llvm.ptr` values
// that the loops carry. LLVM keeps a loop-carried pointer in one register
// and post-increments it; base + index needs a register per base as well,
// and with 14 GPRs those bases were spilled and reloaded every row.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mcusparse::lower;

Type Pointers::type() const { return LLVM::LLVMPointerType::get(e.b.getContext()); }

Value Pointers::to(Value tensor) {
  auto t = cast<RankedTensorType>(tensor.getType());
  Value buffer = bufferization::ToBufferOp::create(
      e.b, MemRefType::get(t.getShape(), t.getElementType()), tensor,
      /*read_only=*/true);
  Value address = arith::IndexCastOp::create(
      e.b, e.b.getI32Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(e.b, buffer));
  return LLVM::IntToPtrOp::create(e.b, type(), ValueRange{address});
}

Value Pointers::advance(Value ptr, Type elem, Value count) {
  if (count.getType().isIndex())
    count = arith::IndexCastOp::create(e.b, e.b.getI32Type(), count);
  return LLVM::GEPOp::create(e.b, type(), elem, ptr, ValueRange{count});
}

Value Pointers::advanceBytes(Value ptr, int64_t bytes) {
  Value address = LLVM::PtrToIntOp::create(e.b, e.b.getI32Type(), ptr);
  Value step = arith::ConstantIntOp::create(e.b, e.b.getI32Type(), bytes);
  return LLVM::IntToPtrOp::create(
      e.b, type(), ValueRange{arith::AddIOp::create(e.b, address, step)});
}

Value Pointers::load(Type elem, Value ptr) {
  return LLVM::LoadOp::create(e.b, elem, ptr, /*alignment=*/1);
}

Value Pointers::read(VectorType vtype, Value ptr, Value mask, bool undefTail) {
  if (!mask)
    return LLVM::LoadOp::create(e.b, vtype, ptr, /*alignment=*/1);
  Value passThrough = undefTail ? e.poison(vtype) : e.zero(vtype);
  return LLVM::MaskedLoadOp::create(e.b, vtype, ptr, mask, passThrough,
                                    e.b.getI32IntegerAttr(1));
}

Value Pointers::gather(VectorType vtype, Value ptr, Value offsets, Value mask,
                       Value passThrough) {
  auto lanes = VectorType::get(vtype.getShape(), type());
  Value at = LLVM::GEPOp::create(e.b, lanes, vtype.getElementType(), ptr,
                                 ValueRange{offsets});
  return LLVM::masked_gather::create(
      e.b, vtype, at, mask,
      ValueRange{passThrough ? passThrough : e.zero(vtype)},
      e.b.getI32IntegerAttr(1));
}
