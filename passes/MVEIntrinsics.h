//===- MVEIntrinsics.h - Arm MVE intrinsics as llvm.call_intrinsic -*- C++ -*-===//
//
// MVE operations that generic vector IR does not reach, built as
// `llvm.call_intrinsic` ops (shared by the kernel lowerings and the model
// passes).
//
//===----------------------------------------------------------------------===//

#ifndef MCUSPARSE_PASSES_MVEINTRINSICS_H
#define MCUSPARSE_PASSES_MVEINTRINSICS_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mcusparse {

/// llvm.arm.mve.vmull(a, b, unsigned = 0, top): the signed widened products
/// of the even (`top` false: `vmullb`) or odd (`vmullt`) lanes of a and b,
/// of type `result` (vector<16xi8> -> vector<8xi16>, vector<8xi16> ->
/// vector<4xi32>). Exact: the lanes double in width.
inline mlir::Value mveVmull(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Type result, mlir::Value a, mlir::Value c,
                            bool top) {
  auto flag = [&](int32_t v) {
    return mlir::LLVM::ConstantOp::create(b, loc, b.getI32Type(),
                                          b.getI32IntegerAttr(v))
        .getResult();
  };
  return mlir::LLVM::CallIntrinsicOp::create(
             b, loc, result, b.getStringAttr("llvm.arm.mve.vmull"),
             mlir::ValueRange{a, c, flag(0), flag(top)})
      .getResult(0);
}

/// llvm.arm.mve.vldr.gather.offset: lanes of bytes at base + offsets[l]
/// (offsets unsigned), of type `result`: vector<16xi8> with 8-bit offsets
/// (`vldrb.u8`) or vector<8xi16> with 16-bit ones, sign-extended
/// (`vldrb.s16`). Unlike a generic gather, LLVM cannot fold the base into
/// the offsets.
inline mlir::Value mveGatherBytes(mlir::OpBuilder &b, mlir::Location loc,
                                  mlir::Type result, mlir::Value base,
                                  mlir::Value offsets) {
  auto flag = [&](int32_t v) {
    return mlir::LLVM::ConstantOp::create(b, loc, b.getI32Type(),
                                          b.getI32IntegerAttr(v))
        .getResult();
  };
  bool widened = mlir::cast<mlir::VectorType>(result).getNumElements() == 8;
  return mlir::LLVM::CallIntrinsicOp::create(
             b, loc, result, b.getStringAttr("llvm.arm.mve.vldr.gather.offset"),
             mlir::ValueRange{base, offsets, flag(8), flag(0),
                              flag(widened ? 0 : 1)})
      .getResult(0);
}

} // namespace mcusparse

#endif // MCUSPARSE_PASSES_MVEINTRINSICS_H
