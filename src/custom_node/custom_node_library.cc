#include "custom_node/custom_node_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "common/logging.h"
#include "custom_node/custom_node_interface.h"

namespace tessera::custom_node {
namespace {

// The interface's declarations fix the exact signatures the loader expects.
static_assert(std::is_same_v<CustomNodeLibrary::InitializeFn, decltype(&::initialize)>);
static_assert(std::is_same_v<CustomNodeLibrary::DeinitializeFn, decltype(&::deinitialize)>);
static_assert(std::is_same_v<CustomNodeLibrary::ExecuteFn, decltype(&::execute)>);
static_assert(std::is_same_v<CustomNodeLibrary::InfoFn, decltype(&::getInputsInfo)>);
static_assert(std::is_same_v<CustomNodeLibrary::InfoFn, decltype(&::getOutputsInfo)>);
static_assert(std::is_same_v<CustomNodeLibrary::ReleaseFn, decltype(&::release)>);

CustomNodeTensorPrecision ToPrecision(DataType type) {
  switch (type) {
    case DataType::kFp32: return FP32;
    case DataType::kFp16: return FP16;
    case DataType::kUint8: return U8;
    case DataType::kInt8: return I8;
    case DataType::kInt16: return I16;
    case DataType::kUint16: return U16;
    case DataType::kInt32: return I32;
    case DataType::kFp64: return FP64;
    case DataType::kInt64: return I64;
    default: return UNSPECIFIED;
  }
}

DataType FromPrecision(CustomNodeTensorPrecision precision) {
  switch (precision) {
    case FP32: return DataType::kFp32;
    case FP16: return DataType::kFp16;
    case U8: return DataType::kUint8;
    case I8: return DataType::kInt8;
    case I16: return DataType::kInt16;
    case U16: return DataType::kUint16;
    case I32: return DataType::kInt32;
    case FP64: return DataType::kFp64;
    case I64: return DataType::kInt64;
    default: return DataType::kInvalid;
  }
}

template <typename Fn>
Status Resolve(void* handle, const char* name, const std::string& path, Fn* out) {
  dlerror();
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    return FailedPrecondition(std::string(kLoadFailedSym) + ": " + name + "; library: " + path);
  }
  *out = reinterpret_cast<Fn>(symbol);
  return Status::Ok();
}

// prod(dims) × element_size, or nullopt on overflow.
std::optional<uint64_t> ExpectedBytes(const uint64_t* dims, uint64_t count, size_t element_size) {
  uint64_t total = element_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (dims[i] != 0 && total > std::numeric_limits<uint64_t>::max() / dims[i]) return std::nullopt;
    total *= dims[i];
  }
  return total;
}

}  // namespace

Result<std::shared_ptr<const CustomNodeLibrary>> CustomNodeLibrary::Load(const std::string& path) {
  if (path.find("..") != std::string::npos) return FailedPrecondition(std::string(kPathEscape) + ": " + path);
  void* handle = dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = dlerror();
    return FailedPrecondition(std::string(kLoadFailedOpen) + ": " + path + ": " + (error ? error : "unknown error"));
  }
  std::shared_ptr<CustomNodeLibrary> library(new CustomNodeLibrary());
  library->path_ = path;
  library->handle_ = handle;
  TESSERA_RETURN_IF_ERROR(Resolve(handle, "initialize", path, &library->initialize));
  TESSERA_RETURN_IF_ERROR(Resolve(handle, "deinitialize", path, &library->deinitialize));
  TESSERA_RETURN_IF_ERROR(Resolve(handle, "execute", path, &library->execute));
  TESSERA_RETURN_IF_ERROR(Resolve(handle, "getInputsInfo", path, &library->get_inputs_info));
  TESSERA_RETURN_IF_ERROR(Resolve(handle, "getOutputsInfo", path, &library->get_outputs_info));
  TESSERA_RETURN_IF_ERROR(Resolve(handle, "release", path, &library->release));
  TLOG_INFO("Loaded custom node library {}", path);
  return std::shared_ptr<const CustomNodeLibrary>(std::move(library));
}

