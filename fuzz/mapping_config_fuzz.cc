// mapping_config.json (src/repository/mapping_config.h).
#include "fuzz_common.h"
#include "repository/mapping_config.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)tessera::ParseMappingConfig(tessera::fuzz::AsText(data, size), "mapping_config.json");
  return 0;
}
