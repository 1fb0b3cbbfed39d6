//===- LowerDCSR.cpp - #sparse_enc.dcsr<group> matvec ---------------------===//
//
// Decodes the column indices of each group of G = group entries in vector
// registers (docs/formats.md, "Decoder"):
//
//   delta[l]  = upper or lower nibble of delta_nibbles[(g/2)*G + l]
//               (vector shift/and, selected by the parity of the global
//               group index g)
//               (a vector shift by 4 or 0, chosen by the parity of the
//               global group index g, and an and with 15)
//             | extension bits: for each set bit p of the group's 4-bit map,
//               the next lane mask of extension_masks, bitcast to a lane
//               predicate (`vector.bitcast vector<1xi16> to vector<16xi1>`:
//               on MVE a `vmsr p0`), ORs bit 4+p into the lanes it names
//   offset[l] = s*l + delta[l]        (8-bit lanes, wrapping only in padding
//                                     lanes, which are masked off)
//   x[base + offset[l]],              base += group_minimums[g] (+ G*s after
//                                     the first group of a row)
//
// The 16-byte nibble block of a pair of groups is loaded at the even group
// and carried (loop-carried vector, also across rows) to the odd one, so
// each block is read once: weight bytes read = bytes stored plus nothing.
//
// then gathers x at the columns, loads the group's values with a lane
// predicate (the last group of a row has n - G*j active lanes) and
// multiply-accumulates with a widening reduction. The slope
// s = (cols + n/2) / n and the row's entry count n = nnz/rows +
// row_offsets[r] are recomputed per row, as the format intends. The map
// bits are tested with scf.if (an extension mask is read only when its bit
// is set, so a matrix without any mask never touches the empty buffer).
//
// The gather uses the 8-bit offsets (zero-extended) from x + base, like the
// paper's kernel (MVE: one `vldrb.u8` gather with u8 offsets). `base` may be
// negative although every active lane's column is in range: the gather's
// base index lowers to a `getelementptr` without `inbounds`
// (test/Passes/to-llvm.mlir checks it), so the intermediate pointer is
// well defined.
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncDialect.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

