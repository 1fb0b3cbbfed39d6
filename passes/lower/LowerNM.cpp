//===- LowerNM.cpp - #sparse_enc.nm<n, m> matvec --------------------------===//
//
// Offsets are log2(m)-bit fields packed into little-endian 32-bit words,
// F = (cols/m)*n fields per row, W = 32/log2(m) fields per word (16, 10, 8),
// each row starting a new word (docs/formats.md). One vector step handles
// one word: the word is broadcast to W lanes, shifted right by the constant
// vector [0, b, 2b, ...] and masked with m-1, which unpacks all W offsets in
// registers with no per-element branch; field i of the row sits in block
// i/n, so its column is (i/n)*m + offset. The words run in an scf.for over
// steps of the fewest words that end on a block boundary (one word when n
// divides W; nm:7:16: 7 words of 8 fields, 8 blocks), the step's words
// unrolled: the block base of each of its fields is k*(blocks per step)*m
// plus a constant (the gather starts at x + k*(blocks per step)*m). Rows
// used to be unrolled completely when n did not divide W: 12x1024 nm:7:16
// took 34 KB of rv32gcv code, more than its weights. The row's last,
// partial word uses a constant lane mask. Values of the W fields are one
// contiguous vector load; activations are gathered at the columns.
//
// rv32gcv and cortex-m55 (int8): rows run in parallel lanes instead (32 and
// 4), one field of each per vector step, accumulated lane by lane
// (lowerNMRows below); 256x256 nm:1:8 / 1:16 against dense: rv32gcv 4.04x /
// 13.1x, cortex-m55 0.54x / 1.25x, where the word-per-step kernel reached
// 0.59x / 1.54x and 0.13x / 0.66x. On cortex-m55 fields of 2 or 4 bits
// with n dividing 16 take 16 fields per step in byte lanes instead
// (lowerNMByteFields): nm:1:16 4.37x, nm:1:4 1.12x, nm:2:4 0.44x; 3-bit
// fields (m = 8) likewise, gathered from a stack copy of the row's offset
// bytes (lowerNMThreeBitFields): nm:1:8 0.54x -> 1.54x. The word-per-step
// kernel remains for float weights and generic targets.
//
// Scalar targets (rv32imc, option target=rv32imc): no vectors at all. Each
// word is loaded once (4-byte aligned `lw`) and its fields are peeled with a
// shift and an and (the first field needs only the and, the top field of a
// word whose bits above it are 0 only the shift), each column is
// `x + off + block_base` with the block base a constant (an immediate of the
// `lb`), and the products accumulate into one scalar: 6.75 instructions
// per field for M = 16 (srli, andi, add, lb, lb, mul, add). Rows of at most
// 8 words are unrolled completely; longer rows loop over words (block base
// carried as the gather base) with the word body unrolled.
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncDialect.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AffineMap.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

using namespace mlir;
using namespace mcusparse::lower;

namespace {
/// rv32gcv layer matmuls (nmRowsRVV): rows per group of lanes.
constexpr int64_t kRVVRowLanes = 16;
/// Where the fields of an N:M row live (docs/formats.md): `bits` per field,
/// `perWord` fields per 32-bit word, `fields` per row in `words` words, the
/// last `rest` fields in a partial word. A loop over words steps by
/// `wordsPerStep` words, the fewest that end on a block boundary (1 when n
/// divides perWord; nm:7:16: 7 words, 8 blocks), so that the block of
/// each field of a step is the step's base column plus a constant;
/// `fullSteps` steps of full words fit in a row.
struct NMGeometry {
  int64_t bits, perWord, fields, words, fullWords, rest, wordsPerStep,
      blocksPerStep, fullSteps;
  NMGeometry(int64_t cols, int64_t n, int64_t blockLen)
      : bits(llvm::Log2_64(blockLen)), perWord(32 / bits),
        fields(cols / blockLen * n), words((fields + perWord - 1) / perWord),
        fullWords(fields / perWord), rest(fields % perWord),
        wordsPerStep(n / std::gcd(perWord, n)),
        blocksPerStep(wordsPerStep * perWord / n),
        fullSteps(fullWords / wordsPerStep) {}
};
} // namespace

/// Row r's pixel sums: accs = body(accs, index of the row's first field in
/// values, byte of its first offset word), accumulator q starting from
/// px.fillValue or y[px.yAt(r, q)] and stored back there; returns y.
static Value nmRowPixels(
    ImplicitLocOpBuilder &b, Emitter &e, const NMGeometry &g,
    const LayerPixels &px, Value yt, Value r,
    llvm::function_ref<SmallVector<Value>(ArrayRef<Value>, Value, Value)>
        body) {
  SmallVector<Value> at, accs;
  for (int64_t q = 0; q < px.pixels; ++q) {
    at.push_back(px.yAt(r, q));
    accs.push_back(px.fillValue
                       ? px.fillValue
                       : tensor::ExtractOp::create(b, yt, at[q]).getResult());
  }
  Value valueRow = arith::MulIOp::create(b, r, e.index(g.fields));
  Value wordRow = arith::MulIOp::create(b, r, e.index(g.words * 4));
  accs = body(accs, valueRow, wordRow);
  for (int64_t q = 0; q < px.pixels; ++q)
    yt = tensor::InsertOp::create(b, accs[q], yt, at[q]);
  return yt;
}

