#include "serving/model_interface.h"

#include <set>

#include "image/image_decoder.h"

namespace tessera {
namespace {

constexpr char kAuto[] = "auto";

// The setting naming this input (by model or client name), else the
// whole-model one.
const std::string* SettingFor(const PerInputSetting& setting, const TensorInfo& model,
                              const std::string& client_name) {
  for (const std::string* name : {&client_name, &model.name}) {
    auto it = setting.per_input.find(*name);
    if (it != setting.per_input.end()) return &it->second;
  }
  return setting.whole_model ? &*setting.whole_model : nullptr;
}

// Every per-input key must name an input (by model or client name).
Status CheckNames(const PerInputSetting& setting, const char* key, const ModelSignature& model,
                  const std::map<std::string, std::string>& renames) {
  for (const auto& [name, value] : setting.per_input) {
    bool known = false;
    for (const auto& input : model.inputs) {
      auto renamed = renames.find(input.name);
      known |= input.name == name || (renamed != renames.end() && renamed->second == name);
    }
    if (!known) return InvalidArgument(std::string(key) + " given for unknown input " + name);
  }
  return Status::Ok();
}

Status CheckMapping(const std::map<std::string, std::string>& renames,
                    const std::vector<TensorInfo>& tensors, const char* kind) {
  std::set<std::string> names;
  for (const auto& t : tensors) {
    auto it = renames.find(t.name);
    names.insert(it == renames.end() ? t.name : it->second);
  }
  if (names.size() != tensors.size()) {
    return InvalidArgument(std::string("mapping_config.json gives two ") + kind + "s the same name");
  }
  for (const auto& [from, to] : renames) {
    bool found = false;
    for (const auto& t : tensors) found |= t.name == from;
    if (!found) {
      return InvalidArgument(std::string("mapping_config.json renames unknown ") + kind + " " + from);
    }
  }
  return Status::Ok();
}

std::string ClientName(const std::map<std::string, std::string>& renames, const std::string& name) {
  auto it = renames.find(name);
  return it == renames.end() ? name : it->second;
}

// The shape the model takes for `model` after `shape` and `batch_size`.
Result<ShapeConstraint> ModelShape(const TensorInfo& model, const std::string* shape_setting,
                                   const std::optional<std::string>& batch_size,
                                   const std::optional<Layout>& model_layout) {
  ShapeConstraint shape = ShapeConstraint::FromShape(model.shape);
  const std::string where = " for input " + model.name;
  if (shape_setting && *shape_setting == kAuto) {
    for (Dim& d : shape.spec) d = Dim::Any();
  } else if (shape_setting) {
    auto spec = ParseShapeSpec(*shape_setting);
    if (!spec.ok()) return InvalidArgument("shape" + where + ": " + spec.status().message());
    if (!shape.any_rank && spec->size() != shape.spec.size()) {
      return InvalidArgument("shape " + *shape_setting + where + " has " +
                             std::to_string(spec->size()) + " dims, the model's " +
                             ShapeToString(model.shape) + " has " +
                             std::to_string(model.shape.size()));
    }
    shape = {false, *spec, std::nullopt};
  }
  if (shape.any_rank) return shape;
  if (model_layout && !model_layout->FitsRank(shape.spec.size())) {
    return InvalidArgument("layout " + model_layout->ToString() + where + " does not fit shape " +
                           SpecToString(shape.spec));
  }
  if (model_layout) {
    shape.batch_index = model_layout->IndexOf('N');
  } else if (!shape.spec.empty()) {
    shape.batch_index = 0;
  }
  if (batch_size && shape.batch_index && !shape_setting) {
    if (*batch_size == kAuto) {
      shape.spec[*shape.batch_index] = Dim::Any();
    } else {
      auto dim = ParseDim(*batch_size);
      if (!dim.ok()) return InvalidArgument("batch_size: " + dim.status().message());
      shape.spec[*shape.batch_index] = *dim;
    }
  }
  return shape;
}

Shape SmallestShape(const ShapeSpec& spec) {
  Shape shape;
  for (const Dim& d : spec) shape.push_back(d.fixed() ? d.lo : std::max<int64_t>(d.lo, 1));
  return shape;
}

}  // namespace

ModelInterface ModelInterface::Identity(const ModelSignature& model) {
  return *Make(model, ModelConfig{}, TensorNameMapping{});
}

Result<ModelInterface> ModelInterface::Make(const ModelSignature& model, const ModelConfig& config,
                                            const TensorNameMapping& mapping,
                                            int64_t max_image_pixels) {
  TESSERA_RETURN_IF_ERROR(CheckMapping(mapping.inputs, model.inputs, "input"));
  TESSERA_RETURN_IF_ERROR(CheckMapping(mapping.outputs, model.outputs, "output"));
  TESSERA_RETURN_IF_ERROR(CheckNames(config.shape, "shape", model, mapping.inputs));
  TESSERA_RETURN_IF_ERROR(CheckNames(config.layout, "layout", model, mapping.inputs));
  ModelInterface made;
  made.max_image_pixels_ = max_image_pixels;
  for (const TensorInfo& info : model.inputs) {
    const std::string client_name = ClientName(mapping.inputs, info.name);
    std::optional<LayoutSetting> layout;
    if (const std::string* text = SettingFor(config.layout, info, client_name)) {
      auto parsed = ParseLayoutSetting(*text);
      if (!parsed.ok()) {
        return InvalidArgument("layout for input " + info.name + ": " + parsed.status().message());
      }
      layout = *parsed;
    }
    TESSERA_ASSIGN_OR_RETURN(
        ShapeConstraint shape,
        ModelShape(info, SettingFor(config.shape, info, client_name), config.batch_size,
                   layout ? std::optional<Layout>(layout->model) : std::nullopt));
    Input input{info.name, shape, std::nullopt, {}};
    if (layout) input.client_layout = layout->client;
    if (layout && layout->Transposes()) {
      if (shape.any_rank) {
        return InvalidArgument("layout " + layout->client.ToString() + ":" +
                               layout->model.ToString() + " for input " + info.name +
                               " needs a known shape: set its shape");
      }
      input.to_model = ClientToModelPermutation(*layout);
      input.client_shape.spec = Permute(shape.spec, InversePermutation(input.to_model));
      input.client_shape.batch_index = layout->client.IndexOf('N');
    }
    made.client_.inputs.push_back(
        {client_name, info.dtype,
         shape.any_rank ? Shape{} : MetadataShape(input.client_shape.spec)});
    made.inputs_.push_back(std::move(input));
  }
  for (const TensorInfo& info : model.outputs) {
    made.client_.outputs.push_back({ClientName(mapping.outputs, info.name), info.dtype, info.shape});
  }
  return made;
}

Result<Tensor> ModelInterface::DecodeImages(const Input& input, const TensorInfo& info,
                                            const Tensor& encoded) const {
  const ShapeConstraint& shape = input.client_shape;
  if (shape.any_rank || shape.spec.size() != 4) {
    return InvalidArgument(
        "Invalid input precision - Expected: " + std::string(KServeName(info.dtype)) +
        "; Actual: BYTES; input name: " + info.name +
        " (encoded images are only accepted by 4-D NHWC inputs; this one has " +
        (shape.any_rank ? std::string("unknown rank") : "shape " + SpecToString(shape.spec)) + ")");
  }
  if (input.client_layout && input.client_layout->letters != "NHWC") {
    return InvalidArgument("Input " + info.name + " has layout " +
                           input.client_layout->ToString() +
                           "; encoded images need NHWC (configure layout NHWC:" +
                           input.client_layout->ToString() + " to have them transposed)");
  }
  const ShapeSpec& s = shape.spec;
  return image::DecodeImageTensor(info.name, encoded, {info.dtype, s[1], s[2], s[3], max_image_pixels_});
}

Result<std::vector<NamedTensor>> ModelInterface::PrepareInputs(
    const std::vector<NamedTensor>& inputs) const {
  TESSERA_ASSIGN_OR_RETURN(auto matched, MatchInputs(client_, inputs));
  std::vector<NamedTensor> prepared;
  prepared.reserve(matched.size());
  for (size_t i = 0; i < matched.size(); ++i) {
    const TensorInfo& info = client_.inputs[i];
    const Input& input = inputs_[i];
    Tensor tensor = matched[i]->tensor;
    if (tensor.dtype() == DataType::kBytes && info.dtype != DataType::kBytes) {
      TESSERA_ASSIGN_OR_RETURN(tensor, DecodeImages(input, info, tensor));
    }
    TESSERA_RETURN_IF_ERROR(CheckInput(info, input.client_shape, tensor));
    if (!input.to_model.empty()) tensor = Transpose(tensor, input.to_model);
    prepared.push_back({input.model_name, std::move(tensor)});
  }
  return prepared;
}

std::optional<std::vector<Shape>> ModelInterface::WarmupShapes() const {
  std::vector<Shape> shapes;
  for (const Input& input : inputs_) {
    if (input.client_shape.any_rank) return std::nullopt;
    const ShapeSpec& client = input.client_shape.spec;
    shapes.push_back(SmallestShape(input.to_model.empty() ? client : Permute(client, input.to_model)));
  }
  return shapes;
}

}  // namespace tessera