CustomNodeLibrary::~CustomNodeLibrary() {
  if (handle_ != nullptr) dlclose(handle_);
}

// ---------------------------------------------------------------------------

CustomNode::CustomNode(std::shared_ptr<const CustomNodeLibrary> library, std::string node_name, NodeParams params)
    : library_(std::move(library)), node_name_(std::move(node_name)), params_(std::move(params)) {
  c_params_.reserve(params_.size());
  for (const auto& [key, value] : params_) c_params_.push_back(CustomNodeParam{key.c_str(), value.c_str()});
}

Result<std::shared_ptr<CustomNode>> CustomNode::Create(std::shared_ptr<const CustomNodeLibrary> library,
                                                       std::string node_name, NodeParams params) {
  std::shared_ptr<CustomNode> node(new CustomNode(std::move(library), std::move(node_name), std::move(params)));
  void* manager = nullptr;
  int rc = node->library_->initialize(&manager, node->c_params_.data(), static_cast<int>(node->c_params_.size()));
  if (rc != 0) {
    Status error = FailedPrecondition(std::string(kInitializeFailed) + "; " + node->Describe() +
                                      "; code: " + std::to_string(rc));
    node->library_ = nullptr;  // no handle to deinitialize: the library reported failure
    return error;
  }
  node->manager_ = manager;
  return node;
}

CustomNode::~CustomNode() {
  if (library_ == nullptr) return;
  int rc = library_->deinitialize(manager_);
  if (rc != 0) TLOG_ERROR("Custom node {}: deinitialize of {} returned {}", node_name_, library_->path(), rc);
}

std::string CustomNode::Describe() const { return "node: " + node_name_ + "; library: " + library_->path(); }

Result<std::vector<TensorInfo>> CustomNode::GetInputsInfo() const {
  return GetInfo(library_->get_inputs_info, "getInputsInfo");
}

Result<std::vector<TensorInfo>> CustomNode::GetOutputsInfo() const {
  return GetInfo(library_->get_outputs_info, "getOutputsInfo");
}

Result<std::vector<TensorInfo>> CustomNode::GetInfo(CustomNodeLibrary::InfoFn fn, const char* what) const {
  CustomNodeTensorInfo* info = nullptr;
  int count = 0;
  int rc = fn(&info, &count, c_params_.data(), static_cast<int>(c_params_.size()), manager_);
  if (rc != 0) {
    return FailedPrecondition(std::string(kMetadataFailed) + "; " + Describe() + "; call: " + what +
                              "; code: " + std::to_string(rc));
  }
  if (info == nullptr) return FailedPrecondition(std::string(kOutputsCorrupted) + "; " + Describe() + "; call: " + what);
  if (count <= 0) {
    library_->release(info, manager_);
    return FailedPrecondition(std::string(kOutputsCorruptedCount) + "; " + Describe() + "; call: " + what +
                              "; count: " + std::to_string(count));
  }
  std::vector<TensorInfo> out;
  Status status;
  for (int i = 0; i < count; ++i) {
    const CustomNodeTensorInfo& entry = info[i];
    if (entry.name != nullptr && status.ok()) {
      TensorInfo tensor{entry.name, FromPrecision(entry.precision), {}};
      for (uint64_t d = 0; d < entry.dimsCount && entry.dims != nullptr; ++d) {
        uint64_t dim = entry.dims[d];
        if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          status = FailedPrecondition(std::string(kMetadataFailed) + "; " + Describe() + "; call: " + what +
                                      "; dim " + std::to_string(d) + " of " + entry.name + " is too large");
          break;
        }
        tensor.shape.push_back(dim == 0 ? kDynamicDim : static_cast<int64_t>(dim));
      }
      out.push_back(std::move(tensor));
    }
    if (entry.dims != nullptr) library_->release(entry.dims, manager_);
  }
  library_->release(info, manager_);
  if (!status.ok()) return status;
  return out;
}

