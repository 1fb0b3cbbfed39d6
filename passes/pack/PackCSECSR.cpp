//===- PackCSECSR.cpp - #sparse_enc.cse_csr from checked buffers ----------===//
//
// CSE-CSR's subexpressions come from a search (python/mcusparse/formats/
// csecsr.py), not from a rule the pass could apply. The search's buffers
// travel with the weight constant as a `sparse_enc.buffers` dictionary;
// this pass checks their shapes and element types against the layout,
// decodes them (each subexpression expanded into columns) and compares the
// result with the constant element by element before it takes them: wrong
// buffers are an error naming the first differing element, never a
// silently wrong weight.
//
//===----------------------------------------------------------------------===//

#include "dialect/StorageLayout.h"
#include "passes/pack/Packing.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/bit.h"

#include <cstring>
#include <map>

using namespace mlir;
using namespace mcusparse;
using namespace mcusparse::pack;

namespace {

/// The element's value: sign-extended integer or float.
double valueOf(Type type, uint64_t bits) {
  if (type.isF32())
    return llvm::bit_cast<float>(static_cast<uint32_t>(bits));
  unsigned width = type.getIntOrFloatBitWidth();
  return double(llvm::SignExtend64(bits, width));
}

/// A value as the constant spells it: an integer, or the shortest float.
std::string describe(Type type, double value) {
  if (!type.isF32())
    return std::to_string(int64_t(value));
  SmallString<16> text;
  APFloat(value).toString(text);
  return std::string(text);
}

} // namespace

PackResult mcusparse::pack::packCSECSR(const WeightMatrix &weights,
                                       RankedTensorType type,
                                       DictionaryAttr provided,
                                       EmitErrorFn emitError) {
  if (!provided)
    return emitError()
           << "cannot pack #sparse_enc.cse_csr without its buffers: the "
              "subexpressions come from mcusparse.formats.encode(W, "
              "\"cse-csr\"); pass them as a sparse_enc.buffers dictionary on "
              "the constant, or build the tensor with sparse_enc.assemble";
  SmallVector<PackedBuffer> buffers;
  for (const sparse_enc::StorageBuffer &expected :
       sparse_enc::getStorageBuffers(type)) {
    auto attr = provided.getAs<DenseElementsAttr>(expected.name);
    if (!attr)
      return emitError() << "sparse_enc.buffers has no dense '" << expected.name
                         << "' buffer";
    auto shape = attr.getType();
    if (shape.getRank() != 1 || shape.getElementType() != expected.elementType)
      return emitError() << "sparse_enc.buffers '" << expected.name
                         << "' must be a 1-D tensor of " << expected.elementType
                         << ", got " << shape;
    PackedBuffer buffer{expected.name, expected.elementType, {}};
    for (Attribute a : attr.getValues<Attribute>()) {
      APInt bits = isa<FloatAttr>(a)
                       ? cast<FloatAttr>(a).getValue().bitcastToAPInt()
                       : cast<IntegerAttr>(a).getValue();
      buffer.data.push_back(bits.getZExtValue());
    }
    buffers.push_back(std::move(buffer));
  }
  const std::vector<uint64_t> &values = buffers[0].data,
                              &colIdx = buffers[1].data,
                              &rowPtr = buffers[2].data,
                              &operands = buffers[3].data,
                              &coefficients = buffers[4].data;
  Type elem = weights.elementType();
  int64_t rows = weights.rows(), cols = weights.cols();
  int64_t subexpressions = int64_t(operands.size()) / 2;

  // Structure first, so that decoding never reads out of range.
  if (int64_t(rowPtr.size()) != rows + 1 || rowPtr.front() != 0 ||
      rowPtr.back() != colIdx.size())
    return emitError() << "sparse_enc.buffers 'row_ptr' must have rows + 1 = "
                       << rows + 1 << " entries from 0 to the " << colIdx.size()
                       << " of 'col_idx'";
  for (int64_t r = 0; r < rows; ++r)
    if (rowPtr[r] > rowPtr[r + 1])
      return emitError() << "sparse_enc.buffers 'row_ptr' decreases at row "
                         << r;
  if (operands.size() % 2 || coefficients.size() != operands.size())
    return emitError() << "sparse_enc.buffers 'sub_operands' and 'sub_values' "
                          "need two entries per subexpression";
  for (int64_t k = 0; k < subexpressions; ++k)
    for (int i = 0; i < 2; ++i)
      if (int64_t(operands[2 * k + i]) >= cols + k)
        return emitError() << "sparse_enc.buffers: subexpression " << k
                           << " refers to itself or a later one";
  size_t plain = 0;
  for (uint64_t c : colIdx) {
    if (int64_t(c) >= cols + 2 * subexpressions)
      return emitError() << "sparse_enc.buffers 'col_idx' refers to a missing "
                            "subexpression ("
                         << c << ")";
    plain += int64_t(c) < cols;
  }
  if (plain != values.size())
    return emitError() << "sparse_enc.buffers 'values' must hold one "
                          "coefficient per column entry ("
                       << plain << "), got " << values.size();

  // Each subexpression as columns with coefficients.
  std::vector<std::map<int64_t, double>> expansion(subexpressions);
  for (int64_t k = 0; k < subexpressions; ++k)
    for (int i = 0; i < 2; ++i) {
      int64_t o = operands[2 * k + i];
      double c = valueOf(elem, coefficients[2 * k + i]);
      if (o < cols)
        expansion[k][o] += c;
      else
        for (auto [col, v] : expansion[o - cols])
          expansion[k][col] += c * v;
    }
  // Row by row, the decoded weights against the constant.
  size_t next = 0;
  std::vector<double> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(row.begin(), row.end(), 0.0);
    for (uint64_t j = rowPtr[r]; j < rowPtr[r + 1]; ++j) {
      int64_t c = colIdx[j];
      if (c < cols) {
        row[c] += valueOf(elem, values[next++]);
        continue;
      }
      double sign = c < cols + subexpressions ? 1.0 : -1.0;
      for (auto [col, v] : expansion[(c - cols) % subexpressions])
        row[col] += sign * v;
    }
    for (int64_t c = 0; c < cols; ++c) {
      double want = valueOf(elem, weights.bits(r, c));
      if (row[c] != want && !(weights.isZero(r, c) && row[c] == 0.0))
        return emitError() << "sparse_enc.buffers do not decode to this "
                              "weight: row "
                           << r << ", column " << c << " is "
                           << describe(elem, want) << " in the constant and "
                           << describe(elem, row[c]) << " from the buffers";
    }
  }
  return buffers;
}
