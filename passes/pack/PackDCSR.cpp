//===- PackDCSR.cpp - delta-compressed storage rows ------------------------===//
//
// C++ twin of python/mcusparse/formats/dcsr.py (docs/formats.md, "dcsr").
// Per row, the stored entries (nonzeros plus escape zeros, columns ascending)
// are cut into groups of G lanes; lane l of a group sits at column
// base + s*l + delta[l] with the slope s = round-half-up(cols / n). A row
// whose gather offsets reach 256 or whose minimum codes leave [-127, 126]
// gets an explicit zero in its largest gap and is encoded again.
//
// delta_bits = 4 stores the low delta nibbles in pairs of groups plus
// extension maps and masks for bits 4..7. delta_bits = 8 has no slope: each
// entry's offset from its group's first column is one byte, row by row like
// the values (no group padding), and each group's "minimum" is the uint8
// jump from the previous group's first column (the row's first group: its
// first column); a row escapes while an offset or a jump reaches 256.
//
//===----------------------------------------------------------------------===//

#include "passes/pack/Packing.h"

#include <optional>

using namespace mlir;
using namespace mcusparse::pack;

namespace {

constexpr int64_t kOffsetLimit = 256; // gather offsets are 8-bit
constexpr int64_t kExtensionBits = 4; // delta bits 4..7 go through masks
// The reference encoder accepts minimum codes strictly inside int8.
constexpr int64_t kMinCodeLow = -127, kMinCodeHigh = 126;

/// The stored entries of one row, columns ascending.
struct RowEntries {
  std::vector<int64_t> columns;
  std::vector<uint64_t> values; // element bit patterns
};

/// One row's deltas (groups x G, padding lanes 0) and minimum codes.
struct RowCode {
  std::vector<int64_t> deltas;
  std::vector<int64_t> minCodes;
};

/// The slope the kernel recomputes: round-half-up of rowLen / n.
int64_t slope(int64_t rowLen, int64_t n) {
  return n ? (rowLen + n / 2) / n : 0;
}

RowEntries nonzerosOfRow(const WeightMatrix &weights, int64_t row) {
  RowEntries entries;
  for (int64_t col = 0; col < weights.cols(); ++col) {
    if (weights.isZero(row, col))
      continue;
    entries.columns.push_back(col);
    entries.values.push_back(weights.bits(row, col));
  }
  return entries;
}

/// Encodes a non-empty row as it stands, or nothing when it needs an escape.
std::optional<RowCode> tryEncodeRow(ArrayRef<int64_t> columns, int64_t rowLen,
                                    int64_t group) {
  const int64_t n = columns.size(), s = slope(rowLen, n);
  const int64_t numGroups = (n + group - 1) / group;
  RowCode code;
  code.deltas.assign(numGroups * group, 0);
  int64_t previousBase = 0;
  for (int64_t first = 0; first < n; first += group) {
    const int64_t end = std::min(n, first + group);
    // Padding lanes copy the minimum and are predicated off: only active
    // lanes decide the base and must keep their offset below 256.
    int64_t base = INT64_MAX;
    for (int64_t i = first; i < end; ++i)
      base = std::min(base, columns[i] - s * (i - first));
    for (int64_t i = first; i < end; ++i) {
      int64_t offset = columns[i] - base; // s * lane + delta
      if (offset >= kOffsetLimit)
        return std::nullopt;
      code.deltas[i] = offset - s * (i - first);
    }
    int64_t minCode =
        first == 0 ? base : base - previousBase - group * s;
    if (minCode < kMinCodeLow || minCode > kMinCodeHigh)
      return std::nullopt;
    code.minCodes.push_back(minCode);
    previousBase = base;
  }
  return code;
}

/// delta_bits = 8: byte offsets from each group's first column and the
/// jumps between first columns, or nothing when one does not fit a byte.
std::optional<RowCode> tryEncodeRowBytes(ArrayRef<int64_t> columns,
                                         int64_t group) {
  const int64_t n = columns.size();
  RowCode code;
  code.deltas.assign((n + group - 1) / group * group, 0);
  int64_t previousFirst = 0;
  for (int64_t first = 0; first < n; first += group) {
    const int64_t base = columns[first];
    for (int64_t i = first; i < std::min(n, first + group); ++i) {
      code.deltas[i] = columns[i] - base;
      if (code.deltas[i] >= kOffsetLimit)
        return std::nullopt;
    }
    if (base - previousFirst >= kOffsetLimit)
      return std::nullopt;
    code.minCodes.push_back(base - previousFirst);
    previousFirst = base;
  }
  return code;
}

/// Inserts an explicit zero in the middle of the row's largest gap (the
/// first one on ties, like np.argmax). Gaps run from column 0 to the first
/// entry, between entries, and from the last entry to rowLen. A single-entry
/// row gets its zero at column / 2, before the entry (reference encoder).
void insertEscapeZero(RowEntries &row, int64_t rowLen) {
  std::vector<int64_t> &columns = row.columns;
  const size_t n = columns.size();
  size_t position = 0;
  int64_t column = columns[0] / 2;
  if (n > 1) {
    int64_t widest = -1;
    for (size_t k = 0; k <= n; ++k) {
      int64_t left = k == 0 ? 0 : columns[k - 1];
      int64_t right = k == n ? rowLen : columns[k];
      if (right - left > widest) {
        widest = right - left;
        position = k;
      }
    }
    int64_t right = position == n ? rowLen : columns[position];
    column = right - (widest + 1) / 2;
  }
  columns.insert(columns.begin() + position, column);
  row.values.insert(row.values.begin() + position, 0);
}

/// Escapes until the row encodes. Every escape takes a free column (the
/// largest gap is >= 2 until all columns are stored, and such a row encodes
/// with s = 1), so the bound, the Python encoder's, is never reached.
FailureOr<RowCode> encodeRow(RowEntries &row, int64_t rowLen, int64_t group,
                             bool byteDeltas) {
  if (row.columns.empty())
    return RowCode{};
  for (int64_t attempt = 0; attempt < 2 * rowLen + 16; ++attempt) {
    std::optional<RowCode> code =
        byteDeltas ? tryEncodeRowBytes(row.columns, group)
                   : tryEncodeRow(row.columns, rowLen, group);
    if (code)
      return std::move(*code);
    insertEscapeZero(row, rowLen);
  }
  return failure();
}

/// Packs groups of `lanes` nibbles two groups per `lanes` bytes: lane l of
/// the even group in the upper nibble of byte l, the odd group in the lower.
void appendNibblePairs(ArrayRef<int64_t> nibbles, int64_t lanes,
                       std::vector<uint64_t> &out) {
  const int64_t groups = nibbles.size() / lanes;
  for (int64_t g = 0; g < groups; g += 2) {
    for (int64_t l = 0; l < lanes; ++l) {
      uint64_t upper = nibbles[g * lanes + l] & 0xF;
      uint64_t lower = g + 1 < groups ? nibbles[(g + 1) * lanes + l] & 0xF : 0;
      out.push_back(upper << 4 | lower);
    }
  }
}

/// Delta bits 4..7: per group a 4-bit map of the bits some lane uses, and
/// for each used bit (ascending) a lane mask.
void appendExtensions(ArrayRef<int64_t> deltas, int64_t group,
                      std::vector<int64_t> &maps, std::vector<uint64_t> &masks) {
  for (size_t first = 0; first < deltas.size(); first += group) {
    int64_t map = 0;
    for (int64_t bit = 0; bit < kExtensionBits; ++bit) {
      uint64_t mask = 0;
      for (int64_t lane = 0; lane < group; ++lane)
        mask |= uint64_t((deltas[first + lane] >> (4 + bit)) & 1) << lane;
      if (mask == 0)
        continue;
      map |= int64_t(1) << bit;
      masks.push_back(mask);
    }
    maps.push_back(map);
  }
}

} // namespace

