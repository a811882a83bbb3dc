#include "detail/forest_walk_wide.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

// Compiled on every target; the AVX-512 and AVX2 bodies only where GCC or Clang build for x86-64
// (the function attributes let the rest of the binary stay baseline x86-64, as Debian builds it).
#if (defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__EMSCRIPTEN__))
#define ISOSCOPE_WIDE_WALK 1
#include <immintrin.h>
// GCC 12's own intrinsics start some results from _mm512_undefined_*(), which its
// -Wmaybe-uninitialized then reports inside the header (GCC bug 105593); nothing here reads an
// uninitialised value. Clang has no such warning (and -Werror rejects the unknown name).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

namespace isoscope::detail {

#ifdef ISOSCOPE_WIDE_WALK

namespace {

constexpr int kColumnBits = 8;

// One step of 16 walks, given each lane's node and its column's value: the left child, or the
// one after it when the value is above the threshold.
__attribute__((target("avx512f"))) inline __m512i NextIndex(__m512i packed, __m512 threshold,
                                                            __m512 x) {
  const __mmask16 right = _mm512_cmp_ps_mask(threshold, x, _CMP_LT_OQ);  // NaN goes left
  const __m512i left = _mm512_srli_epi32(packed, kColumnBits);
  return _mm512_mask_add_epi32(left, right, left, _mm512_set1_epi32(1));
}

// The 16 lanes' nodes in two 8-byte gathers (threshold and packed word side by side), then split:
// half the loads of gathering the two halves apart, and loads are what a step waits on.
struct Nodes16 {
  __m512 threshold;
  __m512i packed;
};

__attribute__((target("avx512f"))) inline Nodes16 GatherNodes(const char* nodes, __m512i idx) {
  const __m512i a = _mm512_i32gather_epi64(_mm512_castsi512_si256(idx), nodes, 8);
  const __m512i b = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(idx, 1), nodes, 8);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  return {_mm512_castsi512_ps(_mm512_permutex2var_epi32(a, even, b)),
          _mm512_permutex2var_epi32(a, odd, b)};
}

__attribute__((target("avx512f"))) inline void AddLeaves(const double* leaves, __m512i idx,
                                                         __m512d& lo, __m512d& hi) {
  lo = _mm512_add_pd(lo, _mm512_i32gather_pd(_mm512_castsi512_si256(idx), leaves, 8));
  hi = _mm512_add_pd(hi, _mm512_i32gather_pd(_mm512_extracti64x4_epi64(idx, 1), leaves, 8));
}

}  // namespace

bool WideWalkAvailable() { return __builtin_cpu_supports("avx512f"); }

bool WideBatchWalkPaysOff() { return !__builtin_cpu_is("amd"); }

