//===- LowerDCSR.cpp - #sparse_enc.dcsr<group> matvec ---------------------===//
//
// Decodes the column indices of each group of G = group entries in vector
// registers (docs/formats.md, "Decoder"):
//
//   delta[l]  = upper nibble of delta_nibbles[(g/2)*G + l] for an even
//               global group index g, lower nibble for an odd one
//             | extension bits: for each set bit p of the group's 4-bit map,
//               the next lane mask of extension_masks, bitcast to a lane
//               predicate (`vector.bitcast vector<1xi16> to vector<16xi1>`:
//               on MVE a `vmsr p0`), ORs bit 4+p into the lanes it names
//   offset[l] = s*l + delta[l]        (8-bit lanes, wrapping only in padding
//                                     lanes, which are masked off)
//   x[base + offset[l]],              base += group_minimums[g] + G*s
//                                     (base starts at -G*s in every row)
//
// An even group reads its pair's 16-byte nibble block and map byte once and
// takes the upper nibbles (vector shift by 4); the block is carried as a loop
// value (also across rows) for the odd group, which takes the lower ones
// (and 15): every weight byte is read once. On cortex-m55 the odd group's
// `vand` replaces the copy of an already masked block into the delta
// register (256x256 90 %: 20,463 -> 20,197 instructions).
//
// Then it gathers x at the columns, loads the group's values with a lane
// predicate (the last group of a row has n - G*j active lanes) and
// multiply-accumulates: on MVE with one widening reduction per group
// (`vmlava`; int8 on rv32gcv likewise, `vwmul` + `vwredsum`), on other
// vector targets lane by lane into accumulators that are reduced once per
// row (rv32gcv 256x256 90 %: 36,304 -> 32,514 instructions; 26,851 since
// it takes the one-loop kernel below). The slope s = (cols + n/2) / n and
// the row's entry count n = nnz/rows + row_offsets[r] are recomputed per
// row, as the format intends (on MVE only for a non-empty row). The map bits
// are tested with scf.if (an extension mask is read only when its bit is
// set, so a matrix without any mask never touches the empty buffer); bits 6
// and 7 are rare and tested only when the map has one of them. The MVE
// matvec first compares the map with its commonest values (3, 1, 0), one
// compare each (ExtensionBits::extendCommonFirst; 256x256 90 %: 20,197 ->
// 19,277 instructions) and starts each row's gather base at x
// (19,020). On MVE every
// read position is a pointer the loop carries and the groups of all rows run in
// one loop (dcsrRowsMVE): 256x256 90 % 28,249 -> 25,597 (pointers) -> 21,757
// instructions (average entries per row a constant, one loop).

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
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <numeric>

using namespace mlir;
using namespace mcusparse::lower;