PackResult mcusparse::pack::packDCSR(const WeightMatrix &weights,
                                     sparse_enc::DCSRAttr layout,
                                     EmitErrorFn emitError) {
  MLIRContext *ctx = layout.getContext();
  const int64_t group = layout.getGroup();
  auto i8 = IntegerType::get(ctx, 8);
  // One extension mask bit per lane: 16 lanes need 16 bits.
  auto maskType = IntegerType::get(ctx, group == 16 ? 16 : 8);
  PackedBuffer values{"values", weights.elementType(), {}};
  PackedBuffer nibbles{"delta_nibbles", i8, {}};
  PackedBuffer minimums{"group_minimums", i8, {}};
  PackedBuffer maps{"extension_maps", i8, {}};
  PackedBuffer masks{"extension_masks", maskType, {}};
  PackedBuffer rowOffsets{"row_offsets", IntegerType::get(ctx, 16), {}};
  PackedBuffer nnz{"nnz", IntegerType::get(ctx, 32), {}};
  const bool byteDeltas = layout.getDeltaBits() == 8;
  PackedBuffer deltaBytes{"delta_bytes", i8, {}};

  std::vector<int64_t> deltas, counts;
  for (int64_t row = 0; row < weights.rows(); ++row) {
    RowEntries entries = nonzerosOfRow(weights, row);
    FailureOr<RowCode> code =
        encodeRow(entries, weights.cols(), group, byteDeltas);
    if (failed(code))
      return emitError() << "#sparse_enc.dcsr<group = " << group << ">: row "
                         << row << " still does not encode after "
                         << 2 * weights.cols() + 16
                         << " escape zeros (encoder bug)";
    llvm::append_range(values.data, entries.values);
    if (byteDeltas)
      llvm::append_range(deltaBytes.data,
                         ArrayRef(code->deltas).take_front(entries.columns.size()));
    else
      llvm::append_range(deltas, code->deltas);
    llvm::append_range(minimums.data, code->minCodes);
    counts.push_back(entries.columns.size());
  }

  if (!byteDeltas) {
    appendNibblePairs(deltas, group, nibbles.data);
    std::vector<int64_t> groupMaps;
    appendExtensions(deltas, group, groupMaps, masks.data);
    appendNibblePairs(groupMaps, 1, maps.data);
  }

  // The kernel derives each row's count from nnz / rows + row_offsets[r].
  int64_t total = 0;
  for (int64_t count : counts)
    total += count;
  // A 0-row tensor type is legal MLIR; it stores nothing.
  const int64_t average = weights.rows() ? total / weights.rows() : 0;
  for (auto [row, count] : llvm::enumerate(counts)) {
    int64_t offset = count - average;
    if (offset < INT16_MIN || offset > INT16_MAX)
      return emitError() << "#sparse_enc.dcsr<group = " << group << ">: row "
                         << row << " stores " << count
                         << " entries, too far from the average " << average
                         << " for an int16 row offset";
    rowOffsets.data.push_back(offset);
  }
  if (total > INT32_MAX)
    return emitError() << "#sparse_enc.dcsr<group = " << group << ">: "
                       << total << " stored entries do not fit the int32 nnz";
  nnz.data.push_back(total);
  if (byteDeltas)
    return SmallVector<PackedBuffer>{values, deltaBytes, minimums, rowOffsets,
                                     nnz};
  return SmallVector<PackedBuffer>{values, nibbles, minimums, maps,
                                   masks, rowOffsets, nnz};
}
