//===- LowerNM.cpp - #sparse_enc.nm<n, m> matvec --------------------------===//
//
// Offsets are log2(m)-bit fields packed into little-endian 32-bit words,
// F = (cols/m)*n fields per row, W = 32/log2(m) fields per word (16, 10, 8),
// each row starting a new word (docs/formats.md). One vector step handles
// one word: the word is broadcast to W lanes, shifted right by the constant
// vector [0, b, 2b, ...] and masked with m-1, which unpacks all W offsets in
// registers with no per-element branch; field i of the row sits in block
// i/n, so its column is (i/n)*m + offset. When n divides W the block base of
// word k is k*(W/n)*m plus a constant vector and the words run in an scf.for
// (the gather starts at x + k*(W/n)*m);
// otherwise the words are unrolled (the per-lane block of word k is a
// compile-time constant). The row's last, partial word uses a constant lane
// mask. Values of the W fields are one contiguous vector load; activations
// are gathered at the columns.
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncDialect.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mcusparse::lower;

FailureOr<Value> mcusparse::lower::lowerNM(ImplicitLocOpBuilder &b,
                                           const MatvecOperands &m,
                                           const LowerOptions &) {
  auto nm = cast<mcusparse::sparse_enc::NMAttr>(m.weightType.getEncoding());
  Emitter e{b, m.accType};
  Value values = m.buffers[0], offsets = m.buffers[1];
  int64_t n = nm.getN(), blockLen = nm.getM();
  int64_t bits = llvm::Log2_64(blockLen);
  int64_t perWord = 32 / bits;
  int64_t fields = m.cols / blockLen * n;
  int64_t words = (fields + perWord - 1) / perWord;
  int64_t fullWords = fields / perWord, rest = fields % perWord;
  bool loopWords = perWord % n == 0;

  auto i32 = b.getI32Type();
  auto laneType = VectorType::get({perWord}, i32);
  auto constVec = [&](auto fn) {
    SmallVector<int32_t> v;
    for (int64_t l = 0; l < perWord; ++l)
      v.push_back(static_cast<int32_t>(fn(l)));
    return arith::ConstantOp::create(b, laneType,
                                     DenseElementsAttr::get(laneType, ArrayRef(v)))
        .getResult();
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

  return forLoop(
      b, e.index(0), e.index(m.rows), e.index(1), {m.y},
      [&](Value r, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0];
        Value acc = tensor::ExtractOp::create(b, yt, r);
        Value valueRow = arith::MulIOp::create(b, r, e.index(fields));
        Value wordRow = arith::MulIOp::create(b, r, e.index(words * 4));
        auto at = [&](Value row, Value k, int64_t scale) {
          return arith::AddIOp::create(
                     b, row, arith::MulIOp::create(b, k, e.index(scale)))
              .getResult();
        };
        if (loopWords && fullWords > 0) {
          Value lanesBase = constBase(0);
          acc = forLoop(
              b, e.index(0), e.index(fullWords), e.index(1), {acc},
              [&](Value k, ValueRange a) -> SmallVector<Value> {
                // Word k covers blocks from k*(W/n): gather from
                // x + k*(W/n)*m, so each lane's column is its offset plus
                // a constant (an immediate on scalar targets).
                Value kBase =
                    arith::MulIOp::create(b, k, e.index(perWord / n * blockLen));
                return {emitWord(a[0], at(wordRow, k, 4),
                                 at(valueRow, k, perWord), lanesBase, {},
                                 kBase)};
              })[0];
        } else {
          for (int64_t k = 0; k < fullWords; ++k)
            acc = emitWord(acc, at(wordRow, e.index(k), 4),
                           at(valueRow, e.index(k), perWord), constBase(k), {},
                           e.index(0));
        }
        if (rest > 0) {
          Value mask = e.prefixMask(perWord, rest);
          acc = emitWord(acc, at(wordRow, e.index(fullWords), 4),
                         at(valueRow, e.index(fullWords), perWord),
                         constBase(fullWords), mask, e.index(0));
        }
        return {tensor::InsertOp::create(b, acc, yt, r)};
      })[0];
}