FailureOr<Value> mcusparse::lower::lowerDCSR(ImplicitLocOpBuilder &b,
                                             const MatvecOperands &m,
                                             const LowerOptions &) {
  auto dcsr = cast<mcusparse::sparse_enc::DCSRAttr>(m.weightType.getEncoding());
  Emitter e{b, m.accType};
  Value values = m.buffers[0], nibbles = m.buffers[1], minimums = m.buffers[2],
        maps = m.buffers[3], masks = m.buffers[4], rowOffsets = m.buffers[5],
        nnzBuf = m.buffers[6];
  int64_t lanes = dcsr.getGroup();
  auto i8 = b.getI8Type(), i32 = b.getI32Type();
  auto idx = b.getIndexType();
  auto byteVec = VectorType::get({lanes}, i8);
  auto maskType = VectorType::get({lanes}, b.getI1Type());
  Type vElem = cast<ShapedType>(values.getType()).getElementType();
  Type xElem = cast<ShapedType>(m.x.getType()).getElementType();
  auto vVec = VectorType::get({lanes}, vElem);
  auto xVec = VectorType::get({lanes}, xElem);
  Value zeroX = e.zero(xVec);

  auto constI8 = [&](int64_t v) {
    return arith::ConstantOp::create(b, i8, b.getIntegerAttr(i8, v)).getResult();
  };
  auto splat = [&](VectorType t, Value v) {
    return vector::BroadcastOp::create(b, t, v).getResult();
  };
  SmallVector<int8_t> ramp;
  for (int64_t l = 0; l < lanes; ++l)
    ramp.push_back(static_cast<int8_t>(l));
  Value rampVec = arith::ConstantOp::create(
      b, byteVec, DenseElementsAttr::get(byteVec, ArrayRef(ramp)));
  Value fifteen = splat(byteVec, constI8(15));
  // Extension masks: one bit per lane, uint16 for G = 16, uint8 otherwise.
  auto maskTensor = cast<RankedTensorType>(masks.getType());
  bool hasMasks = maskTensor.getDimSize(0) != 0;
  Type maskElem = maskTensor.getElementType();
  int64_t maskBits = maskElem.getIntOrFloatBitWidth();
  auto maskWordType = VectorType::get({1}, maskElem);
  auto predType = VectorType::get({maskBits}, b.getI1Type());

  // avg = nnz / rows (integer division, as the encoder).
  Value nnz = arith::IndexCastOp::create(
      b, idx, tensor::ExtractOp::create(b, nnzBuf, e.index(0)));
  Value avg = arith::DivSIOp::create(b, nnz, e.index(m.rows));
  Value c0 = e.index(0), c1 = e.index(1), cG = e.index(lanes);

  // Row loop carries y, the global group index g, the next extension mask
  // and the next value.
  // ... and the current nibble pair (loaded at even groups, reused at odd
  // ones: each 16-byte block is read once; pairs may span rows).
  Value zeroNib = e.zero(byteVec);
  SmallVector<Value> res = forLoop(
      b, c0, e.index(m.rows), c1, {m.y, c0, c0, c0, zeroNib},
      [&](Value r, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0];
        Value off = arith::IndexCastOp::create(
            b, idx, tensor::ExtractOp::create(b, rowOffsets, r));
        Value n = arith::AddIOp::create(b, avg, off);
        Value isEmpty = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, n, c0);
        Value divisor = arith::SelectOp::create(b, isEmpty, c1, n);
        Value half = arith::DivUIOp::create(b, n, e.index(2));
        Value slope = arith::SelectOp::create(
            b, isEmpty, c0,
            arith::DivUIOp::create(
                b, arith::AddIOp::create(b, e.index(m.cols), half), divisor));
        Value step = arith::MulIOp::create(b, slope, cG);
        Value groups = arith::DivUIOp::create(
            b, arith::AddIOp::create(b, n, e.index(lanes - 1)), cG);
        Value slope8 = arith::TruncIOp::create(
            b, i8, arith::IndexCastOp::create(b, i32, slope));
        Value rampS = arith::MulIOp::create(b, rampVec, splat(byteVec, slope8));
        Value acc0 = tensor::ExtractOp::create(b, yt, r);

        // Group loop: acc, g, mask index, value index, base.
        SmallVector<Value> grp = forLoop(
            b, c0, groups, c1, {acc0, in[1], in[2], in[3], c0, in[4]},
            [&](Value j, ValueRange a) -> SmallVector<Value> {
              Value acc = a[0], g = a[1], mi = a[2], v = a[3], base = a[4];
              Value pair = arith::ShRUIOp::create(b, g, c1);
              Value odd = arith::CmpIOp::create(
                  b, arith::CmpIPredicate::ne, arith::AndIOp::create(b, g, c1),
                  c0);
              Value isEven = arith::CmpIOp::create(
                  b, arith::CmpIPredicate::eq, arith::AndIOp::create(b, g, c1),
                  c0);
              auto nibIf = scf::IfOp::create(b, TypeRange{byteVec}, isEven,
                                             /*withElseRegion=*/true);
              {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(nibIf.thenBlock());
                scf::YieldOp::create(
                    b, ValueRange{e.read(byteVec, nibbles,
                                         {arith::MulIOp::create(b, pair, cG)})});
                b.setInsertionPointToStart(nibIf.elseBlock());
                scf::YieldOp::create(b, ValueRange{a[5]});
              }
              Value nib = nibIf.getResult(0);
              // Even groups use the upper nibble: shift by 4, odd by 0.
              Value shift = arith::MulIOp::create(
                  b, arith::SubIOp::create(b, c1, arith::AndIOp::create(b, g, c1)),
                  e.index(4));
              Value shift32 = arith::IndexCastOp::create(b, i32, shift);
              Value shift8 = arith::TruncIOp::create(b, i8, shift32);
              Value delta = arith::AndIOp::create(
                  b, arith::ShRUIOp::create(b, nib, splat(byteVec, shift8)),
                  fifteen);
              Value mapByte = arith::ExtUIOp::create(
                  b, i32, tensor::ExtractOp::create(b, maps, pair));
              Value map = arith::AndIOp::create(
                  b, arith::ShRUIOp::create(b, mapByte, shift32),
                  arith::ConstantIntOp::create(b, i32, 15));
              for (int64_t p = 0; hasMasks && p < 4; ++p) {
                Value bit = arith::AndIOp::create(
                    b, map, arith::ConstantIntOp::create(b, i32, 1 << p));
                Value set = arith::CmpIOp::create(
                    b, arith::CmpIPredicate::ne, bit,
                    arith::ConstantIntOp::create(b, i32, 0));
                auto ifOp = scf::IfOp::create(b, TypeRange{byteVec, idx}, set,
                                              /*withElseRegion=*/true);
                {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPointToStart(ifOp.thenBlock());
                  // The stored lane mask is the lane predicate itself (for
                  // G = 16 an MVE mve_pred16_t): bitcast, no compare.
                  Value word = tensor::ExtractOp::create(b, masks, mi);
                  Value pred = vector::BitCastOp::create(
                      b, predType,
                      vector::BroadcastOp::create(b, maskWordType, word));
                  if (predType.getNumElements() != lanes)
                    pred = vector::ExtractStridedSliceOp::create(
                        b, pred, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{lanes},
                        ArrayRef<int64_t>{1});
                  Value withBit = arith::OrIOp::create(
                      b, delta,
                      splat(byteVec, constI8(static_cast<int8_t>(16 << p))));
                  scf::YieldOp::create(
                      b, ValueRange{arith::SelectOp::create(b, pred, withBit, delta),
                                    arith::AddIOp::create(b, mi, c1)});
                  b.setInsertionPointToStart(ifOp.elseBlock());
                  scf::YieldOp::create(b, ValueRange{delta, mi});
                }
                delta = ifOp.getResult(0);
                mi = ifOp.getResult(1);
              }
              Value code = arith::IndexCastOp::create(
                  b, idx, tensor::ExtractOp::create(b, minimums, g));
              Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                                  j, c0);
              Value advance = arith::SelectOp::create(b, first, c0, step);
              Value newBase = arith::AddIOp::create(
                  b, base, arith::AddIOp::create(b, code, advance));
              Value offsets = e.widenIndices(arith::AddIOp::create(b, rampS, delta));
              Value left = arith::SubIOp::create(
                  b, n, arith::MulIOp::create(b, j, cG));
              Value mask = vector::CreateMaskOp::create(b, maskType, left);
              Value vals = e.read(vVec, values, {v}, mask);
              Value xv = vector::GatherOp::create(b, xVec, m.x, newBase,
                                                  offsets, mask, zeroX);
              Value active = arith::MinUIOp::create(b, left, cG);
              return {e.dot(acc, vals, xv), arith::AddIOp::create(b, g, c1), mi,
                      arith::AddIOp::create(b, v, active), newBase, nib};
            });
        return {tensor::InsertOp::create(b, grp[0], yt, r), grp[1], grp[2],
                grp[3], grp[5]};
      });
  return res[0];
}