namespace {

// A level of 16 trees from the top table: thresholds and packed words at heap position h.
struct TopRow {
  const float* threshold;
  const uint32_t* packed;
  __attribute__((target("avx512f"))) __m512 Threshold(size_t h) const {
    return _mm512_loadu_ps(threshold + 16 * h);
  }
  __attribute__((target("avx512f"))) __m512i Packed(size_t h) const {
    return _mm512_loadu_si512(packed + 16 * h);
  }
};

// The lanes whose row goes right at their node: the value is above the threshold (NaN goes
// left).
__attribute__((target("avx512f"))) inline __mmask16 GoesRight(__m512 threshold, __m512i packed,
                                                              __m512 columns) {
  const auto column_mask = _mm512_set1_epi32((1 << kColumnBits) - 1);
  const __m512 x = _mm512_permutexvar_ps(_mm512_and_si512(packed, column_mask), columns);
  return _mm512_cmp_ps_mask(threshold, x, _CMP_LT_OQ);
}

// The first kWideTopLevels (3) steps of 16 trees for one row, from the top table: each level's
// candidate nodes are plain loads, and the decisions so far pick among them. Returns the
// index each tree's walk reaches at level 3 (or the leaf it stopped at above).
__attribute__((target("avx512f"))) inline __m512i WalkTopLevels(const TopRow& top, __m512 columns) {
  static_assert(kWideTopLevels == 3, "the blends below are written out for three levels");
  const auto column_mask = _mm512_set1_epi32((1 << kColumnBits) - 1);
  const __mmask16 d0 = GoesRight(top.Threshold(0), top.Packed(0), columns);
  const __m512 t1 = _mm512_mask_blend_ps(d0, top.Threshold(1), top.Threshold(2));
  const __m512i p1 = _mm512_mask_blend_epi32(d0, top.Packed(1), top.Packed(2));
  const __mmask16 d1 = GoesRight(t1, p1, columns);
  const __m512 t2 =
      _mm512_mask_blend_ps(d0, _mm512_mask_blend_ps(d1, top.Threshold(3), top.Threshold(4)),
                           _mm512_mask_blend_ps(d1, top.Threshold(5), top.Threshold(6)));
  const __m512i p2 =
      _mm512_mask_blend_epi32(d0, _mm512_mask_blend_epi32(d1, top.Packed(3), top.Packed(4)),
                              _mm512_mask_blend_epi32(d1, top.Packed(5), top.Packed(6)));
  const __m512 x = _mm512_permutexvar_ps(_mm512_and_si512(p2, column_mask), columns);
  return NextIndex(p2, t2, x);
}

// `G` groups of 16 trees from tree t for one row, into leaf[0, trees). G is a compile-time count
// so the groups' indices stay in registers (a loop bound known only at run time spilled them).
template <size_t G>
__attribute__((target("avx512f"))) inline void WalkTreeGroups(const ForestView& f, size_t t,
                                                              size_t trees, __m512 columns,
                                                              double* leaf) {
  const char* nodes = static_cast<const char*>(f.nodes);
  const auto column_mask = _mm512_set1_epi32((1 << kColumnBits) - 1);
  __m512i idx[G];
  for (size_t g = 0; g < G; ++g) {
    const size_t at = (t / 16 + g) * kTopPositions * 16;
    idx[g] = WalkTopLevels({f.top_threshold + at, f.top_packed + at}, columns);
  }
  const uint32_t depth = *std::max_element(f.tree_depth + t, f.tree_depth + t + trees);
  for (uint32_t step = kWideTopLevels; step < depth; ++step) {
    for (size_t g = 0; g < G; ++g) {
      const Nodes16 node = GatherNodes(nodes, idx[g]);
      const __m512 x = _mm512_permutexvar_ps(_mm512_and_si512(node.packed, column_mask), columns);
      idx[g] = NextIndex(node.packed, node.threshold, x);
    }
  }
  for (size_t g = 0; g < G; ++g) {
    __m512d lo = _mm512_setzero_pd();
    __m512d hi = _mm512_setzero_pd();
    AddLeaves(f.leaf_value, idx[g], lo, hi);
    _mm512_store_pd(leaf + 16 * g, lo);
    _mm512_store_pd(leaf + 16 * g + 8, hi);
  }
}

}  // namespace

// WalkTreeGroups<G> for the G (1 to sizeof...(kG)) known only at run time.
template <size_t... kG>
__attribute__((target("avx512f"))) inline void WalkSomeTreeGroups(std::index_sequence<kG...>,
                                                                  size_t groups,
                                                                  const ForestView& f, size_t t,
                                                                  size_t trees, __m512 columns,
                                                                  double* leaf) {
  ((groups == kG + 1 ? WalkTreeGroups<kG + 1>(f, t, trees, columns, leaf) : void()), ...);
}

__attribute__((target("avx512f"))) double WidePathSum(const ForestView& f, const float* row) {
  // Seven groups of 16 trees at once: a step's gathers wait on the one before it in the same
  // tree, so independent groups keep the loads overlapping (four were about 5 % slower, eight
  // no faster, thirteen slower). 200 trees are two passes, of 7 and 6 groups; a last short
  // pass walks only the groups it fills.
  constexpr size_t kGroups = 7;
  constexpr size_t kTrees = 16 * kGroups;
  // The row's columns in one register: a lane's value is a permute, not a load.
  const __m512 columns =
      _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << f.n_features) - 1u), row);
  double sum = 0.0;
  alignas(64) double leaf[kTrees];
  for (size_t t = 0; t < f.n_trees; t += kTrees) {
    const size_t trees = std::min<size_t>(kTrees, f.n_trees - t);
    WalkSomeTreeGroups(std::make_index_sequence<kGroups>(), (trees + 15) / 16, f, t, trees, columns,
                       leaf);
    for (size_t k = 0; k < trees; ++k) {
      sum += leaf[k];  // tree order, as sklearn adds them
    }
  }
  return sum;
}

