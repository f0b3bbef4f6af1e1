// ByteBuffer: a tensor's bytes as the REST decoders write them, one element
// after another, through a raw pointer (no per-element size bookkeeping of
// std::string::append). Release() hands the bytes over as a std::string, the
// form Tensor::FromBytes takes (moved, not copied).
//
// Header-only; not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace tessera::json {

class ByteBuffer {
 public:
  template <typename T>
  void Put(T value) {
    std::memcpy(Reserve(sizeof(T)), &value, sizeof(T));
    size_ += sizeof(T);
  }
  void Append(std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(Reserve(bytes.size()), bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  // Room for `total` bytes in all (a guess: more is taken as needed).
  void Expect(size_t total) {
    if (bytes_.size() < total) bytes_.resize(total);
  }
  // Room for `n` more bytes at the returned pointer; Commit() what was used.
  [[gnu::always_inline]] char* Reserve(size_t n) {
    if (bytes_.size() - size_ < n) [[unlikely]] Grow(n);
    return bytes_.data() + size_;
  }
  void Commit(size_t n) { size_ += n; }
  size_t size() const { return size_; }
  std::string Release() {
    bytes_.resize(size_);
    size_ = 0;
    return std::move(bytes_);
  }

 private:
  void Grow(size_t n) { bytes_.resize(std::max({bytes_.size() * 2, size_ + n, size_t{4096}})); }

  std::string bytes_;  // size(): room; the first size_ bytes are written
  size_t size_ = 0;
};

}  // namespace tessera::json
