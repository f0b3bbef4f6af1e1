#include "tensor/layout.h"

#include <algorithm>
#include <cstring>

namespace tessera {

std::optional<size_t> Layout::IndexOf(char letter) const {
  size_t i = letters.find(letter);
  if (i == std::string::npos) return std::nullopt;
  return i;
}

bool Layout::FitsRank(size_t rank) const {
  return open ? rank >= letters.size() : rank == letters.size();
}

Result<Layout> ParseLayout(std::string_view text) {
  Layout layout;
  std::string_view s = text;
  if (s.size() >= 3 && s.substr(s.size() - 3) == "...") {
    layout.open = true;
    s.remove_suffix(3);
  }
  for (char c : s) {
    const bool letter = (c >= 'A' && c <= 'Z') || c == '?';
    if (!letter || (c != '?' && layout.letters.find(c) != std::string::npos)) {
      return InvalidArgument("Invalid layout '" + std::string(text) +
                             "': expected unique upper-case dimension letters ('?' for an "
                             "unnamed one), optionally ending in '...', e.g. NCHW or N...");
    }
    layout.letters += c;
  }
  if (layout.letters.empty() && !layout.open) return InvalidArgument("Empty layout");
  return layout;
}

Result<LayoutSetting> ParseLayoutSetting(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    TESSERA_ASSIGN_OR_RETURN(Layout layout, ParseLayout(text));
    return LayoutSetting{layout, layout};
  }
  TESSERA_ASSIGN_OR_RETURN(Layout client, ParseLayout(text.substr(0, colon)));
  TESSERA_ASSIGN_OR_RETURN(Layout model, ParseLayout(text.substr(colon + 1)));
  LayoutSetting setting{client, model};
  if (!setting.Transposes() && client.open == model.open) return setting;
  std::string sorted_client = client.letters, sorted_model = model.letters;
  std::sort(sorted_client.begin(), sorted_client.end());
  std::sort(sorted_model.begin(), sorted_model.end());
  if (client.open || model.open || sorted_client != sorted_model ||
      client.letters.find('?') != std::string::npos) {
    return InvalidArgument("Invalid layout '" + std::string(text) +
                           "': CLIENT:MODEL must name the same dimensions on both sides, "
                           "without '?' or '...', e.g. NHWC:NCHW");
  }
  return setting;
}

std::vector<size_t> ClientToModelPermutation(const LayoutSetting& setting) {
  std::vector<size_t> p(setting.model.letters.size());
  for (size_t i = 0; i < p.size(); ++i) {
    p[i] = setting.Transposes() ? *setting.client.IndexOf(setting.model.letters[i]) : i;
  }
  return p;
}

std::vector<size_t> InversePermutation(const std::vector<size_t>& p) {
  std::vector<size_t> q(p.size());
  for (size_t i = 0; i < p.size(); ++i) q[p[i]] = i;
  return q;
}

Tensor Transpose(const Tensor& in, const std::vector<size_t>& p) {
  const Shape& shape = in.shape();
  const size_t rank = shape.size();
  const size_t element = ElementSize(in.dtype());
  Tensor out = Tensor::Allocate(in.dtype(), Permute(shape, p));
  if (out.byte_size() == 0) return out;
  // Input strides (in elements), visited in output order.
  std::vector<int64_t> in_strides(rank, 1);
  for (size_t i = rank; i-- > 1;) in_strides[i - 1] = in_strides[i] * shape[i];
  const std::vector<int64_t> strides = Permute(in_strides, p);
  const Shape& out_shape = out.shape();
  std::vector<int64_t> index(rank, 0);
  const uint8_t* src = in.data();
  uint8_t* dst = out.mutable_data();
  const int64_t count = out.element_count();
  int64_t offset = 0;  // input element offset of `index`
  for (int64_t n = 0; n < count; ++n) {
    std::memcpy(dst + n * element, src + offset * element, element);
    for (size_t d = rank; d-- > 0;) {  // odometer increment
      offset += strides[d];
      if (++index[d] < out_shape[d]) break;
      offset -= strides[d] * out_shape[d];
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace tessera