/// nmRowPixels for every row r (the byte-lane kernels).
static Value forEachNMRowPixels(
    ImplicitLocOpBuilder &b, Emitter &e, int64_t rows, const NMGeometry &g,
    const LayerPixels &px,
    llvm::function_ref<SmallVector<Value>(ArrayRef<Value>, Value, Value)>
        body) {
  return forLoop(b, e.index(0), e.index(rows), e.index(1), {px.y},
                 [&](Value r, ValueRange in) -> SmallVector<Value> {
                   return {nmRowPixels(b, e, g, px, in[0], r, body)};
                 })[0];
}

/// For every row r: y[r] = body(y[r], index of the row's first field in
/// values, byte of its first offset word) (the one-pixel case above).
static Value forEachNMRow(
    ImplicitLocOpBuilder &b, Emitter &e, const MatvecOperands &m,
    const NMGeometry &g, llvm::function_ref<Value(Value, Value, Value)> body) {
  return forEachNMRowPixels(b, e, m.rows, g, LayerPixels::matvec(m),
                            [&](ArrayRef<Value> accs, Value valueRow,
                                Value wordRow) -> SmallVector<Value> {
                              return {body(accs[0], valueRow, wordRow)};
                            });
}

/// accs[q] + the dot product of one step's values with pixel q's gather of
/// X at column xAt + cols (under `mask`, null: all lanes): the values are
/// read once (readValues, after pixel 0's gather), X once per pixel.
static SmallVector<Value> pixelDots(ImplicitLocOpBuilder &b, Emitter &e,
                                   const LayerPixels &px, ArrayRef<Value> accs,
                                   Value xAt, Value cols, Value mask,
                                   llvm::function_ref<Value()> readValues) {
  auto byteVec = VectorType::get({16}, b.getI8Type());
  Value v;
  SmallVector<Value> out;
  for (int64_t q = 0; q < px.pixels; ++q) {
    Value xv = vector::GatherOp::create(b, byteVec, px.x,
                                        px.xIndex(b, e, q, xAt), cols,
                                        mask ? mask : e.allTrue(16),
                                        e.zero(byteVec));
    if (q == 0)
      v = readValues();
    out.push_back(e.dot(accs[q], v, xv));
  }
  return out;
}

