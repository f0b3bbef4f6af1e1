#include "tensor/tensor.h"

#include <cstdint>
#include <cstring>

namespace tessera {

Tensor Tensor::Allocate(DataType type, Shape shape) {
  size_t bytes = static_cast<size_t>(ElementCount(shape).value_or(0)) * ElementSize(type);
  return FromBytes(type, std::move(shape), std::string(bytes, '\0'));
}

Tensor Tensor::FromBytes(DataType type, Shape shape, std::string bytes) {
  auto owned = std::make_shared<std::string>(std::move(bytes));
  return Borrow(type, std::move(shape), owned->data(), owned->size(), owned);
}

Tensor Tensor::Borrow(DataType type, Shape shape, const void* data, size_t byte_size,
                      std::shared_ptr<const void> keepalive) {
  Tensor t;
  t.dtype_ = type;
  t.shape_ = std::move(shape);
  t.data_ = static_cast<const uint8_t*>(data);
  t.byte_size_ = byte_size;
  t.keepalive_ = std::move(keepalive);
  return t;
}

int64_t Tensor::element_count() const { return ElementCount(shape_).value_or(0); }

Status CheckByteSize(const std::string& name, DataType type, const Shape& shape,
                     size_t byte_size) {
  auto count = ElementCount(shape);
  size_t element_size = ElementSize(type);
  if (!count || (element_size && static_cast<uint64_t>(*count) > SIZE_MAX / element_size)) {
    return InvalidArgument("Invalid shape " + ShapeToString(shape) + " of input: " + name);
  }
  size_t expected = static_cast<size_t>(*count) * element_size;
  if (expected != byte_size) {
    return InvalidArgument("Invalid content size of tensor proto - Expected: " +
                           std::to_string(expected) + " bytes; Actual: " +
                           std::to_string(byte_size) + " bytes; input name: " + name);
  }
  return Status::Ok();
}

Result<std::vector<std::string_view>> SplitBytesElements(const uint8_t* data, size_t size) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < size) {
    if (size - pos < 4) return InvalidArgument("BYTES buffer truncated inside a length prefix");
    uint32_t len = uint32_t(data[pos]) | uint32_t(data[pos + 1]) << 8 |
                   uint32_t(data[pos + 2]) << 16 | uint32_t(data[pos + 3]) << 24;
    pos += 4;
    if (len > size - pos) return InvalidArgument("BYTES element length runs past the buffer end");
    out.emplace_back(reinterpret_cast<const char*>(data + pos), len);
    pos += len;
  }
  return out;
}

std::string JoinBytesElements(const std::vector<std::string_view>& elements) {
  std::string out;
  for (auto e : elements) {
    uint32_t len = static_cast<uint32_t>(e.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
    out.append(e);
  }
  return out;
}

Result<Tensor> BytesTensorFromRaw(const Shape& shape, int64_t count, const char* data,
                                  size_t size, std::shared_ptr<const void> keepalive) {
  auto elements = SplitBytesElements(reinterpret_cast<const uint8_t*>(data), size);
  if (elements.ok() && static_cast<int64_t>(elements->size()) == count) {
    return Tensor::Borrow(DataType::kBytes, shape, data, size, std::move(keepalive));
  }
  if (count == 1 && size <= UINT32_MAX) {
    return Tensor::FromBytes(DataType::kBytes, shape,
                             JoinBytesElements({std::string_view(data, size)}));
  }
  if (!elements.ok()) return elements.status();
  return InvalidArgument(std::to_string(elements->size()) + " BYTES elements; shape " +
                         ShapeToString(shape) + " needs " + std::to_string(count));
}

}  // namespace tessera