/// rv32imc: scalar code (vector steps would be scalarised lane by lane
/// under masks). Per group, the nibble of lane l is byte (g/2)*G + l of
/// delta_nibbles shifted right by 4 for an even group (0 for an odd one),
/// and the group's extension masks are interleaved into two words: E holds
/// lane l's delta bits 4 and 5 at bits 2l and 2l+1, F bits 6 and 7 (built
/// only when the map names them); the lane loop shifts E and F right by two
/// per lane, so lane l's extension is (E & 3) << 4 | (F & 3) << 6. F is
/// nonzero in few groups: its lane loop is a separate copy. Column = base +
/// s*l + delta (base + s*l carried as a sum). The odd group re-reads its
/// pair's nibble bytes (no vector register to carry them in). Each entry
/// is decoded once for all pixels of `px`: pixel q adds a byte load of X, a
/// multiply and an add into its own accumulator.
Value mcusparse::lower::dcsrRowsScalar(ImplicitLocOpBuilder &b, Emitter &e,
                                       ArrayRef<Value> buffers, int64_t numRows,
                                       int64_t numCols, int64_t lanes,
                                       const LayerPixels &px) {
  Value values = buffers[0], nibbles = buffers[1], minimums = buffers[2],
        maps = buffers[3], masks = buffers[4], rowOffsets = buffers[5],
        nnzBuf = buffers[6];
  int64_t pixels = px.pixels;
  bool hasMasks = cast<RankedTensorType>(masks.getType()).getDimSize(0) != 0;
  auto i32 = b.getI32Type();
  auto idx = b.getIndexType();
  Value c0 = e.index(0), c1 = e.index(1), cG = e.index(lanes);
  auto constI32 = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, i32, v).getResult();
  };
  auto byteAt = [&](Value t, Value at) {
    return arith::ExtUIOp::create(b, i32, tensor::ExtractOp::create(b, t, at))
        .getResult();
  };
  // The bits of a 16-bit mask to the even bit positions (Morton spread).
  auto spread = [&](Value x) {
    const std::pair<int64_t, int64_t> steps[] = {
        {8, 0x00FF00FF}, {4, 0x0F0F0F0F}, {2, 0x33333333}, {1, 0x55555555}};
    for (auto [shift, keep] : steps)
      x = arith::AndIOp::create(
          b, arith::OrIOp::create(b, x, arith::ShLIOp::create(b, x, constI32(shift))),
          constI32(keep));
    return x;
  };
  // The extension mask of map bit p, spread (0 when unset); advances mi.
  auto maskWord = [&](Value map, int64_t p, Value mi) -> std::pair<Value, Value> {
    Value set = arith::CmpIOp::create(
        b, arith::CmpIPredicate::ne,
        arith::AndIOp::create(b, map, constI32(1 << p)), constI32(0));
    auto ifOp = scf::IfOp::create(b, TypeRange{i32, idx}, set, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value w = arith::ExtUIOp::create(b, i32, tensor::ExtractOp::create(b, masks, mi));
    scf::YieldOp::create(b, ValueRange{spread(w), arith::AddIOp::create(b, mi, c1)});
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, ValueRange{constI32(0), mi});
    return {ifOp.getResult(0), ifOp.getResult(1)};
  };
  // Lane l's bits of two spread masks at bits 2l (lo) and 2l+1 (hi).
  auto pairOf = [&](Value lo, Value hi) {
    return arith::OrIOp::create(b, lo,
                                arith::ShLIOp::create(b, hi, constI32(1)))
        .getResult();
  };

  // accs + the group's lanes [first, first + count).
  auto laneLoop = [&](ValueRange accs, Value first, Value count, Value nibbleAt,
                      Value shift, Value colBase, Value slope, Value E, Value F,
                      bool withF) -> SmallVector<Value> {
    SmallVector<Value> inits(accs);
    inits.append({colBase, E, F});
    SmallVector<Value> out = forLoop(
        b, c0, count, c1, inits,
        [&](Value l, ValueRange all) -> SmallVector<Value> {
          ValueRange sums = all.take_front(pixels), a = all.drop_front(pixels);
          Value byte = byteAt(nibbles, arith::AddIOp::create(b, nibbleAt, l));
          Value d = arith::AndIOp::create(
              b, arith::ShRUIOp::create(b, byte, shift), constI32(15));
          // E bits 0, 1 -> delta bits 4, 5 (F: 6, 7).
          auto ext = [&](Value w, int64_t low) {
            return arith::ShLIOp::create(
                       b, arith::AndIOp::create(b, w, constI32(3)),
                       constI32(low))
                .getResult();
          };
          d = arith::OrIOp::create(b, d, ext(a[1], 4));
          if (withF)
            d = arith::OrIOp::create(b, d, ext(a[2], 6));
          Value col = arith::AddIOp::create(
              b, a[0], arith::IndexCastUIOp::create(b, idx, d));
          auto xAt = [&](int64_t q) -> Value {
            return tensor::ExtractOp::create(b, px.x, px.xIndex(b, e, q, col));
          };
          // One pixel: X before the value, which LLVM's Rocket schedule
          // runs in 3 % fewer cycles (256x256 90 %: 208,073 -> 201,497 core
          // cycles, the same instructions); over 16 pixels the value
          // first (x16: 611,064 against 669,920 cycles, 1.5 % more
          // instructions).
          Value x0 = pixels == 1 ? xAt(0) : Value();
          Value w = tensor::ExtractOp::create(
              b, values, ValueRange{arith::AddIOp::create(b, first, l)});
          SmallVector<Value> next;
          for (int64_t q = 0; q < pixels; ++q)
            next.push_back(e.mulAdd(sums[q], w, x0 ? x0 : xAt(q)));
          next.append({arith::AddIOp::create(b, a[0], slope),
                       arith::ShRUIOp::create(b, a[1], constI32(2)),
                       arith::ShRUIOp::create(b, a[2], constI32(2))});
          return next;
        });
    out.resize(pixels);
    return out;
  };

  DCSRRows rows(e, values, nnzBuf, rowOffsets, numRows, numCols, lanes);
  // Row loop: y, first entry, first group, next extension mask.
  return forLoop(
      b, c0, e.index(numRows), c1, {px.y, c0, c0, c0},
      [&](Value r, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0], rowStart = in[1];
        Value n = rows.entries(r);
        Value slope = rows.slope(n, arith::MaxUIOp::create(b, n, c1));
        Value step = arith::MulIOp::create(b, slope, cG);
        Value groups = rows.groups(n);
        // Group loop: the accumulators, the group, the next extension mask
        // and the base.
        SmallVector<Value> groupInits = px.startSums(b, yt, r);
        groupInits.append({in[2], in[3], arith::SubIOp::create(b, c0, step)});
        SmallVector<Value> grp = forLoop(
            b, c0, groups, c1, groupInits,
            [&](Value j, ValueRange all) -> SmallVector<Value> {
              ValueRange accs = all.take_front(pixels);
              ValueRange a = all.drop_front(pixels);
              Value g = a[0], mi = a[1];
              Value pair = arith::ShRUIOp::create(b, g, c1);
              Value odd = arith::IndexCastOp::create(
                  b, i32, arith::AndIOp::create(b, g, c1));
              // Even group: upper nibbles (shift 4), odd: lower (shift 0).
              Value shift = arith::ShLIOp::create(
                  b, arith::XOrIOp::create(b, odd, constI32(1)), constI32(2));
              Value map = arith::AndIOp::create(
                  b, arith::ShRUIOp::create(b, byteAt(maps, pair), shift),
                  constI32(15));
              Value code = arith::IndexCastOp::create(
                  b, idx, tensor::ExtractOp::create(b, minimums, g));
              Value base = arith::AddIOp::create(
                  b, a[2], arith::AddIOp::create(b, code, step));
              Value E = constI32(0), F = constI32(0);
              if (hasMasks) {
                Value w0, w1;
                std::tie(w0, mi) = maskWord(map, 0, mi);
                std::tie(w1, mi) = maskWord(map, 1, mi);
                E = pairOf(w0, w1);
                // Bits 6 and 7 are rare: only when the map has one.
                Value high = arith::CmpIOp::create(
                    b, arith::CmpIPredicate::uge, map, constI32(4));
                auto ifOp = scf::IfOp::create(b, TypeRange{i32, idx}, high, true);
                {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPointToStart(ifOp.thenBlock());
                  Value w2, w3, k = mi;
                  std::tie(w2, k) = maskWord(map, 2, k);
                  std::tie(w3, k) = maskWord(map, 3, k);
                  scf::YieldOp::create(b, ValueRange{pairOf(w2, w3), k});
                  b.setInsertionPointToStart(ifOp.elseBlock());
                  scf::YieldOp::create(b, ValueRange{constI32(0), mi});
                }
                F = ifOp.getResult(0);
                mi = ifOp.getResult(1);
              }
              Value jG = arith::MulIOp::create(b, j, cG);
              Value first = arith::AddIOp::create(b, rowStart, jG);
              Value count = arith::MinUIOp::create(
                  b, cG, arith::SubIOp::create(b, n, jG));
              Value nibbleAt = arith::MulIOp::create(b, pair, cG);
              SmallVector<Value> out;
              if (hasMasks) {
                auto ifOp = scf::IfOp::create(
                    b, accs.getTypes(),
                    arith::CmpIOp::create(b, arith::CmpIPredicate::eq, F,
                                          constI32(0)),
                    true);
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(ifOp.thenBlock());
                scf::YieldOp::create(b, laneLoop(accs, first, count, nibbleAt,
                                                 shift, base, slope, E, F,
                                                 /*withF=*/false));
                b.setInsertionPointToStart(ifOp.elseBlock());
                scf::YieldOp::create(b, laneLoop(accs, first, count, nibbleAt,
                                                 shift, base, slope, E, F,
                                                 /*withF=*/true));
                out.append(ifOp.getResults().begin(), ifOp.getResults().end());
              } else {
                out = laneLoop(accs, first, count, nibbleAt, shift, base, slope,
                               E, F, /*withF=*/false);
              }
              out.append({arith::AddIOp::create(b, g, c1), mi, base});
              return out;
            });
        for (int64_t q = 0; q < pixels; ++q)
          yt = tensor::InsertOp::create(b, grp[q], yt, px.yAt(r, q));
        return {yt, arith::AddIOp::create(b, rowStart, n), grp[pixels],
                grp[pixels + 1]};
      })[0];
}

