#include "frontend/json/tensor_element.h"

namespace tessera::json {
namespace internal_json {

ElementFit PutNumberSlow(DataType dtype, const JsonNumber& n, char* out) {
  switch (dtype) {
    case DataType::kFp32: return PutNumber(dtype, n, out);
    case DataType::kFp64: {
      double d;
      if (!ToDouble(n, &d)) return ElementFit::kOutOfRange;
      return Put(d, out);
    }
    case DataType::kFp16:
    case DataType::kBf16: {
      double d;
      if (!ToDouble(n, &d)) return ElementFit::kOutOfRange;
      return PutHalf(dtype, d, out);
    }
    case DataType::kInt8: return PutInteger<int8_t>(n, out);
    case DataType::kInt16: return PutInteger<int16_t>(n, out);
    case DataType::kInt32: return PutInteger<int32_t>(n, out);
    case DataType::kInt64: return PutInteger<int64_t>(n, out);
    case DataType::kUint8: return PutInteger<uint8_t>(n, out);
    case DataType::kUint16: return PutInteger<uint16_t>(n, out);
    case DataType::kUint32: return PutInteger<uint32_t>(n, out);
    case DataType::kUint64: return PutInteger<uint64_t>(n, out);
    default: return ElementFit::kNotNumeric;
  }
}

}  // namespace internal_json

ElementFit PutNonFinite(DataType dtype, double d, char* out) {
  switch (dtype) {
    case DataType::kFp32: return internal_json::Put(static_cast<float>(d), out);
    case DataType::kFp64: return internal_json::Put(d, out);
    case DataType::kFp16:
    case DataType::kBf16: return internal_json::PutHalf(dtype, d, out);
    default:
      if (!IsIntegerType(dtype)) return ElementFit::kNotNumeric;
      return std::isnan(d) ? ElementFit::kNotInteger : ElementFit::kOutOfRange;
  }
}

}  // namespace tessera::json
