#include "frontend/rest_frontend.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace tessera::frontend {

transport::HttpResponse JsonError(int status, std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("error");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  transport::HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  // A 204 (No Content) carries no body.
  if (status != 204) response.body.assign(buffer.GetString(), buffer.GetSize());
  return response;
}

std::regex UrlRegex(const std::string& pattern) {
  return std::regex(pattern, std::regex::ECMAScript | std::regex::icase | std::regex::optimize);
}

}  // namespace tessera::frontend