namespace {
/// An scf.if with `results`: the values thenFn() and elseFn() yield.
template <typename ThenFn, typename ElseFn>
SmallVector<Value> ifElse(ImplicitLocOpBuilder &b, TypeRange results,
                          Value cond, ThenFn thenFn, ElseFn elseFn) {
  auto op = scf::IfOp::create(b, results, cond, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(op.thenBlock());
  scf::YieldOp::create(b, thenFn());
  b.setInsertionPointToStart(op.elseBlock());
  scf::YieldOp::create(b, elseFn());
  return SmallVector<Value>(op.getResults());
}

/// The vector decode of a group's extension bits (docs/formats.md): for
/// each set bit p of the group's 4-bit map, the next stored lane mask,
/// bitcast to a lane predicate (for G = 16 an MVE mve_pred16_t: `vmsr p0`),
/// ORs bit 4+p into the lanes it names. The read position of the next mask
/// is an index into extension_masks, or a pointer (Pointers.cpp) when
/// `ptrs` is set.
struct ExtensionBits {
  Emitter &e;
  Value masks;
  Pointers *ptrs;
  int64_t lanes;

  Value constI32(int64_t v) {
    return arith::ConstantIntOp::create(e.b, e.b.getI32Type(), v);
  }
  Value splatI8(int64_t v) {
    auto i8 = e.b.getI8Type();
    return vector::BroadcastOp::create(
        e.b, VectorType::get({lanes}, i8),
        arith::ConstantOp::create(e.b, i8, e.b.getIntegerAttr(i8, v)));
  }
  /// OR bit 4+p into the lanes named by mask `word`.
  Value orUnder(Value word, int64_t p, Value delta) {
    ImplicitLocOpBuilder &b = e.b;
    Type maskElem = word.getType();
    int64_t maskBits = maskElem.getIntOrFloatBitWidth();
    auto predType = VectorType::get({maskBits}, b.getI1Type());
    // The stored lane mask is the lane predicate itself: bitcast, no compare.
    Value pred = vector::BitCastOp::create(
        b, predType,
        vector::BroadcastOp::create(b, VectorType::get({1}, maskElem), word));
    if (maskBits != lanes) {
      // The first `lanes` bits (G = 4: an 8-bit mask word). A shuffle, not
      // extract_strided_slice: convert-to-llvm lowers it directly.
      SmallVector<int64_t> first(lanes);
      std::iota(first.begin(), first.end(), 0);
      pred = vector::ShuffleOp::create(b, pred, pred, first);
    }
    Value withBit = arith::OrIOp::create(
        b, delta, splatI8(static_cast<int8_t>(16 << p)));
    return arith::SelectOp::create(b, pred, withBit, delta);
  }
  /// OR bit 4+p into the lanes of the next mask; returns the deltas and the
  /// position after that mask.
  std::pair<Value, Value> apply(int64_t p, Value delta, Value at) {
    ImplicitLocOpBuilder &b = e.b;
    Type maskElem = cast<RankedTensorType>(masks.getType()).getElementType();
    Value word = ptrs ? ptrs->load(maskElem, at)
                      : tensor::ExtractOp::create(b, masks, at).getResult();
    Value next = ptrs ? ptrs->advance(at, maskElem, e.index(1))
                      : arith::AddIOp::create(b, at, e.index(1)).getResult();
    return {orUnder(word, p, delta), next};
  }
  /// Map bit p set: OR bit 4+p into the lanes of the next mask.
  std::pair<Value, Value> extend(Value map, int64_t p, Value delta, Value at) {
    ImplicitLocOpBuilder &b = e.b;
    Value set = arith::CmpIOp::create(
        b, arith::CmpIPredicate::ne,
        arith::AndIOp::create(b, map, constI32(1 << p)), constI32(0));
    SmallVector<Value> r = ifElse(
        b, TypeRange{delta.getType(), at.getType()}, set,
        [&]() -> SmallVector<Value> {
          auto [withBit, next] = apply(p, delta, at);
          return {withBit, next};
        },
        [&]() -> SmallVector<Value> { return {delta, at}; });
    return {r[0], r[1]};
  }
  /// Bits 4 and 5 are common, 6 and 7 rare: the rare pair is tested only
  /// when the map has any of them.
  std::pair<Value, Value> extendAll(Value map, Value delta, Value at) {
    ImplicitLocOpBuilder &b = e.b;
    std::tie(delta, at) = extend(map, 0, delta, at);
    std::tie(delta, at) = extend(map, 1, delta, at);
    Value high = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, map,
                                       constI32(4));
    SmallVector<Value> r = ifElse(
        b, TypeRange{delta.getType(), at.getType()}, high,
        [&]() -> SmallVector<Value> {
          Value d = delta, i = at;
          std::tie(d, i) = extend(map, 2, d, i);
          std::tie(d, i) = extend(map, 3, d, i);
          return {d, i};
        },
        [&]() -> SmallVector<Value> { return {delta, at}; });
    return {r[0], r[1]};
  }
  /// The commonest maps first, each with one compare and no bit tests:
  /// bits 4 and 5 (map 3: both 16-bit masks read as one 32-bit word), bit 4
  /// alone (1), none (0); any other map takes extendAll. 256x256 90 %: 238,
  /// 209 and 66 of 532 groups, the other 19. Maps 3 and 1 then share one OR
  /// of bit 4 (LLVM's jump threading removes the test of `bitFourPending`):
  /// MVE constants are not merged across blocks, and a second splat of 16
  /// took the q register of the odd group's 15. The mask position steps by
  /// integer adds (Pointers::advanceBytes): as GEPs, CodeGenPrepare rebased
  /// the +4 of map 3 on map 1's +2, a pointer copy in every group.
  std::pair<Value, Value> extendCommonFirst(Value map, Value delta, Value at) {
    assert(ptrs && lanes == 16 && "the MVE kernel's 16-bit masks by pointer");
    ImplicitLocOpBuilder &b = e.b;
    auto i1 = b.getI1Type(), i16 = b.getI16Type(), i32 = b.getI32Type();
    Value yes = arith::ConstantIntOp::create(b, i1, 1);
    Value no = arith::ConstantIntOp::create(b, i1, 0);
    SmallVector<Type> types{delta.getType(), i32, at.getType(), i1};
    // Map == value, with the probability that it is, given that the cases
    // tested before did not match: LLVM turns the tests into one switch and
    // keeps this order.
    auto is = [&](int64_t value, double probability) {
      return LLVM::ExpectWithProbabilityOp::create(
          b,
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, map,
                                constI32(value)),
          yes, b.getF64FloatAttr(probability));
    };
    auto ifThen = [&](Value cond, auto thenFn, auto elseFn) {
      return ifElse(b, types, cond, thenFn, elseFn);
    };
    // (deltas, bit-4 mask word, next mask position, bit 4 pending)
    SmallVector<Value> r = ifThen(
        is(3, 0.45),
        [&]() -> SmallVector<Value> {
          Value pair = ptrs->load(i32, at);
          Value high = arith::TruncIOp::create(
              b, i16, arith::ShRUIOp::create(b, pair, constI32(16)));
          return {orUnder(high, 1, delta), pair, ptrs->advanceBytes(at, 4),
                  yes};
        },
        [&]() -> SmallVector<Value> {
          return ifThen(
              is(1, 0.7),
              [&]() -> SmallVector<Value> {
                return {delta,
                        arith::ExtUIOp::create(b, i32, ptrs->load(i16, at)),
                        ptrs->advanceBytes(at, 2), yes};
              },
              [&]() -> SmallVector<Value> {
                return ifThen(
                    is(0, 0.75),
                    [&]() -> SmallVector<Value> {
                      return {delta, constI32(0), at, no};
                    },
                    [&]() -> SmallVector<Value> {
                      auto [d, next] = extendAll(map, delta, at);
                      return {d, constI32(0), next, no};
                    });
              });
        });
    Value bitFourPending = r[3];
    Value withBitFour = ifElse(
        b, TypeRange{delta.getType()}, bitFourPending,
        [&]() -> SmallVector<Value> {
          return {orUnder(arith::TruncIOp::create(b, i16, r[1]), 0, r[0])};
        },
        [&]() -> SmallVector<Value> { return {r[0]}; })[0];
    return {withBitFour, r[2]};
  }
};
} // namespace

