#include "backend/backend.h"

#include <algorithm>

namespace tessera {

Result<std::string> FindSingleModelFile(const LoadOptions& options,
                                        bool (*matches)(std::string_view name),
                                        const std::string& kind, const std::string& patterns) {
  std::vector<std::string> found;
  for (const auto& name : options.file_names) {
    if (matches(name)) found.push_back(name);
  }
  if (found.empty()) {
    return NotFound("No " + kind + " file (" + patterns + ") in " + options.version_dir);
  }
  if (found.size() > 1) {
    std::sort(found.begin(), found.end());
    std::string names;
    for (const auto& f : found) names += (names.empty() ? "" : ", ") + f;
    return InvalidArgument("More than one " + kind + " file in " + options.version_dir + ": " +
                           names + "; keep exactly one model file per version directory");
  }
  const std::string& dir = options.version_dir;
  if (dir.empty() || dir.back() == '/') return dir + found[0];
  return dir + "/" + found[0];
}

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
