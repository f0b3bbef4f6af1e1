// DataType: element types a tensor may hold, named as KServe v2 names them.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace tessera {

enum class DataType {
  kInvalid,
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kBf16,
  kFp32,
  kFp64,
  kBytes,  // variable-length strings; raw form: 4-byte LE length + bytes each
};

// Bytes per element; 0 for kBytes and kInvalid (variable or unknown size).
size_t ElementSize(DataType type);

// True for the signed and unsigned integer types (not BOOL).
bool IsIntegerType(DataType type);

// KServe v2 name ("FP32", "BYTES", ...); "INVALID" for kInvalid.
std::string_view KServeName(DataType type);

// Inverse of KServeName (exact, upper-case); nullopt when unknown.
std::optional<DataType> DataTypeFromKServeName(std::string_view name);

}  // namespace tessera