Value mcusparse::lower::nmRowsScalar(ImplicitLocOpBuilder &b, Emitter &e,
                                     ArrayRef<Value> buffers, int64_t rows,
                                     int64_t cols, int64_t n, int64_t blockLen,
                                     const LayerPixels &px) {
  Value values = buffers[0], offsets = buffers[1];
  NMGeometry g(cols, n, blockLen);
  int64_t bits = g.bits, perWord = g.perWord, fields = g.fields,
          words = g.words, wps = g.wordsPerStep;
  // Rows of more than 8 words loop over steps of words; so do all rows of a
  // pixel block, whose unrolled rows grow with the pixels (nm:1:8 256x256
  // over 8 pixels: 8 % more instructions, half the code).
  bool loopWords = (words > 8 || px.pixels > 1) && g.fullSteps > 0;
  auto i32 = b.getI32Type();
  auto byteVec = VectorType::get({4}, b.getI8Type());
  auto wordVec = VectorType::get({1}, i32);
  auto c32 = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, i32, v).getResult();
  };
  // accs + the `count` fields of the word at byte `wordByte`; field l of the
  // word is field k*perWord + l of the chunk starting at column xBase. The
  // field's offset and value are decoded once for all pixels.
  auto emitWord = [&](SmallVector<Value> accs, Value wordByte, Value valueAt,
                      Value xBase, int64_t k, int64_t count) {
    Value bytes = e.read(byteVec, offsets, {wordByte});
    auto cast = vector::BitCastOp::create(b, wordVec, bytes);
    cast->setAttr(kAlignedWordAttr, b.getUnitAttr());
    Value word = vector::ExtractOp::create(b, cast, int64_t(0));
    for (int64_t l = 0; l < count; ++l) {
      int64_t shift = l * bits;
      Value f = word;
      if (shift)
        f = arith::ShRUIOp::create(b, f, c32(shift));
      // Bits above the word's last field are 0 (docs/formats.md).
      if (l + 1 < perWord)
        f = arith::AndIOp::create(b, f, c32(blockLen - 1));
      Value col = arith::AddIOp::create(
          b, arith::IndexCastUIOp::create(b, b.getIndexType(), f).getResult(),
          arith::AddIOp::create(b, xBase,
                                e.index((k * perWord + l) / n * blockLen)));
      Value wAt = arith::AddIOp::create(b, valueAt, e.index(l));
      Value w = tensor::ExtractOp::create(b, values, ValueRange{wAt});
      for (int64_t q = 0; q < px.pixels; ++q) {
        Value xv = tensor::ExtractOp::create(
            b, px.x, ValueRange{px.xIndex(b, e, q, col)});
        accs[q] = e.mulAdd(accs[q], w, xv);
      }
    }
    return accs;
  };
  // One row: y[r] + its fields, for every pixel.
  auto emitRow = [&](Value yt, Value r) -> Value {
    return nmRowPixels(
        b, e, g, px, yt, r,
        [&](ArrayRef<Value> accs0, Value valueRow,
            Value wordRow) -> SmallVector<Value> {
          SmallVector<Value> accs(accs0);
          auto atWord = [&](Value row, Value k, int64_t scale) {
            return arith::AddIOp::create(
                       b, row, arith::MulIOp::create(b, k, e.index(scale)))
                .getResult();
          };
          int64_t k0 = 0;
          if (loopWords) {
            accs = forLoop(
                b, e.index(0), e.index(g.fullSteps), e.index(1), accs,
                [&](Value k, ValueRange a) -> SmallVector<Value> {
                  Value kBase = arith::MulIOp::create(
                      b, k, e.index(g.blocksPerStep * blockLen));
                  Value wordAt = atWord(wordRow, k, 4 * wps);
                  Value valueAt = atWord(valueRow, k, wps * perWord);
                  SmallVector<Value> out(a);
                  for (int64_t j = 0; j < wps; ++j)
                    out = emitWord(
                        out, arith::AddIOp::create(b, wordAt, e.index(4 * j)),
                        arith::AddIOp::create(b, valueAt, e.index(j * perWord)),
                        kBase, j, perWord);
                  return out;
                });
            k0 = g.fullSteps * wps;
          }
          for (int64_t k = k0; k < words; ++k)
            accs = emitWord(accs, atWord(wordRow, e.index(k), 4),
                            atWord(valueRow, e.index(k), perWord), e.index(0),
                            k, std::min(perWord, fields - k * perWord));
          return accs;
        });
  };
  // One pixel, short rows (up to 2 words: 4 rows, up to 4 words: 2 rows)
  // per iteration: the loop's pointer increments and branch are shared
  // (rv32imc nm:1:16 256x256: 116 -> 114 instructions per row).
  int64_t unroll = px.pixels > 1 ? 1 : words <= 2 ? 4 : words <= 4 ? 2 : 1;
  int64_t paired = rows / unroll * unroll;
  Value y = px.y;
  if (paired > 0)
    y = forLoop(b, e.index(0), e.index(paired), e.index(unroll), {y},
                [&](Value r, ValueRange in) -> SmallVector<Value> {
                  Value yt = in[0];
                  for (int64_t u = 0; u < unroll; ++u)
                    yt = emitRow(
                        yt,
                        u ? arith::AddIOp::create(b, r, e.index(u)).getResult()
                          : r);
                  return {yt};
                })[0];
  if (paired < rows)
    y = forLoop(b, e.index(paired), e.index(rows), e.index(1), {y},
                [&](Value r, ValueRange in) -> SmallVector<Value> {
                  return {emitRow(in[0], r)};
                })[0];
  return y;
}

/// rv32gcv: int8 products in i16 lanes (Emitter::macLanes), except with
/// 3-bit fields (m = 8), whose words of 10 fields then took 7-10 % more
/// instructions (the batched 64x64 layer over 125 pixels 57 % more).
/// 256x256: 2:4 10,897 -> 9,745, 1:4 5,781 -> 5,205, 1:16 1,652 -> 1,492;
/// 1:16 64x64 over 125 pixels 12,563 -> 11,303.
static bool rvvI16Products(mcusparse::sparse_enc::NMAttr nm) {
  return nm.getM() != 8;
}

