// The server's name and version as reported by --version and ServerMetadata.
#pragma once

namespace tessera {
inline constexpr char kTesseraVersion[] = "0.1.0";
}  // namespace tessera
