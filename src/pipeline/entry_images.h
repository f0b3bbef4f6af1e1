// Encoded images sent to a pipeline input: decoded once, at the pipeline's
// entry, when no model interface would do it (OVMS: a custom node's inputs
// take binary input; so do inputs demultiplexed at the entry).
//
// A pipeline input receives encoded images when the request sends BYTES for
// an input whose metadata is of another type and has the image rank: 4
// (N,H,W,C), or 5 (N,1,H,W,C) when "request" demultiplexes, where each image
// becomes one shard of shape (1,H,W,C). H, W, C and the type come from the
// input's metadata (the consuming node's input info; -1 is any size); the
// rules are those of image/image_decoder.h (no colour conversion, bilinear
// resize to a fixed H/W, no scaling, --max_image_pixels).
//
// Thread-safety: stateless; may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "tensor/signature.h"
#include "tensor/tensor.h"

namespace tessera::pipeline {

// The metadata rank of a pipeline input that takes encoded images.
inline size_t ImageInputRank(bool entry_demultiplexes) { return entry_demultiplexes ? 5 : 4; }

// True when `sent` is encoded images for the input described by `info`.
bool IsEncodedImageInput(const TensorInfo& info, const Tensor& sent, bool entry_demultiplexes);

// Decodes `encoded` (a 1-D BYTES tensor of N images) into (N,H,W,C), or
// (N,1,H,W,C) when the entry demultiplexes. REQUIRES:
// IsEncodedImageInput(info, encoded, entry_demultiplexes). Errors:
// kInvalidArgument naming the input and the image.
Result<Tensor> DecodeEntryImages(const TensorInfo& info, const Tensor& encoded, bool entry_demultiplexes,
                                 int64_t max_image_pixels);

}  // namespace tessera::pipeline