namespace {

constexpr int kVectors = kWideBlockRows / 16;

// A tree's first 32 nodes (breadth first: its levels 0 to 4, so every node a walk reaches in
// its first four steps) as two tables of thresholds and of packed words, 16 lanes each.
struct TopLevels {
  __m512 threshold[2];
  __m512i packed[2];
};

__attribute__((target("avx512f"))) inline TopLevels LoadTopLevels(const ForestView& f,
                                                                  size_t start) {
  // Masked loads: a small last tree may have fewer than 32 nodes left in the array.
  const size_t words = 2 * std::min<size_t>(32, f.n_nodes - start);
  const auto* base = static_cast<const int*>(f.nodes) + 2 * start;
  __m512i raw[4];
  for (size_t k = 0; k < 4; ++k) {
    const size_t have = words > 16 * k ? std::min<size_t>(16, words - 16 * k) : 0;
    raw[k] = _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << have) - 1u), base + 16 * k);
  }
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  TopLevels top;
  for (size_t h = 0; h < 2; ++h) {
    top.threshold[h] =
        _mm512_castsi512_ps(_mm512_permutex2var_epi32(raw[2 * h], even, raw[2 * h + 1]));
    top.packed[h] = _mm512_permutex2var_epi32(raw[2 * h], odd, raw[2 * h + 1]);
  }
  return top;
}

// Block column-major, 64 rows a column: the lane's value sits at column * 64 + row.
__attribute__((target("avx512f"))) inline __m512 ColumnValue(const float* columns, __m512i packed,
                                                             __m512i lane) {
  const auto column_mask = _mm512_set1_epi32((1 << kColumnBits) - 1);
  const __m512i at =
      _mm512_add_epi32(_mm512_slli_epi32(_mm512_and_si512(packed, column_mask), 6), lane);
  return _mm512_i32gather_ps(at, columns, 4);
}

// The same values for a block of at most kFewColumns columns: a masked load of each column's
// 16 rows picks the lanes that read it, a handful of plain loads instead of a 16-lane gather.
constexpr size_t kFewColumns = 8;

__attribute__((target("avx512f"))) inline __m512 FewColumnValue(const float* columns,
                                                                __m512i packed, int v,
                                                                size_t n_columns) {
  const __m512i column = _mm512_and_si512(packed, _mm512_set1_epi32((1 << kColumnBits) - 1));
  const float* rows = columns + 16 * v;
  __m512 x = _mm512_loadu_ps(rows);
  for (size_t c = 1; c < n_columns; ++c) {
    const __mmask16 here = _mm512_cmpeq_epi32_mask(column, _mm512_set1_epi32(static_cast<int>(c)));
    x = _mm512_mask_loadu_ps(x, here, rows + c * kWideBlockRows);
  }
  return x;
}

template <bool kFew>
__attribute__((target("avx512f"))) inline __m512 LaneValue(const float* columns, __m512i packed,
                                                           __m512i lane, int v, size_t n_columns) {
  if constexpr (kFew) {
    return FewColumnValue(columns, packed, v, n_columns);
  } else {
    return ColumnValue(columns, packed, lane);
  }
}

// One tree for the block's 64 rows, four independent vectors of 16 so their gathers overlap.
// The first four steps read nodes from registers (TopLevels); deeper ones gather them.
template <bool kFew>
__attribute__((target("avx512f"))) inline void WalkTree(const ForestView& f, size_t t,
                                                        const float* columns, __m512d* lo,
                                                        __m512d* hi) {
  const char* nodes = static_cast<const char*>(f.nodes);
  const size_t start = f.tree_start[t];
  const TopLevels top = LoadTopLevels(f, start);
  const __m512i first = _mm512_set1_epi32(static_cast<int>(start));
  const __m512 root_thr = _mm512_permutexvar_ps(_mm512_setzero_si512(), top.threshold[0]);
  const __m512i root_packed = _mm512_permutexvar_epi32(_mm512_setzero_si512(), top.packed[0]);
  __m512i idx[kVectors];
  __m512i lane[kVectors];
  for (int v = 0; v < kVectors; ++v) {
    lane[v] =
        _mm512_add_epi32(_mm512_set1_epi32(v * 16),
                         _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    idx[v] = NextIndex(root_packed, root_thr,
                       LaneValue<kFew>(columns, root_packed, lane[v], v, f.n_features));
  }
  const uint32_t depth = f.tree_depth[t];
  uint32_t step = 1;
  for (; step < depth && step <= 4; ++step) {
    for (int v = 0; v < kVectors; ++v) {
      const __m512i rel = _mm512_sub_epi32(idx[v], first);
      const __m512 threshold = _mm512_permutex2var_ps(top.threshold[0], rel, top.threshold[1]);
      const __m512i packed = _mm512_permutex2var_epi32(top.packed[0], rel, top.packed[1]);
      idx[v] =
          NextIndex(packed, threshold, LaneValue<kFew>(columns, packed, lane[v], v, f.n_features));
    }
  }
  for (; step < depth; ++step) {
    for (int v = 0; v < kVectors; ++v) {
      const Nodes16 node = GatherNodes(nodes, idx[v]);
      idx[v] = NextIndex(node.packed, node.threshold,
                         LaneValue<kFew>(columns, node.packed, lane[v], v, f.n_features));
    }
  }
  for (int v = 0; v < kVectors; ++v) {
    AddLeaves(f.leaf_value, idx[v], lo[v], hi[v]);
  }
}

}  // namespace

