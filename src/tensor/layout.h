// Layouts: the names of a tensor's dimensions, as OVMS's `layout` setting
// spells them. A layout is one upper-case letter per dimension ('?' for an
// unnamed one), optionally followed by "..." (any number of further dims):
// "NCHW", "NHWC", "NC", "N...", "...". Letters other than '?' are unique.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tensor/shape.h"
#include "tensor/tensor.h"

namespace tessera {

struct Layout {
  std::string letters;  // one per leading dimension
  bool open = false;    // ends in "..."

  // Position of dimension `letter`, nullopt when absent.
  std::optional<size_t> IndexOf(char letter) const;
  // True when a tensor of `rank` dimensions can have this layout.
  bool FitsRank(size_t rank) const;
  std::string ToString() const { return letters + (open ? "..." : ""); }
  bool operator==(const Layout&) const = default;
};

// kInvalidArgument naming the text when it is not a layout.
Result<Layout> ParseLayout(std::string_view text);

// A `layout` setting: "NCHW" (clients and model use the same layout) or
// "CLIENT:MODEL" such as "NHWC:NCHW": clients send NHWC data, the server
// transposes it into the model's NCHW. A transposing setting names every
// dimension ("..." and '?' are refused) with the same letters on both sides.
struct LayoutSetting {
  Layout client;
  Layout model;
  bool Transposes() const { return client.letters != model.letters; }
};

Result<LayoutSetting> ParseLayoutSetting(std::string_view text);

// The permutation p with model_dim[i] = client_dim[p[i]]; identity when the
// setting does not transpose.
std::vector<size_t> ClientToModelPermutation(const LayoutSetting& setting);

// The inverse permutation: q[p[i]] = i.
std::vector<size_t> InversePermutation(const std::vector<size_t>& p);

// out[i] = v[p[i]]. REQUIRES: p is a permutation of v's indices.
template <typename T>
std::vector<T> Permute(const std::vector<T>& v, const std::vector<size_t>& p) {
  std::vector<T> out;
  out.reserve(p.size());
  for (size_t i : p) out.push_back(v[i]);
  return out;
}

// A new owned tensor holding `in` with its dimensions reordered by `p`
// (out shape = Permute(in.shape(), p)). REQUIRES: fixed-size dtype, p a
// permutation of in's dims, in's byte size consistent with its shape.
Tensor Transpose(const Tensor& in, const std::vector<size_t>& p);

}  // namespace tessera
