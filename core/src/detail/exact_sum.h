#pragma once

// An exactly maintained sum of doubles (Shewchuk's non-overlapping partials, as in Python's
// math.fsum), with removal. Sliding-window features need it: a running sum in plain floating
// point depends on every value that ever passed through the window, so the daemon (whose
// history starts at its last restart) and training (whose history starts 90 days back) would
// compute different bits for the same window. An exact sum rounded once depends only on the
// values currently in the window.

#include <cmath>
#include <cstddef>
#include <vector>

namespace isoscope::detail {

class ExactSum {
 public:
  void Add(double x) {
    double* p = p_.data();
    size_t kept = 0;
    for (size_t j = 0; j < n_; ++j) {
      const double y = p[j];
      // Knuth's TwoSum: the same hi and the same exact error lo as math.fsum's
      // swap-then-FastTwoSum (the error of a rounded sum is unique), without the data-dependent
      // swap, which WebAssembly engines compile to a branch that mispredicts.
      const double hi = x + y;
      const double yv = hi - x;
      const double lo = (x - (hi - yv)) + (y - yv);
      if (lo != 0.0) {
        p[kept++] = lo;
      }
      x = hi;
    }
    // Real windows need one to four partials; a vector keeps an idle sum small where a fixed
    // array for the worst case (dozens) would cost hundreds of bytes in every daemon group.
    // Its size only grows (n_ counts the partials in use), so the hot path never reallocates.
    if (kept < p_.size()) {
      p[kept] = x;
    } else {
      p_.push_back(x);
    }
    n_ = kept + 1;
  }
  void Subtract(double x) { Add(-x); }
  void Clear() { n_ = 0; }
  /// Heap bytes held, for MemoryBytes().
  size_t heap_bytes() const { return p_.capacity() * sizeof(double); }

  /// The exact sum rounded to the nearest double (ties to even), as math.fsum returns it.
  double Value() const {
    size_t n = n_;
    if (n == 0) {
      return 0.0;
    }
    double hi = p_[--n];
    double lo = 0.0;
    while (n > 0) {
      const double x = hi;
      const double y = p_[--n];
      hi = x + y;
      const double yr = hi - x;
      lo = y - yr;
      if (lo != 0.0) {
        break;
      }
    }
    if (n > 0 && ((lo < 0.0 && p_[n - 1] < 0.0) || (lo > 0.0 && p_[n - 1] > 0.0))) {
      const double y = lo * 2.0;
      const double x = hi + y;
      const double yr = x - hi;
      if (y == yr) {
        hi = x;
      }
    }
    return hi;
  }

 private:
  std::vector<double> p_;
  size_t n_ = 0;
};

}  // namespace isoscope::detail
