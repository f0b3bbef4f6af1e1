// Code shared by the bare baseline servers of run_all.py
// (bare_grpc_server.cc, bare_http_server.cc). Header-only, bench use only.
#pragma once

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace bare {

// The whole file, or "" when it cannot be read.
inline std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Value of `--name` in argv (pairs of flag and value), or nullptr.
inline const char* Flag(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return nullptr;
}

// Blocks SIGINT and SIGTERM in this thread and every thread started after;
// WaitForSignal() then waits for one of them.
inline sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Prints "listening on <port>" for the driver, then waits for a stop signal.
inline void ServeUntilSignal(const sigset_t& signals, int port) {
  std::printf("listening on %d\n", port);
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
}

}  // namespace bare
