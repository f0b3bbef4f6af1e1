// Tensor: a typed, shaped view of contiguous row-major bytes.
//
// Ownership: a Tensor either owns its bytes (Allocate/FromBytes) or borrows
// them (Borrow) and keeps an optional `keepalive` object alive, e.g. the wire
// message or the engine tensor the bytes live in. Copies of a Tensor share the
// same bytes (shallow). Not thread-safe for concurrent mutation; concurrent
// reads are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "tensor/data_type.h"
#include "tensor/shape.h"

namespace tessera {

class Tensor {
 public:
  Tensor() = default;

  // Zero-filled owned buffer sized for `shape`. REQUIRES: fixed-size type,
  // non-negative dims.
  static Tensor Allocate(DataType type, Shape shape);
  // Owned copy of `bytes` (for kBytes, the length-prefixed raw form).
  static Tensor FromBytes(DataType type, Shape shape, std::string bytes);
  // Borrowed view; `data` must stay valid while `keepalive` (or, when null,
  // the caller) lives.
  static Tensor Borrow(DataType type, Shape shape, const void* data, size_t byte_size,
                       std::shared_ptr<const void> keepalive = nullptr);

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const uint8_t* data() const { return data_; }
  // REQUIRES: the tensor owns its bytes (not borrowed).
  uint8_t* mutable_data() { return const_cast<uint8_t*>(data_); }
  size_t byte_size() const { return byte_size_; }
  // Element count from the shape (0 when the shape is invalid).
  int64_t element_count() const;

  template <typename T>
  const T* data_as() const { return reinterpret_cast<const T*>(data_); }

 private:
  DataType dtype_ = DataType::kInvalid;
  Shape shape_;
  const uint8_t* data_ = nullptr;
  size_t byte_size_ = 0;
  std::shared_ptr<const void> keepalive_;
};

// Checks that a fixed-size tensor's byte size equals elements × element size.
// `name` is used in the message.
Status CheckByteSize(const std::string& name, DataType type, const Shape& shape,
                     size_t byte_size);

// Splits a kBytes raw buffer (4-byte little-endian length + bytes, repeated)
// into its elements. Error when a length runs past the end.
Result<std::vector<std::string_view>> SplitBytesElements(const uint8_t* data, size_t size);

// Inverse of SplitBytesElements.
std::string JoinBytesElements(const std::vector<std::string_view>& elements);

// A kBytes tensor of `shape` (`count` elements) over KServe raw BYTES data:
// the length-prefixed form, borrowed (`data` must live while `keepalive`
// does). When `count` is 1 and `data` is not exactly one prefixed element, it
// is taken as the element itself (how OVMS clients send one encoded image)
// and copied with its prefix added. kInvalidArgument when neither fits.
Result<Tensor> BytesTensorFromRaw(const Shape& shape, int64_t count, const char* data,
                                  size_t size, std::shared_ptr<const void> keepalive);

}  // namespace tessera