/// cortex-m55: the groups of all rows run in one loop (scf.while): before
/// each group one compare and branch test whether the row is used up
/// (entries left <= 0), and only then do its sum get stored and the next
/// row set up, so groups and rows share one loop end and one set of
/// registers (256x256 90 %: 24,797 -> 21,757 instructions against a row
/// loop around a group loop). An outer loop only steps over empty rows (no
/// slope division for them). Every storage read position is
/// a pointer (Pointers.cpp) the loop carries: the values, the group
/// minimums, the nibble pair, its map byte and the next extension mask, and
/// the gather base x + base. Each group's lane mask is
/// get.active.lane.mask(0, entries left) (`vctp.8`), and one `vmlava` per
/// group reduces its products. The values pointer moves G per group and
/// steps back by the last group's padding at the row's end.
///
/// The row test compares the entries left before the last group with G
/// (unsigned, more than G: the row goes on) next to the subtraction of the
/// same G, so that on Arm `subs r, #16` sets the flags for the branch
/// (`bhi`); testing the entries left after it for <= 0 needed a `cmp r, #0`
/// besides (a signed compare with 0 cannot reuse the flags of a subtraction
/// that may overflow). 256x256 90 %: 21,526 -> 20,463 instructions, 29,374
/// -> 28,843 modeled cycles at 4 ws (the value load and the gather now also
/// share one `vpstt`).
///
/// The same loop serves the layer matmul (LayerPixels): each group's decode
/// is shared by all pixels, which add one gather and one `vmlava` each.
Value mcusparse::lower::dcsrRowsMVE(ImplicitLocOpBuilder &b, Emitter &e,
                                    ArrayRef<Value> buffers, int64_t numRows,
                                    int64_t numCols, const LayerPixels &px,
                                    bool rvv) {
  const int64_t lanes = 16;
  Pointers ptrs{e};
  Value values = buffers[0], nibbles = buffers[1], minimums = buffers[2],
        maps = buffers[3], masks = buffers[4], rowOffsets = buffers[5],
        nnzBuf = buffers[6];
  bool hasMasks = cast<RankedTensorType>(masks.getType()).getDimSize(0) != 0;
  ExtensionBits ext{e, masks, &ptrs, lanes};
  auto i8 = b.getI8Type(), i32 = b.getI32Type(), i1 = b.getI1Type();
  auto idx = b.getIndexType();
  DCSRGroupTypes group(e, i8, i8, lanes);
  VectorType byteVec = group.bytes, maskType = group.mask, vVec = group.values,
             xVec = group.x;
  Value c0 = e.index(0), c1 = e.index(1), cG = e.index(lanes);
  Value rowCount = e.index(numRows);
  Value fifteen = ext.splatI8(15), four = ext.splatI8(4);
  DCSRRows rows(e, values, nnzBuf, rowOffsets, numRows, numCols, lanes);
  Value xPtr = px.xPtr, fillValue = px.fillValue;
  int64_t pixels = px.pixels;
  const auto &yAt = px.yAt;
  Type yType = px.y.getType();
  // The cortex-m55 matvec (not rv32gcv, not the batched kernels, where
  // each measured worse) tests the commonest extension maps first, and
  // carries the next group's base before its code (base + G*s after each
  // gather), so that a row starts from x itself: one `sub` fewer per row
  // (256x256 90 %: 19,277 -> 19,020 instructions, but 27,654 -> 27,908
  // modeled cycles at 4 ws: the row set-up's `udiv` result is used one
  // instruction sooner). The batched kernels keep x - G*s (256x256 x16
  // +1.3 % instructions, layers -3.8 % to +4.5 %).
  const bool mveMatvec = !rvv && pixels == 1;
  // The rv32gcv matvec keeps i32 lane sums that are never reset (as the
  // byte-delta and CSR rows do): a group adds its products to the lanes
  // (`vwmul` + `vwadd.wv` under the mask), and the row's sum is the carried
  // scalar plus the lanes' total, one reduction per row instead of one per
  // group. The carried scalar starts a row at y[r] minus the total so far.
  const bool laneSums = rvv && pixels == 1;
  // Row r's accumulators as they start; `total`: the lane sums' total.
  auto startAccs = [&](Value yt, Value r, Value total) {
    SmallVector<Value> accs = px.startSums(b, yt, r);
    if (laneSums)
      accs[0] = arith::SubIOp::create(b, accs[0], total);
    return accs;
  };

  // The loop state: y, the next row to set up, the current row's entries
  // left (for the group loop's test: as they were before the last group, G
  // more than the next group has, and n + G before a row's first group),
  // gather base, G*s and ramp*s, then the read positions, the pair's nibble
  // block (the odd group's deltas in its lower nibbles) and the map byte |
  // 256 after an even group (0 before one: the parity and the map in one
  // register, one `orr`; pairs may span rows), and the current row's sums
  // (one per pixel; with laneSums then the lane sums, at kAccs + 1).
  enum {
    kY, kNextRow, kLeft, kBase, kStep, kRampS,
    kValues, kMin, kNibble, kMap, kMask, kOdd, kOddMap, kAccs
  };
  const int64_t kLanes = kAccs + pixels;
  VectorType laneType = VectorType::get({lanes}, e.accType);
  SmallVector<Value> inits{px.y,
                           c0,
                           c0,
                           xPtr,
                           c0,
                           e.zero(byteVec),
                           ptrs.to(values),
                           ptrs.to(minimums),
                           ptrs.to(nibbles),
                           ptrs.to(maps),
                           ptrs.to(masks),
                           e.zero(byteVec),
                           ext.constI32(0)};
  inits.append(pixels, e.zero(e.accType));
  if (laneSums)
    inits.push_back(e.zero(laneType));
  SmallVector<Type> types(ValueRange(inits).getTypes());
  SmallVector<Location> locs(types.size(), b.getLoc());
  auto below = [&](Value r) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, r, rowCount);
  };
  auto laneTotal = [&](ValueRange s) -> Value {
    return laneSums ? vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                                  s[kLanes])
                          .getResult()
                    : Value();
  };
  // Pixel q's sum of the current row.
  auto rowSum = [&](ValueRange s, int64_t q, Value total) -> Value {
    return laneSums ? arith::AddIOp::create(b, s[kAccs], total).getResult()
                    : s[kAccs + q];
  };

  // A row is used up (entries left <= 0): store its sum in y and set up
  // row nextRow when it exists and has entries (`more`). `started`: a row
  // was set up before (false only before the first row).
  auto nextRow = [&](SmallVector<Value> s, Value started)
      -> std::pair<SmallVector<Value>, Value> {
    Value current = arith::SubIOp::create(b, s[kNextRow], c1);
    Value total = laneTotal(s);
    auto store = [&]() -> SmallVector<Value> {
      Value yt = s[kY];
      for (int64_t q = 0; q < pixels; ++q)
        yt = tensor::InsertOp::create(b, rowSum(s, q, total), yt,
                                      yAt(current, q));
      return {yt};
    };
    s[kY] = started ? ifElse(b, TypeRange{yType}, started, store,
                             [&]() -> SmallVector<Value> { return {s[kY]}; })[0]
                    : store()[0];
    // The last group read -left padding values.
    s[kValues] = ptrs.advance(s[kValues], i8, s[kLeft]);
    s[kLeft] = c0;
    Value r = s[kNextRow];
    Value n = ifElse(
        b, TypeRange{idx}, below(r),
        [&]() -> SmallVector<Value> { return {rows.entries(r)}; },
        [&]() -> SmallVector<Value> { return {c0}; })[0];
    Value more = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, n, c0);
    SmallVector<Value> out = ifElse(
        b, types, more,
        [&]() -> SmallVector<Value> {
          SmallVector<Value> u(s);
          Value slope = rows.slope(n, n);
          u[kStep] = arith::MulIOp::create(b, slope, cG);
          u[kRampS] = rows.rampTimes(group.ramp, slope);
          // The row's first group lands on its absolute minimum: the
          // carried base is x (the next group's base before its code), or
          // x - G*s when each group adds code + G*s.
          u[kBase] = mveMatvec
                         ? xPtr
                         : ptrs.advance(xPtr, i8,
                                        arith::SubIOp::create(b, c0, u[kStep]));
          u[kNextRow] = arith::AddIOp::create(b, r, c1);
          u[kLeft] = n;
          llvm::copy(startAccs(s[kY], r, total), u.begin() + kAccs);
          return u;
        },
        [&]() -> SmallVector<Value> { return s; });
    return {out, more};
  };

  // One group of the current row (a[kLeft]: its entries left, > 0); the
  // next iteration's test takes them as they are.
  auto groupStep = [&](ValueRange a) -> SmallVector<Value> {
    // An even group reads its pair's nibble block and map byte (upper
    // nibbles) and keeps the block for the odd group (lower nibbles).
    Value isEven = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                         a[kOddMap], ext.constI32(0));
    SmallVector<Value> pair = ifElse(
        b, TypeRange{byteVec, byteVec, i32, i32, ptrs.type(), ptrs.type()},
        isEven,
        [&]() -> SmallVector<Value> {
          Value block = ptrs.read(byteVec, a[kNibble]);
          Value mapByte = arith::ExtUIOp::create(b, i32, ptrs.load(i8, a[kMap]));
          return {arith::ShRUIOp::create(b, block, four),
                  block,
                  arith::ShRUIOp::create(b, mapByte, ext.constI32(4)),
                  arith::OrIOp::create(b, mapByte, ext.constI32(256)),
                  ptrs.advance(a[kNibble], i8, cG),
                  ptrs.advance(a[kMap], i8, c1)};
        },
        [&]() -> SmallVector<Value> {
          return {arith::AndIOp::create(b, a[kOdd], fifteen),
                  a[kOdd],
                  arith::AndIOp::create(b, a[kOddMap], ext.constI32(15)),
                  ext.constI32(0),
                  a[kNibble],
                  a[kMap]};
        });
    Value delta = pair[0], maskAt = a[kMask];
    if (hasMasks)
      // rv32gcv and the batched kernels: the per-bit tests (the common maps
      // first took 12-18 % more instructions on rv32gcv; batched cortex-m55
      // kernels -7 % to +9 %, SpMM x16 up to 9 % more).
      std::tie(delta, maskAt) =
          mveMatvec ? ext.extendCommonFirst(pair[2], delta, maskAt)
                    : ext.extendAll(pair[2], delta, maskAt);
    Value code = arith::IndexCastOp::create(b, idx, ptrs.load(i8, a[kMin]));
    Value base = mveMatvec ? ptrs.advance(a[kBase], i8, code)
                           : ptrs.advance(ptrs.advance(a[kBase], i8, a[kStep]),
                                          i8, code);
    Value offsets = e.widenIndices(arith::AddIOp::create(b, a[kRampS], delta));
    // get.active.lane.mask(0, left) (`vctp.8`): left > 0 here, no clamp
    // needed. RVV: one narrow compare (Emitter::lanesBelow; a row holds at
    // most cols entries), at e8 like the group's other vector instructions
    // (256x256 90 % rv32gcv matvec: 25,214 -> 24,682 instructions).
    Value mask = rvv ? e.lanesBelow(lanes, a[kLeft], numCols,
                                    /*narrowByOne=*/true)
                     : LLVM::GetActiveLaneMaskOp::create(
                           b, maskType, ext.constI32(0),
                           arith::IndexCastOp::create(b, i32, a[kLeft]))
                           .getResult();
    // rv32gcv with one pixel: only the mask's lanes are summed (the lane
    // sums' select, or dcsrPixelDots), so the masked-off values may be
    // undefined.
    Value v = ptrs.read(vVec, a[kValues], mask,
                        /*undefTail=*/dcsrDotsSumMaskOnly(px, rvv));
    SmallVector<Value> next(a);
    if (laneSums) {
      Value xv = ptrs.gather(xVec, base, offsets, mask, e.poison(xVec));
      next[kLanes] = e.macLanesMasked(a[kLanes], v, xv, mask,
                                      /*i16Products=*/true);
    } else {
      llvm::copy(dcsrPixelDots(e, ptrs, px, xVec, base, offsets, mask, v,
                               a.slice(kAccs, pixels), rvv),
                 next.begin() + kAccs);
    }
    next[kBase] = mveMatvec ? ptrs.advance(base, i8, a[kStep]) : base;
    next[kValues] = ptrs.advance(a[kValues], i8, cG);
    next[kMin] = ptrs.advance(a[kMin], i8, c1);
    next[kNibble] = pair[4];
    next[kMap] = pair[5];
    next[kMask] = maskAt;
    next[kOdd] = pair[1];
    next[kOddMap] = pair[3];
    next[kLeft] = a[kLeft];
    return next;
  };

  // Groups; when a row is used up (its entries left before the last group
  // were at most G), the next row's set-up before the next group (one back
  // edge: a second one, straight from the group, would make LLVM split the
  // loop into a row loop around a group loop again). Leaves at an empty row
  // and after the last row.
  auto groupLoop = [&](ValueRange inits) -> SmallVector<Value> {
    auto loop = scf::WhileOp::create(b, types, inits);
    OpBuilder::InsertionGuard guard(b);
    Block *before = b.createBlock(&loop.getBefore(), {}, types, locs);
    SmallVector<Value> in(before->getArguments());
    SmallVector<Type> withMore(types);
    withMore.push_back(i1);
    Value previous = in[kLeft];
    in[kLeft] = arith::SubIOp::create(b, previous, cG);
    SmallVector<Value> out = ifElse(
        b, withMore,
        arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, previous, cG),
        [&]() -> SmallVector<Value> {
          SmallVector<Value> s(in);
          s.push_back(arith::ConstantIntOp::create(b, i1, 1));
          return s;
        },
        [&]() -> SmallVector<Value> {
          auto [s, more] = nextRow(in, /*started=*/{});
          s.push_back(more);
          return s;
        });
    Value more = out.pop_back_val();
    scf::ConditionOp::create(b, more, out);
    Block *after = b.createBlock(&loop.getAfter(), {}, types, locs);
    scf::YieldOp::create(b, groupStep(after->getArguments()));
    return SmallVector<Value>(loop.getResults());
  };

  // Rows: set up the next one, run groups until an empty row or the end,
  // step over that empty row r (its sum is y[r] itself, which the next
  // set-up stores back unchanged).
  auto outer = scf::WhileOp::create(b, types, inits);
  {
    OpBuilder::InsertionGuard guard(b);
    Block *before = b.createBlock(&outer.getBefore(), {}, types, locs);
    scf::ConditionOp::create(b, below(before->getArgument(kNextRow)),
                             before->getArguments());
    Block *after = b.createBlock(&outer.getAfter(), {}, types, locs);
    SmallVector<Value> in(after->getArguments());
    auto [s, more] = nextRow(
        in, arith::CmpIOp::create(b, arith::CmpIPredicate::ugt,
                                  in[kNextRow], c0));
    s = ifElse(
        b, types, more,
        [&]() {
          SmallVector<Value> g(s);
          g[kLeft] = arith::AddIOp::create(b, s[kLeft], cG);
          return groupLoop(g);
        },
        [&]() -> SmallVector<Value> { return s; });
    Value r = s[kNextRow];
    SmallVector<Type> skipTypes(pixels, e.accType);
    skipTypes.push_back(idx);
    SmallVector<Value> skipped = ifElse(
        b, skipTypes, below(r),
        [&]() -> SmallVector<Value> {
          SmallVector<Value> out = startAccs(s[kY], r, laneTotal(s));
          out.push_back(arith::AddIOp::create(b, r, c1));
          return out;
        },
        [&]() -> SmallVector<Value> {
          SmallVector<Value> out(ArrayRef<Value>(s).slice(kAccs, pixels));
          out.push_back(r);
          return out;
        });
    llvm::copy(ArrayRef<Value>(skipped).take_front(pixels), s.begin() + kAccs);
    s[kNextRow] = skipped[pixels];
    scf::YieldOp::create(b, s);
  }
  // A skipped empty row's sums are stored by the next set-up, and a last
  // empty row has none after it. Its sums are y's own values, except when
  // they start from a fill that Y has not received: then the sums of row
  // nextRow - 1 are stored once more.
  Value yt = outer.getResult(kY);
  if (!fillValue || numRows == 0)
    return yt;
  Value last = arith::SubIOp::create(b, outer.getResult(kNextRow), c1);
  Value total = laneTotal(outer.getResults());
  for (int64_t q = 0; q < pixels; ++q)
    yt = tensor::InsertOp::create(b, rowSum(outer.getResults(), q, total), yt,
                                  yAt(last, q));
  return yt;
}

