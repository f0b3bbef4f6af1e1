// Helpers shared by the libFuzzer harnesses in this folder.
//
// Every harness feeds outside bytes to one parser and only checks what the
// parser promises for any input: it returns (a value or a Status) without
// crashing, leaking or touching memory it does not own. The sanitizers do
// the checking; a harness adds assertions only for stated invariants
// (e.g. a base64 round trip).
#pragma once

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace tessera::fuzz {

// Parsers log warnings for some inputs; a fuzzer runs millions of them.
inline void QuietLogs() { spdlog::set_level(spdlog::level::off); }

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits the input at its first NUL byte: (before, after). Without a NUL the
// second part is empty. Harnesses whose parser takes two byte strings (JSON
// + binary part) use it so the fuzzer controls both.
inline std::pair<std::string_view, std::string_view> SplitAtNul(std::string_view in) {
  size_t nul = in.find('\0');
  if (nul == std::string_view::npos) return {in, {}};
  return {in.substr(0, nul), in.substr(nul + 1)};
}

// A broken stated invariant: reported like a crash so libFuzzer keeps the input.
#define TESSERA_FUZZ_CHECK(cond)                                               \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

}  // namespace tessera::fuzz