__attribute__((target("avx512f"))) void WidePathSums(const ForestView& f, const float* rows,
                                                     size_t n, double* out) {
  static_assert(kWideBlockRows == 64, "WalkTree's shift by 6 is column * 64");
  std::vector<float> columns(f.n_features * kWideBlockRows);
  for (size_t r0 = 0; r0 < n; r0 += kWideBlockRows) {
    const float* block = rows + r0 * f.n_features;
    for (size_t r = 0; r < kWideBlockRows; ++r) {
      for (size_t c = 0; c < f.n_features; ++c) {
        columns[c * kWideBlockRows + r] = block[r * f.n_features + c];
      }
    }
    __m512d lo[kVectors];
    __m512d hi[kVectors];
    for (int v = 0; v < kVectors; ++v) {
      lo[v] = _mm512_setzero_pd();
      hi[v] = _mm512_setzero_pd();
    }
    for (size_t t = 0; t < f.n_trees; ++t) {
      if (f.n_features <= kFewColumns) {
        WalkTree<true>(f, t, columns.data(), lo, hi);
      } else {
        WalkTree<false>(f, t, columns.data(), lo, hi);
      }
    }
    for (int v = 0; v < kVectors; ++v) {
      _mm512_storeu_pd(out + r0 + 16 * static_cast<size_t>(v), lo[v]);
      _mm512_storeu_pd(out + r0 + 16 * static_cast<size_t>(v) + 8, hi[v]);
    }
  }
}

bool Avx2WalkAvailable() { return __builtin_cpu_supports("avx2"); }

namespace {

// The one-row walk on 8 lanes, for x86-64 CPUs without AVX-512 (AMD before Zen 4, most Intel
// desktops): 8 trees a vector, each half of a 16-tree group of the top table.
struct TopHalf {
  const float* threshold;
  const uint32_t* packed;
  __attribute__((target("avx2"))) __m256 Threshold(size_t h) const {
    return _mm256_loadu_ps(threshold + 16 * h);
  }
  __attribute__((target("avx2"))) __m256i Packed(size_t h) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(packed + 16 * h));
  }
};

// Which of a node's two words Pick reads.
struct ThresholdWord {
  __attribute__((target("avx2"))) __m256 operator()(const TopHalf& top, size_t h) const {
    return top.Threshold(h);
  }
};
struct PackedWord {
  __attribute__((target("avx2"))) __m256i operator()(const TopHalf& top, size_t h) const {
    return top.Packed(h);
  }
};

// The row's value in each lane's column: columns 0-7 in `lo`, 8-15 in `hi` (kHi only).
template <bool kHi>
__attribute__((target("avx2"))) inline __m256 Value8(__m256i packed, __m256 lo, __m256 hi) {
  const __m256i column = _mm256_and_si256(packed, _mm256_set1_epi32((1 << kColumnBits) - 1));
  const __m256 a = _mm256_permutevar8x32_ps(lo, column);  // reads the index's low 3 bits
  if constexpr (!kHi) {
    return a;
  } else {
    // Bit 3 of the column, moved to the sign bit, picks the second register.
    const __m256 b = _mm256_permutevar8x32_ps(hi, column);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(column, 28)));
  }
}

