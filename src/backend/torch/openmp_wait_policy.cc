#include "backend/torch/openmp_wait_policy.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tessera {

void UseTesseraOpenMpWaitPolicy(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) {
    return;
  }
  if (setenv("OMP_WAIT_POLICY", kTesseraWaitPolicy, /*overwrite=*/0) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: exec failed. Carry on with libgomp's defaults.
  std::fprintf(stderr, "Cannot re-execute /proc/self/exe to set OMP_WAIT_POLICY (%s); OpenMP "
                       "keeps its default wait policy\n",
               std::strerror(errno));
  unsetenv("OMP_WAIT_POLICY");
}

}  // namespace tessera
