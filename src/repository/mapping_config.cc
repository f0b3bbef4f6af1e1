#include "repository/mapping_config.h"

#include <rapidjson/document.h>

#include "repository/config_schema.h"

namespace tessera {
namespace {

Status ReadNames(const rapidjson::Value& v, const std::string& where,
                 std::map<std::string, std::string>* out) {
  if (!v.IsObject()) return InvalidArgument(where + " must be an object of name -> name");
  for (const auto& member : v.GetObject()) {
    std::string from(member.name.GetString(), member.name.GetStringLength());
    if (!member.value.IsString() || member.value.GetStringLength() == 0) {
      return InvalidArgument(where + "/" + from + " must be a non-empty string");
    }
    (*out)[from] = std::string(member.value.GetString(), member.value.GetStringLength());
  }
  return Status::Ok();
}

}  // namespace

Result<TensorNameMapping> ParseMappingConfig(std::string_view json, const std::string& source) {
  rapidjson::Document doc;
  if (auto error = config_internal::ParseJson(json, doc)) {
    return InvalidArgument(source + " is not valid JSON: " + *error);
  }
  if (!doc.IsObject()) return InvalidArgument(source + " must hold a JSON object");
  TensorNameMapping mapping;
  for (const auto& member : doc.GetObject()) {
    std::string key(member.name.GetString(), member.name.GetStringLength());
    if (key == "inputs") {
      TESSERA_RETURN_IF_ERROR(ReadNames(member.value, source + ": /inputs", &mapping.inputs));
    } else if (key == "outputs") {
      TESSERA_RETURN_IF_ERROR(ReadNames(member.value, source + ": /outputs", &mapping.outputs));
    } else {
      return InvalidArgument(source + ": unknown key \"" + key +
                             "\" (expected \"inputs\" and/or \"outputs\")");
    }
  }
  return mapping;
}

}  // namespace tessera