// One step of 8 walks: the left child, or the one after it where threshold < x (NaN goes left).
template <bool kHi>
__attribute__((target("avx2"))) inline __m256i Next8(__m256 threshold, __m256i packed, __m256 lo,
                                                     __m256 hi) {
  const __m256 right = _mm256_cmp_ps(threshold, Value8<kHi>(packed, lo, hi), _CMP_LT_OQ);
  // A lane going right holds all ones (-1): subtracting it adds the one.
  return _mm256_sub_epi32(_mm256_srli_epi32(packed, kColumnBits), _mm256_castps_si256(right));
}

// a where the lane went left, b where it went right.
__attribute__((target("avx2"))) inline __m256i Select(__m256i a, __m256i b, __m256 right) {
  return _mm256_castps_si256(
      _mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), right));
}
__attribute__((target("avx2"))) inline __m256 Select(__m256 a, __m256 b, __m256 right) {
  return _mm256_blendv_ps(a, b, right);
}

// A level's node for each of 8 trees from the top table, picked among the level's 2^kLevel
// positions from `first` by the decisions above it (r[0] at the root): the deepest decision
// halves the candidates first, the root's last.
template <size_t kLevel, class Word>
__attribute__((target("avx2"))) inline auto Pick(const TopHalf& top, size_t first,
                                                 const __m256* r) {
  if constexpr (kLevel == 0) {
    return Word()(top, first);
  } else {
    constexpr size_t kHalf = size_t{1} << (kLevel - 1);
    return Select(Pick<kLevel - 1, Word>(top, first, r + 1),
                  Pick<kLevel - 1, Word>(top, first + kHalf, r + 1), r[0]);
  }
}

// The lanes that go right at level kLevel, given the decisions above it.
template <size_t kLevel, bool kHi>
__attribute__((target("avx2"))) inline __m256 GoesRight8(const TopHalf& top, const __m256* r,
                                                         __m256 lo, __m256 hi) {
  constexpr size_t kFirst = (size_t{1} << kLevel) - 1;  // the level's first heap position
  // Named first: Clang's _mm256_cmp_ps is a macro, and a template's comma splits its arguments.
  const __m256i packed = Pick<kLevel, PackedWord>(top, kFirst, r);
  const __m256 threshold = Pick<kLevel, ThresholdWord>(top, kFirst, r);
  return _mm256_cmp_ps(threshold, Value8<kHi>(packed, lo, hi), _CMP_LT_OQ);
}

// The first kTopLevels (4) steps of 8 trees by plain loads and blends instead of gathers.
template <bool kHi>
__attribute__((target("avx2"))) inline __m256i WalkTopLevels8(const TopHalf& top, __m256 lo,
                                                              __m256 hi) {
  static_assert(kTopLevels == 4, "the levels below are written out for four");
  __m256 r[kTopLevels - 1];
  r[0] = GoesRight8<0, kHi>(top, r, lo, hi);
  r[1] = GoesRight8<1, kHi>(top, r, lo, hi);
  r[2] = GoesRight8<2, kHi>(top, r, lo, hi);
  constexpr size_t kLast = kTopLevels - 1;
  constexpr size_t kFirst = (size_t{1} << kLast) - 1;
  return Next8<kHi>(Pick<kLast, ThresholdWord>(top, kFirst, r),
                    Pick<kLast, PackedWord>(top, kFirst, r), lo, hi);
}

