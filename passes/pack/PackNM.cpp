//===- PackNM.cpp - N:M structured sparsity with sub-byte offsets ---------===//
//
// Every block of m weights along a row keeps exactly n slots: its nonzeros
// plus, when it has fewer, zero values at the lowest free positions, so the
// slot positions of a block are distinct and ascending. `values` holds the
// slots row by row; `offsets` holds their positions in log2(m) bits each,
// LSB-first in little-endian 32-bit words of floor(32 / bits) fields, every
// row starting a new word (docs/formats.md).
//
//===----------------------------------------------------------------------===//

#include "passes/pack/Packing.h"

using namespace mlir;
using namespace mcusparse::pack;

PackResult mcusparse::pack::packNM(const WeightMatrix &weights,
                                   sparse_enc::NMAttr layout,
                                   EmitErrorFn emitError) {
  MLIRContext *ctx = layout.getContext();
  const int64_t n = layout.getN(), m = layout.getM();
  const unsigned bits = llvm::Log2_64(m);
  const int64_t fieldsPerWord = 32 / bits;
  const int64_t blocks = weights.cols() / m;
  const int64_t wordsPerRow = (blocks * n + fieldsPerWord - 1) / fieldsPerWord;

  PackedBuffer values{"values", weights.elementType(), {}};
  PackedBuffer offsets{"offsets", IntegerType::get(ctx, 8), {}};
  for (int64_t row = 0; row < weights.rows(); ++row) {
    std::vector<uint32_t> words(wordsPerRow, 0);
    int64_t field = 0;
    for (int64_t block = 0; block < blocks; ++block) {
      int64_t base = block * m, nonzeros = 0;
      for (int64_t pos = 0; pos < m; ++pos)
        nonzeros += !weights.isZero(row, base + pos);
      if (nonzeros > n)
        return emitError() << "does not fit #sparse_enc.nm<n = " << n
                           << ", m = " << m << ">: row " << row << ", block "
                           << block << " (columns " << base << ".."
                           << base + m - 1 << ") has " << nonzeros
                           << " nonzeros";
      int64_t freeSlots = n - nonzeros;
      for (int64_t pos = 0; pos < m; ++pos) {
        bool zero = weights.isZero(row, base + pos);
        if (zero && freeSlots == 0)
          continue;
        freeSlots -= zero;
        values.data.push_back(weights.bits(row, base + pos));
        words[field / fieldsPerWord] |= uint32_t(pos)
                                        << (bits * (field % fieldsPerWord));
        ++field;
      }
    }
    for (uint32_t word : words)
      for (int byte = 0; byte < 4; ++byte)
        offsets.data.push_back((word >> (8 * byte)) & 0xff);
  }
  return SmallVector<PackedBuffer>{values, offsets};
}
