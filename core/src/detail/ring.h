#pragma once

// A FIFO on one power-of-two array. The streams keep thousands of these per daemon (one per
// group and window), and std::deque allocates a map and a 512-byte block even when empty:
// the ring holds nothing until its first push and then only what the window needs, rounded
// up to a power of two.

#include <cstddef>
#include <vector>

namespace isoscope::detail {

template <typename T>
class Ring {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t capacity() const { return buf_.size(); }
  const T& front() const { return buf_[head_]; }
  const T& back() const { return buf_[(head_ + size_ - 1) & (buf_.size() - 1)]; }
  /// The i-th element from the front.
  const T& operator[](size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }

  /// Room for at least n elements (rounded up to a power of two) without growing later.
  void reserve(size_t n) {
    while (buf_.size() < n) Grow();
  }

  void push_back(const T& v) {
    if (size_ == buf_.size()) Grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = v;
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
  }
  void pop_back() { --size_; }

 private:
  void Grow() {
    std::vector<T> next(buf_.empty() ? 4 : buf_.size() * 2);
    for (size_t i = 0; i < size_; ++i) next[i] = (*this)[i];
    buf_.swap(next);
    head_ = 0;
  }

  std::vector<T> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace isoscope::detail
