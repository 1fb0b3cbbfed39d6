//===- SparseEncAttrs.cpp - parameter and shape checks of the encodings ---===//
//
// Two levels of checking: `verify` rejects bad parameters whenever an
// attribute is built or parsed; `verifyEncoding` rejects tensor types whose
// shape or element type does not fit the layout.
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncDialect.h"

using namespace mlir;
using namespace mcusparse::sparse_enc;

namespace {
using EmitErrorFn = llvm::function_ref<InFlightDiagnostic()>;

bool isOneOf(int64_t value, std::initializer_list<int64_t> allowed) {
  return llvm::is_contained(allowed, value);
}

/// Shared by every encoding: the weights are a matrix of integers or floats.
LogicalResult verifyMatrix(StringRef format, ArrayRef<int64_t> shape,
                           Type elementType, EmitErrorFn emitError) {
  if (shape.size() != 2)
    return emitError() << "#sparse_enc." << format
                       << " expects a rank-2 tensor (rows x columns), got rank "
                       << shape.size();
  if (!elementType.isSignlessInteger(8) && !elementType.isSignlessInteger(16) &&
      !elementType.isSignlessInteger(32) && !elementType.isF32())
    return emitError() << "#sparse_enc." << format
                       << " expects i8, i16, i32 or f32 elements, got "
                       << elementType;
  return success();
}

/// Row pointers are 16 or 32 bits wide (csr, cse_csr).
LogicalResult verifyPosBits(EmitErrorFn emitError, int64_t posBits) {
  if (!isOneOf(posBits, {16, 32}))
    return emitError() << "pos_bits must be 16 or 32, got " << posBits;
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// csr
//===----------------------------------------------------------------------===//

LogicalResult CSRAttr::verify(EmitErrorFn emitError, int64_t crdBits,
                              int64_t posBits) {
  if (!isOneOf(crdBits, {8, 16, 32}))
    return emitError() << "crd_bits must be 8, 16 or 32, got " << crdBits;
  return verifyPosBits(emitError, posBits);
}

LogicalResult CSRAttr::verifyEncoding(ArrayRef<int64_t> shape, Type elementType,
                                      EmitErrorFn emitError) const {
  if (failed(verifyMatrix("csr", shape, elementType, emitError)))
    return failure();
  int64_t cols = shape[1];
  if (!ShapedType::isDynamic(cols) && getCrdBits() < 32 &&
      cols > (int64_t(1) << getCrdBits()))
    return emitError() << "crd_bits = " << getCrdBits() << " cannot index "
                       << cols << " columns";
  return success();
}

//===----------------------------------------------------------------------===//
// dcsr
//===----------------------------------------------------------------------===//

LogicalResult DCSRAttr::verify(EmitErrorFn emitError, int64_t group,
                               int64_t deltaBits) {
  if (!isOneOf(group, {4, 8, 16}))
    return emitError() << "group must be 4, 8 or 16 (SIMD lanes for 32-, 16- "
                          "or 8-bit elements), got "
                       << group;
  if (!isOneOf(deltaBits, {4, 8}))
    return emitError() << "delta_bits must be 4 (nibbles and extension masks) "
                          "or 8 (bytes), got "
                       << deltaBits;
  return success();
}

LogicalResult DCSRAttr::verifyEncoding(ArrayRef<int64_t> shape,
                                       Type elementType,
                                       EmitErrorFn emitError) const {
  if (failed(verifyMatrix("dcsr", shape, elementType, emitError)))
    return failure();
  // One group fills one 128-bit vector register.
  int64_t width = elementType.getIntOrFloatBitWidth();
  if (width * getGroup() != 128)
    return emitError() << "group = " << getGroup() << " does not fit "
                       << elementType << " elements: a group fills one 128-bit "
                       << "vector, so use group = " << 128 / width;
  return success();
}

//===----------------------------------------------------------------------===//
// nm
//===----------------------------------------------------------------------===//

LogicalResult NMAttr::verify(EmitErrorFn emitError, int64_t n, int64_t m) {
  if (!isOneOf(m, {4, 8, 16}))
    return emitError() << "m must be 4, 8 or 16, got " << m;
  if (n < 1 || n >= m)
    return emitError() << "n must satisfy 1 <= n < m (m = " << m << "), got "
                       << n;
  return success();
}

LogicalResult NMAttr::verifyEncoding(ArrayRef<int64_t> shape, Type elementType,
                                     EmitErrorFn emitError) const {
  if (failed(verifyMatrix("nm", shape, elementType, emitError)))
    return failure();
  int64_t cols = shape[1];
  if (!ShapedType::isDynamic(cols) && cols % getM() != 0)
    return emitError() << "innermost size " << cols
                       << " is not a multiple of m = " << getM();
  return success();
}

//===----------------------------------------------------------------------===//
// gs
//===----------------------------------------------------------------------===//

LogicalResult GSAttr::verify(EmitErrorFn emitError, int64_t lanes) {
  if (!isOneOf(lanes, {4, 8, 16}))
    return emitError() << "lanes must be 4, 8 or 16, got " << lanes;
  return success();
}

LogicalResult GSAttr::verifyEncoding(ArrayRef<int64_t> shape, Type elementType,
                                     EmitErrorFn emitError) const {
  return verifyMatrix("gs", shape, elementType, emitError);
}

//===----------------------------------------------------------------------===//
// cse_csr
//===----------------------------------------------------------------------===//

LogicalResult CSECSRAttr::verify(EmitErrorFn emitError, int64_t posBits) {
  return verifyPosBits(emitError, posBits);
}

LogicalResult CSECSRAttr::verifyEncoding(ArrayRef<int64_t> shape,
                                         Type elementType,
                                         EmitErrorFn emitError) const {
  if (failed(verifyMatrix("cse_csr", shape, elementType, emitError)))
    return failure();
  // Columns and subexpressions share one 16-bit index space.
  int64_t cols = shape[1];
  if (!ShapedType::isDynamic(cols) && cols >= 65535)
    return emitError() << "#sparse_enc.cse_csr indexes columns and "
                          "subexpressions with 16 bits: at most 65534 "
                          "columns, got "
                       << cols;
  return success();
}
