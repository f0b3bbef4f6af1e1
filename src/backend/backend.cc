#include "backend/backend.h"

namespace tessera {

Result<Backend*> BackendRegistry::Find(const std::vector<std::string>& file_names) const {
  for (const auto& backend : backends_) {
    if (backend->Accepts(file_names)) return backend.get();
  }
  std::string listed;
  for (const auto& f : file_names) listed += (listed.empty() ? "" : ", ") + f;
  return NotFound("No model file found in version directory (files: [" + listed +
                  "]); expected *.pt, *.torchscript or *.onnx");
}

}  // namespace tessera
