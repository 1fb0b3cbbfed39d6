//===- WeightMatrix.cpp - constant weights in, flat constants out ---------===//

#include "passes/pack/Packing.h"

using namespace mlir;
using namespace mcusparse::pack;

WeightMatrix WeightMatrix::fromAttr(DenseElementsAttr attr) {
  auto type = cast<RankedTensorType>(attr.getType());
  WeightMatrix matrix;
  matrix.numRows = type.getDimSize(0);
  matrix.numCols = type.getDimSize(1);
  matrix.type = type.getElementType();
  matrix.elements.reserve(type.getNumElements());
  if (isa<FloatType>(matrix.type)) {
    for (const APFloat &value : attr.getValues<APFloat>())
      matrix.elements.push_back(value.bitcastToAPInt().getZExtValue());
  } else {
    for (const APInt &value : attr.getValues<APInt>())
      matrix.elements.push_back(value.getZExtValue());
  }
  return matrix;
}

bool WeightMatrix::isZero(int64_t row, int64_t col) const {
  uint64_t pattern = bits(row, col);
  if (type.isF32())
    return (pattern & 0x7fffffffu) == 0;
  return pattern == 0;
}

DenseElementsAttr PackedBuffer::toAttr() const {
  auto type = RankedTensorType::get({int64_t(data.size())}, elementType);
  unsigned width = elementType.getIntOrFloatBitWidth();
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> values;
    for (uint64_t pattern : data)
      values.emplace_back(floatType.getFloatSemantics(), APInt(width, pattern));
    return DenseElementsAttr::get(type, values);
  }
  SmallVector<APInt> values;
  for (uint64_t value : data)
    values.emplace_back(width, value, /*isSigned=*/false, /*implicitTrunc=*/true);
  return DenseElementsAttr::get(type, values);
}