Result<NamedTensor> CustomNode::AdoptOutput(const CustomNodeTensor& output) const {
  // Data is owned from here on: by the Tensor on success, released otherwise.
  // The deleter holds the node (and so the library and its handle) until
  // the last Tensor copy dies.
  std::shared_ptr<const void> memory;
  if (output.data != nullptr) {
    memory = std::shared_ptr<const void>(output.data, [node = shared_from_this()](const void* data) {
      node->library_->release(const_cast<void*>(data), node->manager_);
    });
  }
  Shape shape;
  bool dims_fit = true;
  for (uint64_t d = 0; d < output.dimsCount && output.dims != nullptr; ++d) {
    if (output.dims[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) dims_fit = false;
    shape.push_back(static_cast<int64_t>(output.dims[d]));
  }
  std::optional<uint64_t> expected;
  DataType type = FromPrecision(output.precision);
  if (output.dims != nullptr || output.dimsCount == 0) {
    expected = ExpectedBytes(output.dims, output.dimsCount, ElementSize(type));
  }
  if (output.dims != nullptr) library_->release(output.dims, manager_);

  std::string name = output.name != nullptr ? output.name : "";
  if (type == DataType::kInvalid) {
    return Internal(std::string(kInvalidPrecision) + "; node: " + node_name_ + "; output: " + name);
  }
  if (output.data == nullptr) {
    return Internal(std::string(kInvalidContentSize) + "; node: " + node_name_ + "; output: " + name +
                    "; data handle is null");
  }
  if (!dims_fit || !expected || *expected != output.dataBytes) {
    return Internal(std::string(kInvalidContentSize) + "; node: " + node_name_ + "; output: " + name +
                    "; expected: " + (expected && dims_fit ? std::to_string(*expected) : "too many") +
                    " bytes vs " + std::to_string(output.dataBytes));
  }
  Tensor tensor = Tensor::Borrow(type, std::move(shape), output.data, output.dataBytes, std::move(memory));
  return NamedTensor{std::move(name), std::move(tensor)};
}

Result<std::vector<NamedTensor>> CustomNode::Execute(const std::vector<NamedTensor>& inputs,
                                                     const std::vector<std::string>& required_outputs) const {
  std::vector<std::vector<uint64_t>> dims(inputs.size());
  std::vector<CustomNodeTensor> c_inputs(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i].tensor;
    for (int64_t d : t.shape()) dims[i].push_back(static_cast<uint64_t>(d));
    c_inputs[i] = CustomNodeTensor{inputs[i].name.c_str(), const_cast<uint8_t*>(t.data()), t.byte_size(),
                                   dims[i].data(), dims[i].size(), ToPrecision(t.dtype())};
  }
  CustomNodeTensor* outputs = nullptr;
  int count = 0;
  int rc = library_->execute(c_inputs.data(), static_cast<int>(c_inputs.size()), &outputs, &count,
                             c_params_.data(), static_cast<int>(c_params_.size()), manager_);
  if (rc != 0) {
    return Internal(std::string(kExecutionFailed) + "; " + Describe() + "; code: " + std::to_string(rc));
  }
  if (outputs == nullptr) return Internal(std::string(kOutputsCorrupted) + "; " + Describe());
  if (count <= 0) {
    library_->release(outputs, manager_);
    return Internal(std::string(kOutputsCorruptedCount) + "; " + Describe() + "; count: " + std::to_string(count));
  }
  // Every output is adopted before any error returns, so nothing leaks.
  std::vector<NamedTensor> result;
  Status status;
  for (int i = 0; i < count; ++i) {
    auto adopted = AdoptOutput(outputs[i]);
    if (outputs[i].name == nullptr) {
      status = Internal(std::string(kOutputMissingName) + "; node: " + node_name_ + "; output index: " +
                        std::to_string(i));
      continue;
    }
    if (!adopted.ok()) {
      if (status.ok()) status = adopted.status();
      continue;
    }
    result.push_back(std::move(adopted).value());
  }
  library_->release(outputs, manager_);
  if (!status.ok()) return status;
  for (const std::string& name : required_outputs) {
    bool found = std::any_of(result.begin(), result.end(), [&](const NamedTensor& t) { return t.name == name; });
    if (!found) return Internal(std::string(kMissingOutput) + "; node: " + node_name_ + "; output: " + name);
  }
  return result;
}

}  // namespace tessera::custom_node
