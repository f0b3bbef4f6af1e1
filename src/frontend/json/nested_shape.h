// NestedShape: the shape of tensor data written as nested JSON lists,
// checked as the reader's events arrive. Lists must be rectangular (every
// list at one depth as long as the first one closed there) and every leaf
// (scalar) at the same depth, the rank. The rank is fixed by the first leaf
// or, before any, by the first empty list to close (an empty list is
// innermost). Both REST front doors check their tensor data with it and
// word their own errors from the Error kind and the counts it reports.
//
// Depth 0 is outside any list. The number of open lists is bounded by the
// reader's nesting limit (common/json_depth.h). Header-only; not
// thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace tessera::json {

class NestedShape {
 public:
  enum class Error {
    kNone,
    kUnexpectedList,  // StartList at or below the rank
    kExpectedList,    // CheckLeaf above the rank
    kRagged,          // EndList of a list whose length differs (ragged_count())
  };

  Error StartList() {
    if (rank_ >= 0 && depth() >= rank_) return Error::kUnexpectedList;
    counts_.push_back(0);
    if (lengths_.size() < counts_.size()) lengths_.push_back(-1);
    return Error::kNone;
  }

  // REQUIRES: a list is open. The list is closed, error or not.
  Error EndList() {
    int64_t count = counts_.back();
    counts_.pop_back();
    int64_t& length = lengths_[counts_.size()];
    if (count == 0 && rank_ < 0) rank_ = depth() + 1;
    if (length < 0) {
      length = count;
    } else if (length != count) {
      ragged_count_ = count;
      return Error::kRagged;
    }
    if (!counts_.empty()) ++counts_.back();
    return Error::kNone;
  }

  // Checks the depth of the next leaf; CountLeaf() once it is taken.
  [[gnu::always_inline]] Error CheckLeaf() {
    if (rank_ == depth()) [[likely]] return Error::kNone;
    if (rank_ >= 0) return Error::kExpectedList;
    rank_ = depth();
    return Error::kNone;
  }
  [[gnu::always_inline]] void CountLeaf() {
    if (!counts_.empty()) ++counts_.back();
  }

  // Open lists.
  int depth() const { return static_cast<int>(counts_.size()); }
  // Depth of the leaves, -1 until known.
  int rank() const { return rank_; }
  // Elements so far in each open list, outermost first.
  const std::vector<int64_t>& counts() const { return counts_; }
  // Length per depth (index 0: the outermost list), -1 until a list at that
  // depth has closed.
  const std::vector<int64_t>& lengths() const { return lengths_; }
  // After kRagged: the length of the list just closed; lengths()[depth()]
  // is the one expected.
  int64_t ragged_count() const { return ragged_count_; }

 private:
  int rank_ = -1;
  std::vector<int64_t> counts_;
  std::vector<int64_t> lengths_;
  int64_t ragged_count_ = 0;
};

}  // namespace tessera::json