/// rv32gcv, int8: `lanes` rows in parallel, one lane per row, so a vector
/// step multiplies one field of each of `lanes` rows and accumulates lane by
/// lane (no reduction per step, as the GS kernel). Every row has exactly the
/// same number of fields, so the rows stay in step. Word k of the lanes' rows
/// is gathered as 4 bytes (at row * words * 4 + 4k + j) and assembled; field
/// l is (word >> l*b) & (m-1), the activation is gathered at the field's
/// block base (a scalar base index) + that offset, the value at the field's
/// index (a scalar base) + row * fields. Per field and `lanes` rows: shift,
/// and, two gathers, the widening multiply-accumulate.
///
/// Over the pixels of `px` (a layer matmul, rv32gcv) each field's offsets
/// and values are decoded once, and each pixel q adds a gather of X at
/// px.xBase + q * K + column and a multiply-accumulate into its own lane
/// accumulators (Y positions px.yAt(r0, q) .. + lanes; the last partial
/// group of rows reads and writes Y under its row mask, as the next
/// pixel's sums follow in Y). `i16Products`: see rvvI16Products.
static Value nmRowsVector(ImplicitLocOpBuilder &b, Emitter &e,
                          ArrayRef<Value> buffers, int64_t numRows,
                          int64_t numCols, int64_t n, int64_t blockLen,
                          int64_t lanes, const LayerPixels &px,
                          bool i16Products = false) {
  Value values = buffers[0], offsets = buffers[1];
  int64_t pixels = px.pixels;
  NMGeometry g(numCols, n, blockLen);
  int64_t bits = g.bits, perWord = g.perWord, fields = g.fields,
          words = g.words, wps = g.wordsPerStep;
  bool loopWords = g.fullSteps > 0;
  auto i32 = b.getI32Type();
  auto idxVec = VectorType::get({lanes}, i32);
  auto accVec = VectorType::get({lanes}, e.accType);
  auto elemVec = [&](Value t) {
    return VectorType::get({lanes}, cast<ShapedType>(t.getType()).getElementType());
  };
  auto splat = [&](int64_t v) {
    return arith::ConstantOp::create(
               b, idxVec, DenseElementsAttr::get(idxVec, b.getI32IntegerAttr(v)))
        .getResult();
  };
  Value laneIds = e.laneConstants(idxVec, [](int64_t l) { return l; });
  Value fieldMask = splat(blockLen - 1);

  // One group of `lanes` rows starting at r0 (mask: the rows that exist).
  auto emitGroup = [&](Value yt, Value r0, Value mask, bool exact) -> Value {
    Value r0v = vector::BroadcastOp::create(
        b, idxVec, arith::IndexCastOp::create(b, i32, r0));
    Value rows = arith::AddIOp::create(b, r0v, laneIds);
    Value wordRows = arith::MulIOp::create(b, rows, splat(words * 4));
    Value valueRows = arith::MulIOp::create(b, rows, splat(fields));
    Value zeroB = e.zero(elemVec(offsets));
    auto gatherWord = [&](Value byteAt) {
      Value word;
      for (int64_t j = 0; j < 4; ++j) {
        Value at = arith::AddIOp::create(b, byteAt, e.index(j));
        Value byte = vector::GatherOp::create(b, elemVec(offsets), offsets, at,
                                              wordRows, mask, zeroB);
        Value w = arith::ExtUIOp::create(b, idxVec, byte);
        if (j)
          w = arith::ShLIOp::create(b, w, splat(8 * j));
        word = word ? arith::OrIOp::create(b, word, w).getResult() : w;
      }
      return word;
    };
    // Field `l` of `word` (l < perWord), in block `blockAt` (a column
    // index), into every pixel's accumulators.
    auto emitField = [&](ValueRange accs, Value word, int64_t l, Value vAt,
                         Value blockAt) -> SmallVector<Value> {
      Value f = word;
      if (l)
        f = arith::ShRUIOp::create(b, f, splat(l * bits));
      if (l + 1 < perWord)
        f = arith::AndIOp::create(b, f, fieldMask);
      Value v =
          vector::GatherOp::create(b, elemVec(values), values, vAt, valueRows,
                                   mask, e.zero(elemVec(values)));
      SmallVector<Value> out;
      for (int64_t q = 0; q < pixels; ++q) {
        Value xv = vector::GatherOp::create(b, elemVec(px.x), px.x,
                                            px.xIndex(b, e, q, blockAt), f,
                                            mask, e.zero(elemVec(px.x)));
        out.push_back(e.macLanes(accs[q], v, xv, i16Products));
      }
      return out;
    };
    // accs + the fields of word `word`, the fields [first, first + perWord)
    // of the row; field l's block starts at column blockAt + (inStep +
    // l)/n*m, where the step starting at column blockAt begins inStep
    // fields before the word.
    auto emitFields = [&](ValueRange accs, Value word, Value firstField,
                          Value blockAt, int64_t inStep) -> SmallVector<Value> {
      SmallVector<Value> out(accs);
      for (int64_t l = 0; l < perWord; ++l)
        out = emitField(out, word, l,
                        arith::AddIOp::create(b, firstField, e.index(l)),
                        arith::AddIOp::create(
                            b, blockAt, e.index((inStep + l) / n * blockLen)));
      return out;
    };
    SmallVector<Value> accs(pixels, e.zero(accVec));
    int64_t k0 = 0;
    if (loopWords) {
      accs = forLoop(
          b, e.index(0), e.index(g.fullSteps), e.index(1), accs,
          [&](Value k, ValueRange a) -> SmallVector<Value> {
            Value word0 = arith::MulIOp::create(b, k, e.index(wps)), blockAt;
            SmallVector<Value> out(a);
            for (int64_t j = 0; j < wps; ++j) {
              Value wordAt = arith::AddIOp::create(b, word0, e.index(j));
              Value word =
                  gatherWord(arith::MulIOp::create(b, wordAt, e.index(4)));
              Value first = arith::MulIOp::create(b, wordAt, e.index(perWord));
              if (!blockAt)
                blockAt = arith::MulIOp::create(
                    b, k, e.index(g.blocksPerStep * blockLen));
              out = emitFields(out, word, first, blockAt, j * perWord);
            }
            return out;
          });
      k0 = g.fullSteps * wps;
    }
    for (int64_t k = k0; k < words; ++k) {
      int64_t count = std::min(perWord, fields - k * perWord);
      // Field i of an unrolled word: block (k*perWord + l)/n.
      Value word = gatherWord(e.index(4 * k));
      for (int64_t l = 0; l < count; ++l) {
        int64_t i = k * perWord + l;
        accs = emitField(accs, word, l, e.index(i), e.index(i / n * blockLen));
      }
    }
    // The rows past the last one are masked off: Y goes on with the next
    // pixel's sums there.
    for (int64_t q = 0; q < pixels; ++q)
      yt = e.addToLanes(yt, px.yAt(r0, q), accs[q], px.fillValue,
                        exact ? Value() : mask);
    return yt;
  };

  int64_t full = numRows / lanes;
  Value y = px.y;
  if (full > 0)
    y = forLoop(b, e.index(0), e.index(full * lanes), e.index(lanes), {y},
                [&](Value r0, ValueRange in) -> SmallVector<Value> {
                  return {emitGroup(in[0], r0, e.allTrue(lanes), true)};
                })[0];
  if (numRows % lanes)
    y = emitGroup(y, e.index(full * lanes),
                  e.prefixMask(lanes, numRows % lanes), false);
  return y;
}

