// tessera: the model server's entry point. Flag parsing and wiring live in
// server/; this only reports their outcome.
#include <cstdio>

#include "backend/torch/openmp_wait_policy.h"
#include "common/logging.h"
#include "server/options.h"
#include "server/server.h"

int main(int argc, char** argv) {
  // Before anything else: may re-execute the program (see the header).
  tessera::UseTesseraOpenMpWaitPolicy(argv);
  auto parsed = tessera::ParseCommandLine(argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
    return 1;
  }
  if (parsed->action != tessera::ParsedCommandLine::Action::kServe) {  // --help, --version
    std::fputs(parsed->text.c_str(), stdout);
    return 0;
  }
  const tessera::ServerOptions& options = parsed->options;
  tessera::Status logging = tessera::ConfigureLogging(options.log_level, options.log_path);
  if (!logging.ok()) {
    std::fprintf(stderr, "%s\n", logging.message().c_str());
    return 1;
  }
  return tessera::RunServerUntilSignal(options);
}