FailureOr<Value> mcusparse::lower::lowerDCSR(ImplicitLocOpBuilder &b,
                                             const MatvecOperands &m,
                                             const LowerOptions &opts) {
  auto dcsr = cast<mcusparse::sparse_enc::DCSRAttr>(m.weightType.getEncoding());
  if (opts.scalarOnly()) {
    Emitter e{b, m.accType};
    return dcsrRowsScalar(b, e, m.buffers, m.rows, m.cols, dcsr.getGroup(),
                          LayerPixels::matvec(m));
  }
  // rv32gcv takes the same loop for int8 (256x256 90 %: 32,182 -> 26,851
  // instructions against the lane-accumulator loop below; 64x64 80 %
  // 4,787 -> 3,805, 512x1024 90 % 183,691 -> 162,151). Its byte-delta
  // counterpart does not gain there (LowerDCSRBytes.cpp).
  bool rvv = opts.rvv();
  if ((opts.mve() || rvv) && isInt8DCSRKernel(m, dcsr.getGroup())) {
    Emitter e{b, m.accType};
    Pointers ptrs{e};
    return dcsrRowsMVE(b, e, m.buffers, m.rows, m.cols,
                       LayerPixels::matvec(m, ptrs.to(m.x)), rvv);
  }
  // Other vector targets, and MVE or RVV with other than int8 elements:
  // products in lane accumulators, one reduction per row.
  Emitter e{b, m.accType};
  Value values = m.buffers[0], nibbles = m.buffers[1], minimums = m.buffers[2],
        maps = m.buffers[3], masks = m.buffers[4], rowOffsets = m.buffers[5],
        nnzBuf = m.buffers[6];
  int64_t lanes = dcsr.getGroup();
  bool hasMasks = cast<RankedTensorType>(masks.getType()).getDimSize(0) != 0;
  ExtensionBits ext{e, masks, /*ptrs=*/nullptr, lanes};
  auto i32 = b.getI32Type();
  auto idx = b.getIndexType();
  DCSRGroupTypes group(e, m, lanes);
  VectorType byteVec = group.bytes, maskType = group.mask, vVec = group.values,
             xVec = group.x;
  Value rampVec = group.ramp;
  Value fifteen = ext.splatI8(15), four = ext.splatI8(4);
  DCSRRows rows(e, m.buffers[0], nnzBuf, rowOffsets, m.rows, m.cols, lanes);
  Value c0 = e.index(0), c1 = e.index(1), cG = e.index(lanes);

  // Row loop carries y, the global group index g, the next extension mask,
  // the row's first value, and the odd group's deltas and map of the
  // current nibble pair (pairs may span rows).
  return forLoop(
      b, c0, e.index(m.rows), c1,
      {m.y, c0, c0, c0, e.zero(byteVec), ext.constI32(0)},
      [&](Value r, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0], rowStart = in[3];
        Value n = rows.entries(r);
        Value acc0 = tensor::ExtractOp::create(b, yt, r);
        // An empty row has no groups; its slope (divisor clamped) is unused.
        Value slope = rows.slope(n, arith::MaxUIOp::create(b, n, c1));
        Value step = arith::MulIOp::create(b, slope, cG);
        Value rampS = rows.rampTimes(rampVec, slope);
        // base + code + step at every group: the row's first group then
        // lands on its absolute minimum.
        Value base0 = arith::SubIOp::create(b, c0, step);

        // Group loop: lane sums, g, mask index, base, odd deltas, odd map.
        SmallVector<Value> grp = forLoop(
            b, c0, rows.groups(n), c1,
            {e.zero(VectorType::get({lanes}, m.accType)), in[1], in[2], base0,
             in[4], in[5]},
            [&](Value j, ValueRange a) -> SmallVector<Value> {
              Value acc = a[0], g = a[1], mi = a[2], base = a[3];
              // An even group reads its pair's nibble block and map byte
              // (upper nibbles) and keeps the lower ones for the odd group.
              // a[5] is the odd group's map | 16 after an even group, 0
              // before one: the parity and the map in one register.
              Value isEven = arith::CmpIOp::create(
                  b, arith::CmpIPredicate::eq, a[5], ext.constI32(0));
              auto pairIf = scf::IfOp::create(
                  b, TypeRange{byteVec, byteVec, i32, i32}, isEven,
                  /*withElseRegion=*/true);
              {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(pairIf.thenBlock());
                Value pair = arith::ShRUIOp::create(b, g, c1);
                Value block = e.read(byteVec, nibbles,
                                     {arith::MulIOp::create(b, pair, cG)});
                Value mapByte = arith::ExtUIOp::create(
                    b, i32, tensor::ExtractOp::create(b, maps, pair));
                scf::YieldOp::create(
                    b, ValueRange{arith::ShRUIOp::create(b, block, four),
                                  arith::AndIOp::create(b, block, fifteen),
                                  arith::ShRUIOp::create(b, mapByte,
                                                         ext.constI32(4)),
                                  arith::OrIOp::create(
                                      b,
                                      arith::AndIOp::create(b, mapByte,
                                                            ext.constI32(15)),
                                      ext.constI32(16))});
                b.setInsertionPointToStart(pairIf.elseBlock());
                scf::YieldOp::create(
                    b, ValueRange{a[4], a[4],
                                  arith::AndIOp::create(b, a[5],
                                                        ext.constI32(15)),
                                  ext.constI32(0)});
              }
              Value delta = pairIf.getResult(0), map = pairIf.getResult(2);
              if (hasMasks)
                std::tie(delta, mi) = ext.extendAll(map, delta, mi);
              Value code = arith::IndexCastOp::create(
                  b, idx, tensor::ExtractOp::create(b, minimums, g));
              Value newBase = arith::AddIOp::create(
                  b, base, arith::AddIOp::create(b, code, step));
              Value offsets =
                  e.widenIndices(arith::AddIOp::create(b, rampS, delta));
              Value jG = arith::MulIOp::create(b, j, cG);
              Value mask = vector::CreateMaskOp::create(
                  b, maskType, ValueRange{arith::SubIOp::create(b, n, jG)});
              // Masked-off lanes undefined, their accumulators kept (RVV:
              // masked loads without a zero copy, a masked vwmacc).
              Value v = e.readUndefTail(
                  vVec, values, {arith::AddIOp::create(b, rowStart, jG)}, mask);
              Value xv = vector::GatherOp::create(b, xVec, m.x, newBase,
                                                  offsets, mask, e.poison(xVec));
              return {e.macLanesMasked(acc, v, xv, mask),
                      arith::AddIOp::create(b, g, c1), mi, newBase,
                      pairIf.getResult(1), pairIf.getResult(3)};
            });
        Value acc = vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                                grp[0], acc0);
        return {tensor::InsertOp::create(b, acc, yt, r), grp[1], grp[2],
                arith::AddIOp::create(b, rowStart, n), grp[4], grp[5]};
      })[0];
}