Value mcusparse::lower::nmRowsRVV(ImplicitLocOpBuilder &b, Emitter &e,
                                  ArrayRef<Value> buffers, int64_t rows,
                                  int64_t cols,
                                  mcusparse::sparse_enc::NMAttr nm,
                                  const LayerPixels &px) {
  return nmRowsVector(b, e, buffers, rows, cols, nm.getN(), nm.getM(),
                      kRVVRowLanes, px, rvvI16Products(nm));
}

/// cortex-m55, int8, fields of 2 or 4 bits (m = 4 or 16) and n dividing 16:
/// one row at a time, 16 fields per step in the 16 byte lanes of a q
/// register. Whole words of 2- or 4-bit fields are a plain bit stream (field
/// i of a row in byte i*b/8 from bit (i*b)%8), so a step loads its 2b offset
/// bytes widened to 16- or 32-bit lanes (`vldrb.u16` / `vldrb.u32`), ORs
/// each lane with copies of itself shifted by 8-b, 2(8-b), ... so that field
/// j of the byte lands in byte j of the lane (copies never overlap the bits
/// that are kept), masks every byte with m-1 and
/// reinterprets the lanes as 16 bytes: the fields in order. It adds the
/// lane's block start (l/n)*m (at most 255 with n = 1, m = 16) and gathers
/// x with those 8-bit offsets from x + (16s/n)*m. Values are one contiguous
/// load, the product one `vmlava`. A row's last partial step uses constant
/// lane masks.
static Value lowerNMByteFields(ImplicitLocOpBuilder &b, Emitter &e,
                               ArrayRef<Value> buffers, int64_t rows,
                               int64_t cols, int64_t n, int64_t blockLen,
                               const LayerPixels &px) {
  constexpr int64_t lanes = 16;
  Value values = buffers[0], offsets = buffers[1];
  NMGeometry g(cols, n, blockLen);
  auto i8 = b.getI8Type();
  auto byteVec = VectorType::get({lanes}, i8);
  const int64_t perByte = 8 / g.bits, srcLanes = lanes / perByte;
  auto srcVec = VectorType::get({srcLanes}, i8);
  auto wideVec = VectorType::get({srcLanes}, b.getIntegerType(8 * perByte));
  auto splatWide = [&](uint64_t v) {
    return arith::ConstantOp::create(
               b, wideVec,
               DenseElementsAttr::get(
                   wideVec, b.getIntegerAttr(wideVec.getElementType(), v)))
        .getResult();
  };
  uint64_t byteMasks = 0;
  for (int64_t j = 0; j < perByte; ++j)
    byteMasks |= uint64_t(blockLen - 1) << (8 * j);
  Value fieldMask = splatWide(byteMasks);
  Value blockStart =
      e.laneConstants(byteVec, [&](int64_t l) { return l / n * blockLen; });
  const int64_t stepCols = lanes / n * blockLen;
  const int64_t fullSteps = g.fields / lanes, rest = g.fields % lanes;

  // accs + the 16 fields from field 16*s of the row (masks: the last step's
  // offset bytes and fields): the offsets and values once, a gather and a
  // dot product per pixel.
  auto step = [&](ArrayRef<Value> accs, Value s, Value wordRow, Value valueRow,
                  Value byteMask, Value mask) {
    Value byteAt = arith::AddIOp::create(
        b, wordRow, arith::MulIOp::create(b, s, e.index(srcLanes)));
    Value wide = arith::ExtUIOp::create(
        b, wideVec, e.read(srcVec, offsets, {byteAt}, byteMask));
    // Copies at 0, 8-b, 2(8-b), ...: doubling (2 shifts + 2 ors for 4).
    Value spread = wide;
    for (int64_t copies = 1; copies < perByte; copies *= 2)
      spread = arith::OrIOp::create(
          b, spread,
          arith::ShLIOp::create(b, spread, splatWide(copies * (8 - g.bits))));
    Value fields = vector::BitCastOp::create(
        b, byteVec, arith::AndIOp::create(b, spread, fieldMask));
    Value colsAt = e.widenIndices(arith::AddIOp::create(b, fields, blockStart));
    Value xAt = arith::MulIOp::create(b, s, e.index(stepCols));
    return pixelDots(b, e, px, accs, xAt, colsAt, mask, [&] {
      return e.read(byteVec, values,
                    {arith::AddIOp::create(
                        b, valueRow, arith::MulIOp::create(b, s, e.index(lanes)))},
                    mask);
    });
  };

  return forEachNMRowPixels(
      b, e, rows, g, px,
      [&](ArrayRef<Value> accs, Value valueRow,
          Value wordRow) -> SmallVector<Value> {
        SmallVector<Value> a = forLoop(
            b, e.index(0), e.index(fullSteps), e.index(1), accs,
            [&](Value s, ValueRange in) -> SmallVector<Value> {
              return step(SmallVector<Value>(in), s, wordRow, valueRow, {}, {});
            });
        if (rest > 0)
          a = step(a, e.index(fullSteps), wordRow, valueRow,
                   e.prefixMask(srcLanes, (rest + perByte - 1) / perByte),
                   e.prefixMask(lanes, rest));
        return a;
      });
}