// One gathered step of 8 walks. Each node comes whole (threshold and packed word, 8 bytes) in
// two gathers of 4: half the elements of gathering thresholds and packed words apart, and a
// gather costs about one load per element on CPUs with AVX2 but not AVX-512 (AMD Zen 3).
// Splitting the pairs within 128-bit halves leaves the lanes in the order 0 1 4 5 2 3 6 7,
// which the next step's gathers read back in order: every other step the lanes are swapped
// (WalkTreeOctets restores them at the end).
template <bool kHi>
__attribute__((target("avx2"))) inline __m256i GatheredStep8(const long long* nodes, __m256i idx,
                                                             __m256 lo, __m256 hi) {
  const __m256 a =
      _mm256_castsi256_ps(_mm256_i32gather_epi64(nodes, _mm256_castsi256_si128(idx), 8));
  const __m256 b =
      _mm256_castsi256_ps(_mm256_i32gather_epi64(nodes, _mm256_extracti128_si256(idx, 1), 8));
  const __m256 threshold = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  const __m256i packed = _mm256_castps_si256(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  return Next8<kHi>(threshold, packed, lo, hi);
}

// `G` vectors of 8 trees from tree t (a multiple of 8) for one row: the leaf each reaches, into
// leaf[0, 8 G) (lanes past the last tree walk the top table's idle leaf).
template <size_t G, bool kHi>
__attribute__((target("avx2"))) inline void WalkTreeOctets(const ForestView& f, size_t t, __m256 lo,
                                                           __m256 hi, uint32_t* leaf) {
  const auto* nodes = static_cast<const long long*>(f.nodes);
  __m256i idx[G];
  for (size_t g = 0; g < G; ++g) {
    const size_t octet = t / 8 + g;
    const size_t at = (octet / 2) * kTopPositions * 16 + (octet % 2) * 8;
    idx[g] = WalkTopLevels8<kHi>({f.top_threshold + at, f.top_packed + at}, lo, hi);
  }
  uint32_t depth = 0;
  for (size_t g = 0; g < G; ++g) depth = std::max(depth, f.octet_depth[t / 8 + g]);
  for (uint32_t step = kTopLevels; step < depth; ++step) {
    for (size_t g = 0; g < G; ++g) idx[g] = GatheredStep8<kHi>(nodes, idx[g], lo, hi);
  }
  const bool swapped = depth > kTopLevels && (depth - kTopLevels) % 2 == 1;
  for (size_t g = 0; g < G; ++g) {
    // 0 1 4 5 2 3 6 7 back to tree order: the middle two pairs trade places.
    if (swapped) idx[g] = _mm256_permute4x64_epi64(idx[g], _MM_SHUFFLE(3, 1, 2, 0));
    _mm256_store_si256(reinterpret_cast<__m256i*>(leaf + 8 * g), idx[g]);
  }
}

template <bool kHi, size_t... kG>
__attribute__((target("avx2"))) inline void WalkSomeTreeOctets(std::index_sequence<kG...>,
                                                               size_t groups, const ForestView& f,
                                                               size_t t, __m256 lo, __m256 hi,
                                                               uint32_t* leaf) {
  ((groups == kG + 1 ? WalkTreeOctets<kG + 1, kHi>(f, t, lo, hi, leaf) : void()), ...);
}

template <bool kHi>
__attribute__((target("avx2"))) double Avx2PathSumOf(const ForestView& f, const float* row) {
  // Up to five vectors of 8 trees at once: the 16 ymm registers hold their indices, the row and
  // the step's temporaries (four and six were slower on AMD Zen 3). The octets are dealt out
  // evenly, since a pass of few octets leaves its gathers waiting on each other: 200 trees are
  // five passes of five.
  constexpr size_t kMaxGroups = 5;
  // The row's columns in two registers (zero past the last): a lane's value is a permute.
  alignas(32) float padded[16] = {};
  std::memcpy(padded, row, f.n_features * sizeof(float));
  const __m256 lo = _mm256_load_ps(padded);
  const __m256 hi = _mm256_load_ps(padded + 8);
  double sum = 0.0;
  alignas(32) uint32_t leaf[8 * kMaxGroups];
  const size_t octets = (f.n_trees + 7) / 8;
  const size_t passes = (octets + kMaxGroups - 1) / kMaxGroups;
  size_t t = 0;
  for (size_t pass = 0; pass < passes; ++pass) {
    const size_t groups = (octets - t / 8) / (passes - pass);  // the rest, shared evenly
    WalkSomeTreeOctets<kHi>(std::make_index_sequence<kMaxGroups>(), groups, f, t, lo, hi, leaf);
    const size_t trees = std::min(8 * groups, f.n_trees - t);
    // The leaves' values by scalar loads, not gathers: on AMD Zen 3 a gather costs about a
    // load per element plus its own overhead, and these loads are off the walk's chain.
    for (size_t k = 0; k < trees; ++k) {
      sum += f.leaf_value[leaf[k]];  // tree order, as sklearn adds them
    }
    t += trees;
  }
  return sum;
}

}  // namespace

double Avx2PathSum(const ForestView& f, const float* row) {
  return f.n_features <= 8 ? Avx2PathSumOf<false>(f, row) : Avx2PathSumOf<true>(f, row);
}

#else  // no wide walk on this target: Compile never chooses it

bool WideWalkAvailable() { return false; }
bool WideBatchWalkPaysOff() { return false; }
double WidePathSum(const ForestView&, const float*) { return 0.0; }
void WidePathSums(const ForestView&, const float*, size_t, double*) {}
bool Avx2WalkAvailable() { return false; }
double Avx2PathSum(const ForestView&, const float*) { return 0.0; }

#endif

}  // namespace isoscope::detail
