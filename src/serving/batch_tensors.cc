#include "serving/batch_tensors.h"

#include <cstring>
#include <memory>
#include <numeric>
#include <string>

namespace tessera {
namespace {

// Bytes of one row of `tensor`. REQUIRES: rank >= 1, first dim >= 1.
size_t RowBytes(const Tensor& tensor) {
  return tensor.byte_size() / static_cast<size_t>(tensor.shape()[0]);
}

}  // namespace

std::optional<int64_t> BatchRows(const std::vector<NamedTensor>& inputs) {
  if (inputs.empty()) return std::nullopt;
  int64_t rows = -1;
  for (const auto& input : inputs) {
    const Tensor& t = input.tensor;
    if (t.shape().empty() || t.dtype() == DataType::kBytes) return std::nullopt;
    if (rows >= 0 && t.shape()[0] != rows) return std::nullopt;
    rows = t.shape()[0];
  }
  if (rows <= 0) return std::nullopt;
  return rows;
}

bool SameRowShape(const std::vector<NamedTensor>& a, const std::vector<NamedTensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Tensor& x = a[i].tensor;
    const Tensor& y = b[i].tensor;
    if (x.dtype() != y.dtype() || x.shape().size() != y.shape().size()) return false;
    if (!std::equal(x.shape().begin() + 1, x.shape().end(), y.shape().begin() + 1)) return false;
  }
  return true;
}

std::vector<NamedTensor> ConcatRows(const std::vector<const std::vector<NamedTensor>*>& requests) {
  const std::vector<NamedTensor>& first = *requests.front();
  std::vector<NamedTensor> joined;
  joined.reserve(first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    int64_t rows = 0;
    for (const auto* request : requests) rows += (*request)[i].tensor.shape()[0];
    Shape shape = first[i].tensor.shape();
    shape[0] = rows;
    Tensor batch = Tensor::Allocate(first[i].tensor.dtype(), shape);
    uint8_t* out = batch.mutable_data();
    for (const auto* request : requests) {
      const Tensor& part = (*request)[i].tensor;
      std::memcpy(out, part.data(), part.byte_size());
      out += part.byte_size();
    }
    joined.push_back({first[i].name, std::move(batch)});
  }
  return joined;
}

Result<std::vector<std::vector<NamedTensor>>> SplitRows(const std::vector<NamedTensor>& outputs,
                                                        const std::vector<int64_t>& rows) {
  const int64_t total = std::accumulate(rows.begin(), rows.end(), int64_t{0});
  std::vector<std::vector<NamedTensor>> parts(rows.size());
  for (const auto& output : outputs) {
    const Tensor& t = output.tensor;
    if (t.shape().empty() || t.dtype() == DataType::kBytes || t.shape()[0] != total) {
      return Internal("Output " + output.name + " of shape " + ShapeToString(t.shape()) +
                      " cannot be split into a batch of " + std::to_string(total) + " rows");
    }
    auto whole = std::make_shared<const Tensor>(t);
    const size_t row_bytes = total == 0 ? 0 : RowBytes(t);
    size_t offset = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      Shape shape = t.shape();
      shape[0] = rows[i];
      const size_t bytes = row_bytes * static_cast<size_t>(rows[i]);
      parts[i].push_back(
          {output.name, Tensor::Borrow(t.dtype(), std::move(shape), t.data() + offset, bytes, whole)});
      offset += bytes;
    }
  }
  return parts;
}

Status CheckBatchable(const ModelSignature& signature) {
  for (const auto& input : signature.inputs) {
    if (!input.shape.empty() && input.shape[0] != kDynamicDim) {
      return FailedPrecondition("dynamic_batching needs a dynamic first dimension (-1) on every input; input " +
                                input.name + " has shape " + ShapeToString(input.shape));
    }
  }
  return Status::Ok();
}

}  // namespace tessera
