// Custom node libraries: shared objects implementing the OVMS custom node C
// interface (custom_node/custom_node_interface.h), and the per-node handles
// made from them.
//
// Ownership: a CustomNodeLibrary is shared (std::shared_ptr) by every node
// made from it; the object is dlclose'd when the last holder is gone. A
// CustomNode holds its library, and every output tensor of Execute holds its
// CustomNode, so `release` and `deinitialize` always run while the library
// is loaded and the node's handle is alive.
//
// Thread-safety: every const method may be called concurrently (the library
// must be thread-safe, as OVMS requires).
//
// Errors: every message starts with OVMS's text for the condition, then the
// details (node, output, path, sizes). Codes: a library that cannot be used
// (open, symbols, initialize, metadata) is kFailedPrecondition; a library
// that misbehaves while executing is kInternal.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "tensor/signature.h"

struct CustomNodeTensor;
struct CustomNodeTensorInfo;
struct CustomNodeParam;

namespace tessera::custom_node {

// OVMS's texts (src/status.cpp), used as message prefixes.
inline constexpr const char kLoadFailedOpen[] = "Custom node library failed to open";
inline constexpr const char kLoadFailedSym[] = "Custom node library failed to load symbol";
inline constexpr const char kPathEscape[] = "Path escape with .. is forbidden";
inline constexpr const char kInitializeFailed[] = "Failure during custom node library initialization";
inline constexpr const char kMetadataFailed[] = "Custom node failed on metadata call";
inline constexpr const char kExecutionFailed[] = "Custom node failed during execution";
inline constexpr const char kOutputsCorrupted[] = "Custom node library has returned corrupted outputs handle";
inline constexpr const char kOutputsCorruptedCount[] =
    "Custom node library has produced corrupted number of outputs";
inline constexpr const char kInvalidPrecision[] = "Custom node has produced tensor with unspecified precision";
inline constexpr const char kInvalidContentSize[] = "Custom node output has invalid content size";
inline constexpr const char kOutputMissingName[] = "Custom node output is missing name";
inline constexpr const char kMissingOutput[] = "Custom node output is missing";

// The six entry points, resolved from one shared object.
class CustomNodeLibrary {
 public:
  using InitializeFn = int (*)(void**, const CustomNodeParam*, int);
  using DeinitializeFn = int (*)(void*);
  using ExecuteFn = int (*)(const CustomNodeTensor*, int, CustomNodeTensor**, int*, const CustomNodeParam*, int,
                            void*);
  using InfoFn = int (*)(CustomNodeTensorInfo**, int*, const CustomNodeParam*, int, void*);
  using ReleaseFn = int (*)(void*, void*);

  // dlopen(path, RTLD_LAZY | RTLD_LOCAL), then every symbol. Errors
  // (kFailedPrecondition): a path containing ".." ("Path escape with .. is
  // forbidden: <path>"), open failure ("Custom node library failed to open:
  // <path>: <dlerror>"), a missing symbol ("Custom node library failed to
  // load symbol: <name>; library: <path>"), checked in the order initialize,
  // deinitialize, execute, getInputsInfo, getOutputsInfo, release.
  static Result<std::shared_ptr<const CustomNodeLibrary>> Load(const std::string& path);

  ~CustomNodeLibrary();
  CustomNodeLibrary(const CustomNodeLibrary&) = delete;
  CustomNodeLibrary& operator=(const CustomNodeLibrary&) = delete;

  const std::string& path() const { return path_; }

  InitializeFn initialize = nullptr;
  DeinitializeFn deinitialize = nullptr;
  ExecuteFn execute = nullptr;
  InfoFn get_inputs_info = nullptr;
  InfoFn get_outputs_info = nullptr;
  ReleaseFn release = nullptr;

 private:
  CustomNodeLibrary() = default;
  std::string path_;
  void* handle_ = nullptr;
};

using NodeParams = std::map<std::string, std::string>;

// One custom node of a pipeline: the library initialized with that node's
// params. Destroying it calls deinitialize (a failure is only logged).
class CustomNode : public std::enable_shared_from_this<CustomNode> {
 public:
  // Calls initialize with `params`. Error: kFailedPrecondition "Failure
  // during custom node library initialization; node: <n>; library: <path>;
  // code: <rc>".
  static Result<std::shared_ptr<CustomNode>> Create(std::shared_ptr<const CustomNodeLibrary> library,
                                                    std::string node_name, NodeParams params);
  ~CustomNode();
  CustomNode(const CustomNode&) = delete;
  CustomNode& operator=(const CustomNode&) = delete;

  const std::string& node_name() const { return node_name_; }
  const CustomNodeLibrary& library() const { return *library_; }

  // getInputsInfo / getOutputsInfo as core TensorInfo. A dim of 0 becomes -1
  // (any); a precision the interface lacks (UNSPECIFIED) becomes kInvalid;
  // entries without a name are skipped. Errors (kFailedPrecondition):
  // non-zero return (kMetadataFailed), null array (kOutputsCorrupted),
  // count <= 0 (kOutputsCorruptedCount), a dim above INT64_MAX.
  Result<std::vector<TensorInfo>> GetInputsInfo() const;
  Result<std::vector<TensorInfo>> GetOutputsInfo() const;

  // Runs execute on views of `inputs` (no copy; types without an interface
  // precision are passed as UNSPECIFIED) and returns every well-formed
  // output as a Tensor borrowing the library's memory; the memory is given
  // back through release when the last copy of that Tensor dies. Each name
  // in `required_outputs` must be among the outputs (kMissingOutput).
  // Checks, in OVMS's order: non-zero return (kExecutionFailed, nothing
  // released); null outputs (kOutputsCorrupted); count <= 0
  // (kOutputsCorruptedCount); per output: UNSPECIFIED precision
  // (kInvalidPrecision), null data or dataBytes != prod(dims) × element
  // size (kInvalidContentSize), null name (kOutputMissingName, which wins
  // over the others). Every output is released on every error path.
  Result<std::vector<NamedTensor>> Execute(const std::vector<NamedTensor>& inputs,
                                           const std::vector<std::string>& required_outputs) const;

 private:
  CustomNode(std::shared_ptr<const CustomNodeLibrary> library, std::string node_name, NodeParams params);
  Result<std::vector<TensorInfo>> GetInfo(CustomNodeLibrary::InfoFn fn, const char* what) const;
  // Converts one output; takes ownership of its data and dims in every case.
  Result<NamedTensor> AdoptOutput(const CustomNodeTensor& output) const;
  std::string Describe() const;  // "node: <n>; library: <path>"

  std::shared_ptr<const CustomNodeLibrary> library_;
  std::string node_name_;
  NodeParams params_;
  std::vector<CustomNodeParam> c_params_;  // points into params_
  void* manager_ = nullptr;
};

}  // namespace tessera::custom_node
