// Backend / LoadedModel: the engine interface. A Backend turns the files of
// one version directory into a LoadedModel; a LoadedModel runs inference.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tensor/signature.h"

namespace tessera {

struct LoadOptions {
  std::string version_dir;               // absolute path of base_path/<N>
  std::vector<std::string> file_names;   // entries of version_dir
  int intra_op_threads = 1;              // threads each Run may use
  std::map<std::string, std::string> plugin_config;
};

class LoadedModel {
 public:
  virtual ~LoadedModel() = default;

  // Immutable after load.
  virtual const ModelSignature& signature() const = 0;
  // KServe platform name, e.g. "pytorch_torchscript", "onnx_onnxv1".
  virtual std::string platform() const = 0;

  // Thread-safe; called concurrently from the model's workers.
  // REQUIRES: `inputs` are in signature().inputs order and were validated
  // against it (names, dtypes, shapes, byte sizes).
  // Returns every output in signature().outputs order; output tensors may
  // keep engine memory alive through their keepalive.
  virtual Result<std::vector<NamedTensor>> Run(const std::vector<NamedTensor>& inputs) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // True when this backend recognises a model file among `file_names`.
  virtual bool Accepts(const std::vector<std::string>& file_names) const = 0;
  // Loads, optimises and returns the model. Never throws.
  virtual Result<std::unique_ptr<LoadedModel>> Load(const LoadOptions& options) = 0;
};

// The path of the one entry of options.file_names that `matches`:
// kNotFound "No <kind> file (<patterns>) in <dir>" when there is none,
// kInvalidArgument naming them when there are several (which one to serve
// would be a guess).
Result<std::string> FindSingleModelFile(const LoadOptions& options,
                                        bool (*matches)(std::string_view name),
                                        const std::string& kind, const std::string& patterns);

// Owns the backends; picks the first that accepts a version directory.
class BackendRegistry {
 public:
  void Add(std::unique_ptr<Backend> backend) { backends_.push_back(std::move(backend)); }
  // kNotFound with the file list when no backend accepts the files.
  Result<Backend*> Find(const std::vector<std::string>& file_names) const;

 private:
  std::vector<std::unique_ptr<Backend>> backends_;
};

}  // namespace tessera
