#include "pipeline/entry_images.h"

#include <memory>
#include <utility>

#include "image/image_decoder.h"

namespace tessera::pipeline {
namespace {

// A metadata dim (-1 or 0: any size) as a decoder target dim.
Dim TargetDim(int64_t size) { return size > 0 ? Dim::Fixed(size) : Dim::Any(); }

}  // namespace

bool IsEncodedImageInput(const TensorInfo& info, const Tensor& sent, bool entry_demultiplexes) {
  return sent.dtype() == DataType::kBytes && info.dtype != DataType::kBytes &&
         info.dtype != DataType::kInvalid && info.shape.size() == ImageInputRank(entry_demultiplexes);
}

Result<Tensor> DecodeEntryImages(const TensorInfo& info, const Tensor& encoded, bool entry_demultiplexes,
                                 int64_t max_image_pixels) {
  const Shape& s = info.shape;
  size_t h = s.size() - 3;
  image::ImageTarget target{info.dtype, TargetDim(s[h]), TargetDim(s[h + 1]), TargetDim(s[h + 2]),
                            max_image_pixels};
  TESSERA_ASSIGN_OR_RETURN(Tensor images, image::DecodeImageTensor(info.name, encoded, target));
  if (!entry_demultiplexes) return images;
  // (N,H,W,C) -> (N,1,H,W,C): a view of the same bytes.
  Shape shape = images.shape();
  shape.insert(shape.begin() + 1, 1);
  auto whole = std::make_shared<Tensor>(std::move(images));
  return Tensor::Borrow(whole->dtype(), std::move(shape), whole->data(), whole->byte_size(), whole);
}

}  // namespace tessera::pipeline