/// cortex-m55, int8, m = 8 (3-bit fields, 10 to a word, 2 padding bits) and
/// n dividing 16: one row at a time, 16 fields per step in byte lanes. Field
/// f of a row starts in byte B = 4*(f/10) + 3*(f%10)/8 of the row's words at
/// bit H = 3*(f%10)%8 and, for f%10 = 2 or 5, ends in byte B + 1. Each row's
/// offset bytes are first copied to a stack buffer (16 per contiguous
/// load): the gathers below read every byte twice or more, and from the
/// stack that costs no weight traffic (256x256 nm:1:8: 16,384 -> 4,096
/// offset bytes read from the weights). A step
/// gathers its fields' bytes B and (for the straddling ones) B + 1 with two
/// `vldrb.u8` gathers at constant 8-bit offsets from the buffer,
/// shifts them per lane (`vshl.u8` by constant vectors: lo >> H, hi <<
/// 8 - H; a lane without a second byte reads B again and shifts it by 7,
/// which leaves the 3 kept bits alone), ORs and masks with 7. Then as for
/// 2- and 4-bit fields: add the lane's block start (l/n)*8, gather x with
/// those 8-bit offsets from x + (16s/n)*8, one contiguous value load and
/// one `vmlava`. Rows of at most 256 fields (16 steps; byte offsets below
/// 256) are unrolled; the last partial step has constant lane masks.
static Value lowerNMThreeBitFields(ImplicitLocOpBuilder &b, Emitter &e,
                                   ArrayRef<Value> buffers, int64_t rows,
                                   int64_t cols, int64_t n,
                                   const LayerPixels &px) {
  constexpr int64_t lanes = 16, blockLen = 8;
  Value values = buffers[0], offsets = buffers[1];
  NMGeometry g(cols, n, blockLen);
  auto byteVec = VectorType::get({lanes}, b.getI8Type());
  auto bytes = [&](llvm::function_ref<int64_t(int64_t)> fn) {
    return e.laneConstants(byteVec, fn);
  };
  Value seven = bytes([](int64_t) { return 7; });
  Value blockStart = bytes([&](int64_t l) { return l / n * blockLen; });
  const int64_t steps = (g.fields + lanes - 1) / lanes;
  const int64_t rowBytes = g.words * 4;
  const int64_t chunks = (rowBytes + lanes - 1) / lanes;
  Value staged = memref::AllocaOp::create(
      b, MemRefType::get({chunks * lanes}, b.getI8Type()));

  // accs + the 16 fields from field 16*s of the row whose words start at
  // byte `wordRow` and values at `valueRow` (a gather and a dot product per
  // pixel).
  auto step = [&](ArrayRef<Value> accs, int64_t s, Value valueRow) {
    int64_t count = std::min(lanes, g.fields - s * lanes);
    auto field = [&](int64_t l) { return std::min(s * lanes + l, g.fields - 1); };
    auto byteOf = [](int64_t f) { return 4 * (f / 10) + 3 * (f % 10) / 8; };
    auto bitOf = [](int64_t f) { return 3 * (f % 10) % 8; };
    auto straddles = [&](int64_t f) { return bitOf(f) > 5; };
    Value lowAt = e.widenIndices(bytes([&](int64_t l) { return byteOf(field(l)); }));
    Value highAt = e.widenIndices(bytes([&](int64_t l) {
      int64_t f = field(l);
      return byteOf(f) + (straddles(f) ? 1 : 0);
    }));
    Value all = e.allTrue(lanes), zero = e.zero(byteVec);
    Value c0 = e.index(0);
    Value lo = vector::GatherOp::create(b, byteVec, staged, c0, lowAt, all, zero);
    Value hi = vector::GatherOp::create(b, byteVec, staged, c0, highAt, all, zero);
    Value lowShift = bytes([&](int64_t l) { return bitOf(field(l)); });
    Value highShift = bytes([&](int64_t l) {
      int64_t f = field(l);
      return straddles(f) ? 8 - bitOf(f) : 7;
    });
    Value fields = arith::AndIOp::create(
        b,
        arith::OrIOp::create(b, arith::ShRUIOp::create(b, lo, lowShift),
                             arith::ShLIOp::create(b, hi, highShift)),
        seven);
    Value colsAt = e.widenIndices(arith::AddIOp::create(b, fields, blockStart));
    Value mask = count < lanes ? e.prefixMask(lanes, count) : Value();
    return pixelDots(b, e, px, accs, e.index(s * lanes / n * blockLen), colsAt,
                     mask, [&] {
                       return e.read(byteVec, values,
                                     {arith::AddIOp::create(b, valueRow,
                                                            e.index(s * lanes))},
                                     mask);
                     });
  };

  return forEachNMRowPixels(b, e, rows, g, px,
                            [&](ArrayRef<Value> accs0, Value valueRow,
                                Value wordRow) -> SmallVector<Value> {
    SmallVector<Value> acc(accs0);
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t count = std::min(lanes, rowBytes - c * lanes);
      Value chunk = e.read(
          byteVec, offsets,
          {arith::AddIOp::create(b, wordRow, e.index(c * lanes))},
          count < lanes ? e.prefixMask(lanes, count) : Value());
      vector::StoreOp::create(b, chunk, staged, ValueRange{e.index(c * lanes)});
    }
    for (int64_t s = 0; s < steps; ++s)
      acc = step(acc, s, valueRow);
    return acc;
  });
}

