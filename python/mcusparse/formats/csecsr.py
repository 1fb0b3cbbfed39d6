"""CSE-CSR: CSR extended with common subexpressions (Bilgili, Yurdakul,
arXiv 2303.16106).

When columns p and q hold the same pair of values (a, b) in several rows,
a*x[p] + b*x[q] is computed once, as a subexpression, and every such row
refers to it instead of holding both entries. A subexpression's operands may
be earlier subexpressions (coefficient 1), so the table is an adder tree.

Components (in flash order; S subexpressions, P plain entries, R references):
    values        int8/float32 [P]     coefficients of the plain entries, row by row
    col_idx       uint16       [P+R]   row r's entries [row_ptr[r], row_ptr[r+1]), ascending:
                                       first its plain entries' columns (< cols), then
                                       cols + k for each subexpression k it adds, then
                                       cols + S + k for each one it subtracts
    row_ptr       uint16       [rows+1]
    sub_operands  uint16       [2S]    operands of subexpression k at 2k and 2k+1: an
                                       operand below cols is column x[operand], any other
                                       is subexpression operand - cols, always < k
    sub_values    int8/float32 [2S]    the operands' coefficients
Without subexpressions this is CSR, byte for byte (plus two empty
components). The row pointer is uint32 when a count passes 65535 (as in
CSR); at most (65535 - cols) / 2 subexpressions are made, so every index fits
uint16. A row's plain entries are the first row_ptr-range entries below
cols, so `values` advances only over them.

Evaluation: t[k] = sub_values[2k] * u[sub_operands[2k]] + sub_values[2k+1] *
u[sub_operands[2k+1]] for k = 0 .. S-1, with u = x followed by t; then
y[r] = sum over row r's entries: values * x[col] for col < cols, + t[col - cols]
for col < cols + S, - t[col - cols - S] beyond.

The search (`find_subexpressions`) works in rounds. Each round counts, over
every row, the pairs of entries (column or subexpression, value) that occur
together; rows with more entries than the pair budget allows contribute a
random sample of their entries (the paper's random search over column
pairs, seeded, so the result is deterministic). The most frequent pairs
become subexpressions in every row that still holds both entries, when that
saves bytes. Rounds repeat until one makes nothing new: pairs of
subexpressions then form the deeper levels of the tree.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from mcusparse.formats.csr import INDEX_LIMIT

INDEX_BYTES = 2            # a uint16 column, subexpression or operand index
DEFAULT_PAIR_BUDGET = 2_000_000   # pairs counted per round
DEFAULT_CANDIDATES = 50_000       # most frequent pairs tried per round


def _pointer_dtype(count: int) -> str:
    return "<u2" if count <= INDEX_LIMIT else "<u4"


@dataclass
class SearchStats:
    """What the search did: rounds, subexpressions made, seconds taken."""
    rounds: int
    subexpressions: int
    seconds: float


class _State:
    """Rows as sets of entry keys during the search.

    An entry key is ref * V + code: ref a column (< cols) or cols + k for
    subexpression k, code the index of the entry's coefficient in `table`
    (references have coefficient +1 or -1). A pair of entries and its
    negation (-a, -b) count as one candidate: a row holding the negated pair
    subtracts the subexpression.
    """

    def __init__(self, W: np.ndarray):
        self.rows, self.cols = W.shape
        row_of, col_of = np.nonzero(W)
        found = W[row_of, col_of]
        one = np.array([1, -1], dtype=W.dtype)
        signed = np.concatenate([found, -found]) if W.dtype.kind == "f" else \
            np.concatenate([found, (-found[found != -128].astype(np.int16)).astype(W.dtype)])
        self.table = np.unique(np.concatenate([signed, one]))
        self.V = int(self.table.size)
        codes = np.searchsorted(self.table, found)
        self.negate = np.searchsorted(self.table, -self.table)   # table is closed under negation
        self.negative = self.table < 0
        if W.dtype.kind == "i":                                  # -128 has no negation
            self.negate[self.table == -128] = -1
        self.plus, self.minus = (int(np.searchsorted(self.table, v)) for v in (1, -1))
        keys = col_of.astype(np.int64) * self.V + codes.astype(np.int64)
        self.row_keys = [set() for _ in range(self.rows)]
        self.key_rows: dict[int, set] = {}
        for r, k in zip(row_of.tolist(), keys.tolist()):
            self.row_keys[r].add(k)
            self.key_rows.setdefault(k, set()).add(r)
        self.operands: list[tuple[int, int]] = []
        self.coefficients: list[tuple[int, int]] = []   # codes into `table`
        self.value_bytes = W.dtype.itemsize
        self.span = (self.cols + INDEX_LIMIT) * self.V  # keys are below this

    def is_reference(self, key: int) -> bool:
        return key // self.V >= self.cols

    def entry_bytes(self, key: int) -> int:
        return INDEX_BYTES + (0 if self.is_reference(key) else self.value_bytes)

    def saving(self, k1: int, k2: int, uses: int) -> int:
        """Bytes saved by one subexpression for k1 + k2 used in `uses` rows."""
        table = 2 * (INDEX_BYTES + self.value_bytes)
        return uses * (self.entry_bytes(k1) + self.entry_bytes(k2) - INDEX_BYTES) - table

    def negated(self, key: int) -> int:
        """The key of the same ref with the negated coefficient, or -1."""
        n = self.negate[key % self.V]
        return -1 if n < 0 else key - key % self.V + int(n)

    def rows_with(self, k1: int, k2: int) -> set:
        a, b = self.key_rows.get(k1), self.key_rows.get(k2)
        return a & b if a and b else set()

    def substitute(self, k1: int, k2: int, rows: set, negated_rows: set) -> None:
        """Make subexpression k = k1 + k2; `rows` add it, `negated_rows`
        (which hold the negated pair) subtract it."""
        k = len(self.operands)
        self.operands.append((k1 // self.V, k2 // self.V))
        self.coefficients.append((k1 % self.V, k2 % self.V))
        ref = (self.cols + k) * self.V
        for pair, found, new in (((k1, k2), rows, ref + self.plus),
                                 ((self.negated(k1), self.negated(k2)), negated_rows,
                                  ref + self.minus)):
            if not found:
                continue
            for r in found:
                keys = self.row_keys[r]
                keys.difference_update(pair)
                keys.add(new)
            for old in pair:
                left = self.key_rows[old] - found
                if left:
                    self.key_rows[old] = left
                else:
                    del self.key_rows[old]
            self.key_rows[new] = set(found)

    def pair_counts(self, rng: np.random.Generator, budget: int):
        """(canonical pairs as (first key, second key) rows, their counts)."""
        total = sum(len(k) * (len(k) - 1) // 2 for k in self.row_keys)
        per_row = self._entries_per_row(total, budget)
        V, negative, negate = self.V, self.negative, self.negate
        firsts, seconds, triu = [], [], {}
        for keys in self.row_keys:
            if len(keys) < 2:
                continue
            arr = np.fromiter(keys, dtype=np.int64, count=len(keys))
            if per_row is not None and arr.size > per_row:
                arr = rng.choice(arr, per_row, replace=False)
            arr.sort()
            i, j = triu.get(arr.size) or triu.setdefault(arr.size, np.triu_indices(arr.size, 1))
            a, b = arr[i], arr[j]
            ca, cb = a % V, b % V
            flip = negative[ca] & (negate[ca] >= 0) & (negate[cb] >= 0)
            firsts.append(np.where(flip, a - ca + negate[ca], a))
            seconds.append(np.where(flip, b - cb + negate[cb], b))
        if not firsts:
            return np.empty((0, 2), np.int64), np.empty(0, np.int64)
        first, second = np.concatenate(firsts), np.concatenate(seconds)
        if self.span < 2**31:   # first * span + second then fits an int64
            codes, counts = np.unique(first * self.span + second, return_counts=True)
            pairs = np.stack([codes // self.span, codes % self.span], axis=1)
        else:
            pairs, counts = np.unique(np.stack([first, second], axis=1), axis=0, return_counts=True)
        return pairs, counts

    def _entries_per_row(self, total_pairs: int, budget: int):
        """Entries sampled per row when all pairs would exceed the budget."""
        if total_pairs <= budget:
            return None
        busy = sum(1 for k in self.row_keys if len(k) > 1)
        return max(2, int((2 * budget / max(busy, 1)) ** 0.5))


def find_subexpressions(W: np.ndarray, seed: int = 0, pair_budget: int = DEFAULT_PAIR_BUDGET,
                        candidates: int = DEFAULT_CANDIDATES, tier: float = 0.9,
                        progress: bool = False):
    """Search W for subexpressions; returns the search state and its stats."""
    state = _State(W)
    rng = np.random.default_rng(seed)
    limit = (INDEX_LIMIT - state.cols) // 2
    min_batch = max(16, state.rows // 4)
    start, rounds = time.monotonic(), 0
    bar = _progress(progress, W.shape)
    while len(state.operands) < limit:
        rounds += 1
        pairs, counts = state.pair_counts(rng, pair_budget)
        order = np.argsort(-counts, kind="stable")
        order = order[counts[order] >= 2]
        # Near-greedy: the pairs almost as frequent as the best first; all
        # others only when none of those saves bytes.
        top = np.count_nonzero(counts[order] >= counts[order[0]] * tier) if order.size else 0
        top = max(top, min_batch)   # bounds the rounds on large matrices
        made = _make(state, pairs[order[:min(top, candidates)]], limit)
        if not made and top < order.size:
            made = _make(state, pairs[order[top:top + candidates]], limit)
        if bar:
            bar(rounds, len(state.operands))
        if not made:
            break
    if bar:
        bar(rounds, len(state.operands), done=True)
    return state, SearchStats(rounds, len(state.operands), time.monotonic() - start)


def _make(state: _State, pairs: np.ndarray, limit: int) -> int:
    """Make a subexpression of each candidate pair that still saves bytes."""
    made = 0
    for k1, k2 in pairs.tolist():
        if len(state.operands) >= limit:
            break
        rows = state.rows_with(k1, k2)
        n1, n2 = state.negated(k1), state.negated(k2)
        negated_rows = state.rows_with(n1, n2) if n1 >= 0 and n2 >= 0 else set()
        uses = len(rows) + len(negated_rows)
        if uses >= 2 and state.saving(k1, k2, uses) > 0:
            state.substitute(k1, k2, rows, negated_rows)
            made += 1
    return made


def _progress(enabled: bool, shape):
    """A one-line progress report on stderr (rounds and subexpressions so
    far), at most twice a second."""
    if not enabled:
        return None
    last = [0.0]
    def report(rounds: int, made: int, done: bool = False) -> None:
        now = time.monotonic()
        if not done and now - last[0] < 0.5:
            return
        last[0] = now
        print(f"cse-csr {shape[0]}x{shape[1]}: round {rounds}, {made} subexpressions",
              end="\n" if done else "\r", file=sys.stderr, flush=True)
    return report


def _arrays(state: _State, dtype: np.dtype) -> dict[str, np.ndarray]:
    value_t = dtype.newbyteorder("<")
    values_of = state.table.astype(value_t)             # code -> coefficient
    V, cols, S = state.V, state.cols, len(state.operands)
    # Subexpressions by level (1 + the deepest operand's; columns are 0), so
    # that each level is a run a kernel may compute in parallel.
    operands = np.asarray(state.operands, np.int64).reshape(S, 2)
    level = np.zeros(S, np.int64)
    for k, (p, q) in enumerate(state.operands):
        level[k] = 1 + max(level[p - cols] if p >= cols else 0,
                           level[q - cols] if q >= cols else 0)
    order = np.argsort(level, kind="stable")
    renumber = np.empty(S, np.int64)
    renumber[order] = np.arange(S)
    at = lambda refs: np.where(refs >= cols, cols + renumber[np.maximum(refs - cols, 0)], refs)
    operands = at(operands[order]).reshape(-1)
    coefficients = np.asarray(state.coefficients, np.int64).reshape(S, 2)[order].reshape(-1)
    indices, plain_codes = [], []
    count = np.zeros(state.rows + 1, np.int64)
    for r, keys in enumerate(state.row_keys):
        arr = np.fromiter(keys, dtype=np.int64, count=len(keys))
        ref, code = at(arr // V) if S else arr // V, arr % V
        plain = ref < cols
        # subtracted subexpressions are numbered after the added ones
        index = np.where(plain | (code == state.plus), ref, ref + S)
        order = np.argsort(index)
        indices.append(index[order])
        plain_codes.append(code[order][plain[order]])
        count[r + 1] = arr.size
    cat = lambda parts: np.concatenate(parts) if parts else np.empty(0, np.int64)
    row_ptr = np.cumsum(count)
    return {
        "values": values_of[cat(plain_codes)],
        "col_idx": cat(indices).astype("<u2"),
        "row_ptr": row_ptr.astype(_pointer_dtype(int(row_ptr[-1]))),
        "sub_operands": operands.astype("<u2"),
        "sub_values": values_of[coefficients],
    }


def encode(W: np.ndarray, seed: int = 0, progress: bool = False) -> dict[str, np.ndarray]:
    rows, cols = W.shape
    if cols >= INDEX_LIMIT:
        raise ValueError(f"cse-csr: {cols} columns leave no uint16 index for a subexpression "
                         f"(at most {INDEX_LIMIT - 1} columns)")
    state, _ = find_subexpressions(W, seed=seed, progress=progress)
    return _arrays(state, W.dtype)


# --- reading the format back ------------------------------------------------

def _check(arrays, shape) -> int:
    """Validate the components; returns the subexpression count S."""
    rows, cols = shape
    ptr = arrays["row_ptr"].astype(np.int64)
    if ptr.size != rows + 1 or ptr[0] != 0 or np.any(np.diff(ptr) < 0):
        raise ValueError("cse-csr: row_ptr must have rows+1 non-decreasing entries from 0")
    if arrays["col_idx"].size != ptr[-1]:
        raise ValueError("cse-csr: col_idx length does not match row_ptr[-1]")
    if arrays["values"].size != np.count_nonzero(arrays["col_idx"] < cols):
        raise ValueError("cse-csr: values must hold one coefficient per column entry")
    operands = arrays["sub_operands"].astype(np.int64)
    if operands.size % 2 or arrays["sub_values"].size != operands.size:
        raise ValueError("cse-csr: sub_operands and sub_values need two entries per subexpression")
    S = operands.size // 2
    if np.any(operands.reshape(S, 2) >= cols + np.arange(S)[:, None]):
        raise ValueError("cse-csr: a subexpression operand refers to itself or a later one")
    if np.any(arrays["col_idx"] >= cols + 2 * S):
        raise ValueError("cse-csr: col_idx refers to a missing subexpression")
    return S


def _expansions(arrays, cols: int, S: int):
    """Each subexpression as (columns, coefficients) over x, in float64/int64."""
    operands = arrays["sub_operands"].astype(np.int64)
    coefficients = arrays["sub_values"]
    wide = np.float64 if coefficients.dtype.kind == "f" else np.int64
    out = []
    for k in range(S):
        parts_c, parts_v = [], []
        for o, c in zip(operands[2 * k:2 * k + 2].tolist(), coefficients[2 * k:2 * k + 2]):
            if o < cols:
                parts_c.append(np.array([o]))
                parts_v.append(np.array([c], wide))
            else:
                sc, sv = out[o - cols]
                parts_c.append(sc)
                parts_v.append(sv * wide(c))
        out.append((np.concatenate(parts_c), np.concatenate(parts_v)))
    return out


def decode(arrays, shape, dtype) -> np.ndarray:
    rows, cols = shape
    S = _check(arrays, shape)
    wide = np.float64 if np.dtype(dtype).kind == "f" else np.int64
    W = np.zeros(shape, dtype=wide)
    row_ptr = arrays["row_ptr"].astype(np.int64)
    row_of = np.repeat(np.arange(rows), np.diff(row_ptr))
    index = arrays["col_idx"].astype(np.int64)
    plain = index < cols
    np.add.at(W, (row_of[plain], index[plain]), arrays["values"].astype(wide))
    expansions = _expansions(arrays, cols, S)
    for r, k in zip(row_of[~plain].tolist(), (index[~plain] - cols).tolist()):
        c, v = expansions[k % S]
        np.add.at(W[r], c, v if k < S else -v)
    if np.dtype(dtype).kind == "i":
        info = np.iinfo(dtype)
        if W.min(initial=0) < info.min or W.max(initial=0) > info.max:
            raise ValueError(f"cse-csr: the subexpressions sum to values outside {np.dtype(dtype)}")
    return W.astype(dtype)


def matvec(arrays, shape, x: np.ndarray) -> np.ndarray:
    """y = W @ x the way a kernel computes it: subexpressions first (int32 for
    int8 weights, float32 for float32), then each row's plain entries and
    references."""
    rows, cols = shape
    S = _check(arrays, shape)
    acc = np.float32 if arrays["values"].dtype.kind == "f" else np.int32
    u = np.concatenate([np.asarray(x).astype(acc), np.zeros(S, acc)])
    ops, coef = arrays["sub_operands"].astype(np.int64), arrays["sub_values"].astype(acc)
    for k in range(S):
        u[cols + k] = coef[2 * k] * u[ops[2 * k]] + coef[2 * k + 1] * u[ops[2 * k + 1]]
    row_ptr = arrays["row_ptr"].astype(np.int64)
    index = arrays["col_idx"].astype(np.int64)
    plain, subtracted = index < cols, index >= cols + S
    terms = u[np.where(subtracted, index - S, index)]
    terms[plain] *= arrays["values"].astype(acc)
    terms[subtracted] *= -1
    y = np.zeros(rows, acc)
    for r in range(rows):
        y[r] = terms[row_ptr[r]:row_ptr[r + 1]].sum(dtype=acc)
    return y


def operation_counts(arrays) -> dict[str, int]:
    """Multiplies and adds of one matrix-vector product (CSR: nnz of each)."""
    S = arrays["sub_operands"].size // 2
    plain, entries = int(arrays["values"].size), int(arrays["col_idx"].size)
    return {"multiplies": plain + 2 * S, "adds": entries + S, "subexpressions": S}
