// ModelInterface: what clients see of one loaded model version and how their
// tensors become the model's. Built at load time from the model's own
// signature and the model's config:
//
//  - mapping_config.json renames inputs and outputs (client names);
//  - `shape` replaces an input's shape (in the model's layout; "auto" makes
//    every dim dynamic), `batch_size` replaces its batch dim (the 'N' of its
//    layout, else dim 0) unless `shape` names that input;
//  - `layout` "CLIENT:MODEL" (e.g. "NHWC:NCHW") makes clients send CLIENT
//    order, transposed here into the model's order; plain "NCHW" only names
//    the dims;
//  - `max_image_pixels` (the server's --max_image_pixels) bounds the size
//    an encoded image may declare.
//
// Requests are validated against the effective shapes (ranges included),
// BYTES sent to a 4-D non-BYTES input are decoded as images (image/), then
// transposed; the model receives its own names, order and layout.
//
// Immutable after Make; all methods may be called concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "image/image_decoder.h"
#include "repository/mapping_config.h"
#include "repository/model_config.h"
#include "serving/request_validator.h"
#include "tensor/layout.h"
#include "tensor/signature.h"

namespace tessera {

class ModelInterface {
 public:
  // kInvalidArgument naming the setting when shape, layout, batch_size or the
  // mapping do not fit `model` (unknown input, rank mismatch, bad text).
  static Result<ModelInterface> Make(const ModelSignature& model, const ModelConfig& config,
                                     const TensorNameMapping& mapping,
                                     int64_t max_image_pixels = image::kDefaultMaxImagePixels);
  // Identity interface: the model's own signature.
  static ModelInterface Identity(const ModelSignature& model);

  // Client names, client layout, effective shapes (-1 for ranges); the
  // signature the metadata calls report.
  const ModelSignature& client_signature() const { return client_; }

  // The model's inputs, in its signature order, with its names and layout,
  // made from the request's inputs. REQUIRES: `inputs` outlive the result
  // (tensors that need no conversion share their bytes).
  Result<std::vector<NamedTensor>> PrepareInputs(const std::vector<NamedTensor>& inputs) const;

  // Shapes, in the model's layout, to warm the model up with: each dim's
  // smallest accepted size (dynamic: 1). nullopt when a rank is unknown.
  std::optional<std::vector<Shape>> WarmupShapes() const;

 private:
  struct Input {
    std::string model_name;
    ShapeConstraint client_shape;          // in the client's layout
    std::optional<Layout> client_layout;   // when configured
    std::vector<size_t> to_model;          // permutation; empty: none
  };

  Result<Tensor> DecodeImages(const Input& input, const TensorInfo& info,
                              const Tensor& encoded) const;

  ModelSignature client_;
  std::vector<Input> inputs_;  // parallel to client_.inputs and the model's inputs
  int64_t max_image_pixels_ = image::kDefaultMaxImagePixels;
};

}  // namespace tessera