bool mcusparse::lower::hasNMFieldKernel(mcusparse::sparse_enc::NMAttr nm,
                                        int64_t cols, Type wElem, Type xElem) {
  int64_t n = nm.getN(), m = nm.getM();
  if (!wElem.isInteger(8) || !xElem.isInteger(8) || 16 % n != 0)
    return false;
  return m == 4 || m == 16 || (m == 8 && cols / 8 * n <= 256);
}

Value mcusparse::lower::nmRowsMVE(ImplicitLocOpBuilder &b, Emitter &e,
                                  ArrayRef<Value> buffers, int64_t rows,
                                  int64_t cols,
                                  mcusparse::sparse_enc::NMAttr nm,
                                  const LayerPixels &px) {
  if (nm.getM() == 8)
    return lowerNMThreeBitFields(b, e, buffers, rows, cols, nm.getN(), px);
  return lowerNMByteFields(b, e, buffers, rows, cols, nm.getN(), nm.getM(),
                           px);
}

FailureOr<Value> mcusparse::lower::lowerNM(ImplicitLocOpBuilder &b,
                                           const MatvecOperands &m,
                                           const LowerOptions &opts) {
  auto nm = cast<mcusparse::sparse_enc::NMAttr>(m.weightType.getEncoding());
  if (opts.scalarOnly()) {
    Emitter e{b, m.accType};
    return nmRowsScalar(b, e, m.buffers, m.rows, m.cols, nm.getN(), nm.getM(),
                        LayerPixels::matvec(m));
  }
  auto isI8 = [](Value v) {
    return cast<ShapedType>(v.getType()).getElementType().isInteger(8);
  };
  // Lanes measured on 256x256 nm:1:8 / 1:16 (x dense): rv32gcv 32 rows
  // (LMUL 8) 4.04x / 13.1x, 16: 2.42x / 6.58x; cortex-m55 4 rows (one q
  // register of i32) 0.54x / 1.25x, 8: 0.16x / 0.33x (spills), against
  // 0.13x / 0.66x for the word-per-step kernel. cortex-m55 takes the byte-
  // lane kernels above where they apply; rows of m = 8 with more than 256
  // fields (byte offsets past 255) and n = 3, 5, 6, 7 stay row-parallel.
  bool int8 = isI8(m.buffers[0]) && isI8(m.x) && m.accType.isInteger(32);
  if (opts.mve() && m.accType.isInteger(32) &&
      hasNMFieldKernel(nm, m.cols,
                       cast<ShapedType>(m.buffers[0].getType()).getElementType(),
                       cast<ShapedType>(m.x.getType()).getElementType())) {
    Emitter e{b, m.accType};
    return nmRowsMVE(b, e, m.buffers, m.rows, m.cols, nm,
                     LayerPixels::matvec(m));
  }
  if ((opts.rvv() || opts.mve()) && int8) {
    Emitter e{b, m.accType};
    return nmRowsVector(b, e, m.buffers, m.rows, m.cols, nm.getN(), nm.getM(),
                        /*lanes=*/opts.rvv() ? 32 : 4, LayerPixels::matvec(m),
                        opts.rvv() && rvvI16Products(nm));
  }
  Emitter e{b, m.accType};
  Value values = m.buffers[0], offsets = m.buffers[1];
  int64_t n = nm.getN(), blockLen = nm.getM();
  NMGeometry g(m.cols, n, blockLen);
  int64_t bits = g.bits, perWord = g.perWord, fullWords = g.fullWords,
          rest = g.rest, wps = g.wordsPerStep;

  auto i32 = b.getI32Type();
  auto laneType = VectorType::get({perWord}, i32);
  auto constVec = [&](llvm::function_ref<int64_t(int64_t)> fn) {
    return e.laneConstants(laneType, fn);
  };
  Value shifts = constVec([&](int64_t l) { return l * bits; });
  Value fieldMask = constVec([&](int64_t) { return blockLen - 1; });
  Type vElem = cast<ShapedType>(values.getType()).getElementType();
  Type xElem = cast<ShapedType>(m.x.getType()).getElementType();
  auto vVec = VectorType::get({perWord}, vElem);
  auto xVec = VectorType::get({perWord}, xElem);
  Value zeroX = e.zero(xVec);
  auto byteVec = VectorType::get({4}, b.getI8Type());
  auto wordVec = VectorType::get({1}, i32);

  // acc + the fields of word k of the row; `blockBase` holds each lane's
  // block start column (i/n)*m.
  auto emitWord = [&](Value acc, Value wordByte, Value valueAt,
                      Value blockBase, Value mask, Value xBase) {
    Value bytes = e.read(byteVec, offsets, {wordByte});
    auto cast = vector::BitCastOp::create(b, wordVec, bytes);
    // Words start at multiples of 4 bytes of a word-organised buffer:
    // sparse-enc-lower-vector-transfers gives the load 4-byte alignment (one
    // `lw` on RISC-V instead of four byte loads).
    cast->setAttr(kAlignedWordAttr, b.getUnitAttr());
    Value word = vector::ExtractOp::create(b, cast, int64_t(0));
    Value lanes = vector::BroadcastOp::create(b, laneType, word);
    Value offs = arith::AndIOp::create(
        b, arith::ShRUIOp::create(b, lanes, shifts), fieldMask);
    Value cols = arith::AddIOp::create(b, blockBase, offs);
    Value v = e.read(vVec, values, {valueAt}, mask);
    Value xv = vector::GatherOp::create(b, xVec, m.x, xBase, cols,
                                        mask ? mask : e.allTrue(perWord), zeroX);
    return e.dot(acc, v, xv);
  };
  auto constBase = [&](int64_t k) {
    return constVec([&](int64_t l) { return (k * perWord + l) / n * blockLen; });
  };

  return forEachNMRow(
      b, e, m, g, [&](Value acc, Value valueRow, Value wordRow) -> Value {
        auto at = [&](Value row, Value k, int64_t scale) {
          return arith::AddIOp::create(
                     b, row, arith::MulIOp::create(b, k, e.index(scale)))
              .getResult();
        };
        if (g.fullSteps > 0) {
          SmallVector<Value> lanesBase;
          for (int64_t j = 0; j < wps; ++j)
            lanesBase.push_back(constBase(j));
          acc =
              forLoop(b, e.index(0), e.index(g.fullSteps), e.index(1), {acc},
                      [&](Value k, ValueRange a) -> SmallVector<Value> {
                        // Step k covers blocks from k*blocksPerStep: gather
                        // from x + k*blocksPerStep*m, so each lane's column is
                        // its offset plus a constant (an immediate on scalar
                        // targets).
                        Value kBase = arith::MulIOp::create(
                            b, k, e.index(g.blocksPerStep * blockLen));
                        Value word0 = arith::MulIOp::create(b, k, e.index(wps));
                        Value sum = a[0];
                        for (int64_t j = 0; j < wps; ++j) {
                          Value w = arith::AddIOp::create(b, word0, e.index(j));
                          sum = emitWord(sum, at(wordRow, w, 4),
                                         at(valueRow, w, perWord), lanesBase[j],
                                         {}, kBase);
                        }
                        return {sum};
                      })[0];
        }
        for (int64_t k = g.fullSteps * wps; k < fullWords; ++k)
          acc = emitWord(acc, at(wordRow, e.index(k), 4),
                         at(valueRow, e.index(k), perWord), constBase(k), {},
                         e.index(0));
        if (rest > 0) {
          Value mask = e.prefixMask(perWord, rest);
          acc = emitWord(acc, at(wordRow, e.index(fullWords), 4),
                         at(valueRow, e.index(fullWords), perWord),
                         constBase(fullWords), mask, e.index(0));
        }
        return acc;
      });
}
