#include "server/options.h"

#include <cxxopts.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <exception>
#include <string_view>
#include <thread>

#include "common/logging.h"
#include "repository/config_parser.h"
#include "transport/tls.h"

#ifndef TESSERA_VERSION_STRING
#define TESSERA_VERSION_STRING "unknown"
#endif

namespace tessera {
namespace {

constexpr int kMaxPort = 65535;
constexpr int kMaxRestWorkers = 10000;

// Flags only single-model mode takes; with --config_path they are an error
// (the config file says these things per model).
constexpr const char* kSingleModelFlags[] = {"batch_size",    "shape",         "layout",
                                             "model_version_policy", "nireq", "target_device",
                                             "plugin_config", "max_queue_size", "dynamic_batching"};

// OVMS flags that Tessera does not implement; named in the unknown-flag error
// so an OVMS user knows it is deliberate.
constexpr const char* kUnsupportedOvmsFlags[] = {
    "grpc_max_threads", "grpc_memory_quota", "grpc_channel_arguments", "sequence_cleaner_poll_wait_minutes",
    "custom_node_resources_cleaner_interval_seconds", "cache_dir", "cpu_extension", "trace_path",
    "stateful", "idle_sequence_cleanup", "low_latency_transformation", "max_sequence_number",
    "allowed_local_media_path", "allow_credentials", "allowed_origins", "allowed_methods", "allowed_headers",
    "list_models", "add_to_config", "remove_from_config", "pull", "source_model", "model_repository_path",
    "task"};

int CoreCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::unique_ptr<cxxopts::Options> BuildOptions() {
  auto options = std::make_unique<cxxopts::Options>("tessera", "Tessera model server (OpenVINO Model Server command line)");
  options->custom_help("[--config_path PATH | --model_name NAME --model_path PATH] [OPTION...]");
  // Every value is taken as text and converted here, so errors can name the
  // flag (cxxopts' own conversion errors do not).
  auto text = [] { return cxxopts::value<std::string>(); };
  // clang-format off
  options->add_options()
      ("h,help", "Show this help and exit")
      ("version", "Show the version and exit");
  options->add_options("server")
      ("port", "gRPC port; 0 disables gRPC", text()->default_value("9000"), "PORT")
      ("rest_port", "REST port; 0 disables REST", text()->default_value("0"), "REST_PORT")
      ("grpc_bind_address", "Address the gRPC server binds to", text()->default_value("0.0.0.0"), "ADDRESS")
      ("rest_bind_address", "Address the REST server binds to", text()->default_value("0.0.0.0"), "ADDRESS")
      ("grpc_workers", "Number of gRPC server instances, 1 to the core count", text()->default_value("1"), "N")
      ("rest_workers", "Number of REST worker threads (default: core count)", text(), "N")
      ("log_level", "TRACE, DEBUG, INFO, WARNING or ERROR", text()->default_value("INFO"), "LEVEL")
      ("log_path", "Log to this file instead of stderr", text(), "PATH")
      ("file_system_poll_wait_seconds", "Seconds between checks for config and version changes; 0 disables",
          text()->default_value("1"), "SECONDS")
      ("metrics_enable", "Serve Prometheus metrics on the REST port",
          text()->default_value("false")->implicit_value("true"), "true|false")
      ("metrics_list", "Comma-separated metrics to enable (default: the default set)", text(), "LIST");
  options->add_options("server")
      ("rest_header_timeout_seconds", "Seconds for a REST request's line and headers to arrive (also the keep-alive idle time)",
          text()->default_value("60"), "SECONDS")
      ("rest_body_timeout_seconds", "Seconds for a REST request's body to arrive after its headers",
          text()->default_value("60"), "SECONDS")
      ("rest_max_connections", "Open REST connections at most; more are answered 503",
          text()->default_value("1024"), "N")
      ("rest_max_body_bytes", "Largest REST request body, as sent and once decompressed "
          "(Content-Encoding gzip/deflate); larger ones are answered 413",
          text()->default_value("1073741824"), "BYTES")
      ("grpc_tls_cert", "PEM certificate chain: serve gRPC over TLS (needs --grpc_tls_key)", text(), "FILE")
      ("grpc_tls_key", "PEM private key of --grpc_tls_cert", text(), "FILE")
      ("grpc_tls_client_ca", "PEM CA certificates: gRPC clients must present a certificate they signed", text(), "FILE")
      ("rest_tls_cert", "PEM certificate chain: serve REST over TLS (needs --rest_tls_key)", text(), "FILE")
      ("rest_tls_key", "PEM private key of --rest_tls_cert", text(), "FILE")
      ("rest_tls_client_ca", "PEM CA certificates: REST clients must present a certificate they signed", text(), "FILE")
      ("rest_request_timeout_ms", "REST inference requests still waiting for a worker after this many "
          "milliseconds are answered 504; 0 disables", text()->default_value("0"), "MS")
      ("drain_seconds", "On SIGTERM, seconds to keep serving while reporting not ready before "
          "stopping; 0 stops at once", text()->default_value("15"), "SECONDS")
      ("inline_run_max_us", "Models whose usual run takes at most this many microseconds run on the "
          "thread that received the request when the model is idle; 0 = always on a worker",
          text()->default_value("100"), "MICROSECONDS");
  options->add_options("config mode")
      ("config_path", "config.json file, or a directory holding config.json", text(), "PATH");
  options->add_options("single model")
      ("model_name", "Name the model is served under", text(), "NAME")
      ("model_path", "Directory holding the model's version directories", text(), "PATH")
      ("batch_size", "Batch size: N, a range like 1:8, -1 (any) or auto", text(), "BATCH")
      ("shape", "Input shape, e.g. (1,3,224,224), or a JSON object input->shape", text(), "SHAPE")
      ("layout", "Layout, e.g. NHWC:NCHW, or a JSON object input->layout", text(), "LAYOUT")
      ("model_version_policy", R"(JSON, e.g. {"latest":{"num_versions":2}})", text(), "JSON")
      ("nireq", "Size of the model's inference request pool (0 = default)", text(), "N")
      ("target_device", "Device to run on", text()->default_value("CPU"), "DEVICE")
      ("plugin_config", R"(JSON object of engine settings, e.g. {"NUM_STREAMS":"1"})", text(), "JSON")
      ("max_queue_size", "Requests that may wait per model version (0 = default 4096)", text(), "N")
      ("dynamic_batching", R"(JSON, e.g. {"max_batch_size":8,"max_queue_delay_microseconds":500})", text(), "JSON");
  options->add_options("server")
      ("max_image_pixels", "Largest width x height an encoded image may declare, 1 to 2^30",
          text()->default_value("16777216"), "PIXELS");
  // clang-format on
  return options;
}

std::string FlagName(const std::string& name) { return (name.size() == 1 ? "-" : "--") + name; }

// The name quoted in a cxxopts message (between its typographic quotes).
std::string QuotedName(const std::string& message) {
  size_t begin = message.find(cxxopts::LQUOTE);
  size_t end = message.find(cxxopts::RQUOTE, begin == std::string::npos ? 0 : begin);
  if (begin == std::string::npos || end == std::string::npos) return "";
  begin += cxxopts::LQUOTE.size();
  return message.substr(begin, end - begin);
}

// cxxopts reads "-port" as the short flags -p -o -r -t and reports "p"; find
// the argument the user actually typed.
std::string TypedFlag(const std::string& name, int argc, const char* const* argv) {
  if (name.size() == 1) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg(argv[i]);
      if (arg.size() > 2 && arg[0] == '-' && arg[1] == name[0]) return std::string(arg.substr(0, arg.find('=')));
    }
  }
  return FlagName(name);
}

std::string UnknownFlagMessage(const std::string& name, int argc, const char* const* argv) {
  std::string message = "Unknown flag: " + TypedFlag(name, argc, argv);
  for (const char* flag : kUnsupportedOvmsFlags) {
    if (name == flag) return message + " (an OVMS flag Tessera does not support)";
  }
  return message + " (see --help)";
}

Status CommandLineError(const cxxopts::exceptions::exception& e, int argc, const char* const* argv) {
  std::string name = QuotedName(e.what());
  if (dynamic_cast<const cxxopts::exceptions::no_such_option*>(&e)) {
    return InvalidArgument(UnknownFlagMessage(name, argc, argv));
  }
  if (dynamic_cast<const cxxopts::exceptions::missing_argument*>(&e) ||
      dynamic_cast<const cxxopts::exceptions::option_requires_argument*>(&e)) {
    return InvalidArgument(FlagName(name) + " needs a value");
  }
  if (dynamic_cast<const cxxopts::exceptions::invalid_option_syntax*>(&e)) {
    return InvalidArgument("Malformed flag: " + name);
  }
  if (dynamic_cast<const cxxopts::exceptions::gratuitous_argument_for_option*>(&e)) {
    return InvalidArgument(FlagName(name) + " does not take a value");
  }
  return InvalidArgument(std::string("Invalid command line: ") + e.what());
}

// Reads flags out of a cxxopts result, converting and range-checking them.
class FlagReader {
 public:
  explicit FlagReader(const cxxopts::ParseResult& result) : result_(result) {}

  bool Given(const std::string& name) const { return result_.count(name) > 0; }
  std::string Text(const std::string& name) const {
    return result_.count(name) > 0 || HasDefault(name) ? result_[name].as<std::string>() : std::string();
  }

  Status Int(const std::string& name, int min, int max, int* out) const {
    if (!Given(name) && !HasDefault(name)) return Status::Ok();
    std::string text = Text(name);
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
      return InvalidArgument(FlagName(name) + " must be an integer (got \"" + text + "\")");
    }
    if (ec == std::errc::result_out_of_range || value < min || value > max) {
      return InvalidArgument(FlagName(name) + " must be between " + std::to_string(min) + " and " +
                             std::to_string(max) + " (got " + text + ")");
    }
    *out = static_cast<int>(value);
    return Status::Ok();
  }

  Status Bool(const std::string& name, bool* out) const {
    std::string text = Text(name);
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    if (text == "true" || text == "1" || text == "yes") {
      *out = true;
    } else if (text == "false" || text == "0" || text == "no") {
      *out = false;
    } else {
      return InvalidArgument(FlagName(name) + " must be true or false (got \"" + Text(name) + "\")");
    }
    return Status::Ok();
  }

 private:
  bool HasDefault(const std::string& name) const {
    for (const auto& kv : result_.defaults()) {
      if (kv.key() == name) return true;
    }
    return false;
  }
  const cxxopts::ParseResult& result_;
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) items.push_back(item.substr(b, e - b + 1));
    start = comma + 1;
  }
  return items;
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t dot = s.find('.', pos);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view part = s.substr(pos, dot - pos);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int value = 0;
    for (char c : part) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    ++parts;
    pos = dot + 1;
  }
  return parts == 4;
}

bool IsIpv6(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.find(':') == std::string_view::npos || s.size() > 45) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  });
}

bool IsHostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t dot = s.find('.', pos);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view label = s.substr(pos, dot - pos);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    pos = dot + 1;
  }
  return true;
}

Status CheckBindAddress(const std::string& flag, const std::string& address) {
  bool all_numeric = std::all_of(address.begin(), address.end(),
                                 [](char c) { return c == '.' || std::isdigit(static_cast<unsigned char>(c)); });
  bool ok = all_numeric ? IsIpv4(address) : (IsIpv6(address) || IsHostname(address));
  if (ok) return Status::Ok();
  return InvalidArgument("--" + flag + " must be a hostname or an IP address (got \"" + address + "\")");
}

Status ReadRestTimeoutFlag(const FlagReader& flags, ServerOptions& o) {
  TESSERA_RETURN_IF_ERROR(flags.Int("rest_request_timeout_ms", 0, INT32_MAX, &o.rest_request_timeout_ms));
  if (flags.Given("rest_request_timeout_ms") && o.rest_port == 0) {
    return InvalidArgument("--rest_request_timeout_ms is set but --rest_port is not: there is no REST server");
  }
  return Status::Ok();
}

// Longest --inline_run_max_us: 10 ms; longer runs belong on workers.
constexpr int kMaxInlineRunMicros = 10000;

// Longest --drain_seconds: an hour is far past any orchestrator's grace.
constexpr int kMaxDrainSeconds = 3600;

Status ReadServerFlags(const FlagReader& flags, ServerOptions& o) {
  TESSERA_RETURN_IF_ERROR(flags.Int("port", 0, kMaxPort, &o.port));
  TESSERA_RETURN_IF_ERROR(flags.Int("rest_port", 0, kMaxPort, &o.rest_port));
  TESSERA_RETURN_IF_ERROR(flags.Int("grpc_workers", 1, CoreCount(), &o.grpc_workers));
  o.rest_workers = CoreCount();
  TESSERA_RETURN_IF_ERROR(flags.Int("rest_workers", 1, kMaxRestWorkers, &o.rest_workers));
  int poll = 1;
  TESSERA_RETURN_IF_ERROR(flags.Int("file_system_poll_wait_seconds", INT32_MIN, INT32_MAX, &poll));
  o.file_system_poll_wait_seconds = std::max(poll, 0);
  TESSERA_RETURN_IF_ERROR(flags.Bool("metrics_enable", &o.metrics_enable));
  TESSERA_RETURN_IF_ERROR(flags.Int("drain_seconds", 0, kMaxDrainSeconds, &o.drain_seconds));
  TESSERA_RETURN_IF_ERROR(flags.Int("inline_run_max_us", 0, kMaxInlineRunMicros, &o.inline_run_max_us));
  o.metrics_list = SplitList(flags.Text("metrics_list"));
  o.grpc_bind_address = flags.Text("grpc_bind_address");
  o.rest_bind_address = flags.Text("rest_bind_address");
  o.log_path = flags.Text("log_path");

  o.log_level = flags.Text("log_level");
  if (!IsValidLogLevel(o.log_level)) {
    return InvalidArgument("--log_level must be one of TRACE, DEBUG, INFO, WARNING, ERROR (got \"" +
                           o.log_level + "\")");
  }
  std::transform(o.log_level.begin(), o.log_level.end(), o.log_level.begin(),
                 [](unsigned char c) { return std::toupper(c); });

  if (o.port == 0 && o.rest_port == 0) {
    return InvalidArgument("--port and --rest_port are both 0: at least one server must be enabled");
  }
  if (o.port == o.rest_port) {
    return InvalidArgument("--port and --rest_port cannot have the same value (" + std::to_string(o.port) + ")");
  }
  if (flags.Given("rest_workers") && o.rest_port == 0) {
    return InvalidArgument("--rest_workers is set but --rest_port is not: there is no REST server");
  }
  if (o.metrics_enable && o.rest_port == 0) {
    return InvalidArgument("--metrics_enable requires --rest_port (metrics are served on the REST port)");
  }
  if (!o.metrics_list.empty() && !o.metrics_enable) {
    return InvalidArgument("--metrics_list requires --metrics_enable");
  }
  TESSERA_RETURN_IF_ERROR(CheckBindAddress("grpc_bind_address", o.grpc_bind_address));
  TESSERA_RETURN_IF_ERROR(CheckBindAddress("rest_bind_address", o.rest_bind_address));
  return ReadRestTimeoutFlag(flags, o);
}

// The bound OpenCV itself puts on an image (OPENCV_IO_MAX_IMAGE_PIXELS's
// default); a larger --max_image_pixels could not take effect.
constexpr int kMaxImagePixelsCap = 1 << 30;

Status ReadImageFlags(const FlagReader& flags, ServerOptions& o) {
  return flags.Int("max_image_pixels", 1, kMaxImagePixelsCap, &o.max_image_pixels);
}

// One server's TLS flags `prefix`_tls_{cert,key,client_ca}: read, and the
// files checked now so a bad one stops start-up with a line naming the flag.
Status ReadTlsFlags(const FlagReader& flags, const std::string& prefix, bool server_enabled,
                    std::string& cert, std::string& key, std::string& client_ca) {
  const std::string cert_flag = prefix + "_tls_cert", key_flag = prefix + "_tls_key",
                    ca_flag = prefix + "_tls_client_ca";
  cert = flags.Text(cert_flag);
  key = flags.Text(key_flag);
  client_ca = flags.Text(ca_flag);
  if (cert.empty() && key.empty() && client_ca.empty()) return Status::Ok();
  const std::string port_flag = prefix == "grpc" ? "--port" : "--rest_port";
  if (!server_enabled) {
    const std::string& given = !cert.empty() ? cert_flag : !key.empty() ? key_flag : ca_flag;
    return InvalidArgument("--" + given + " is set but " + port_flag + " is 0: there is no " +
                           (prefix == "grpc" ? "gRPC" : "REST") + " server");
  }
  return transport::CheckTlsFiles({cert, key, client_ca},
                                  {"--" + cert_flag, "--" + key_flag, "--" + ca_flag});
}

Status ReadHardeningFlags(const FlagReader& flags, ServerOptions& o) {
  constexpr int kMaxTimeoutSeconds = 24 * 3600;
  TESSERA_RETURN_IF_ERROR(
      flags.Int("rest_header_timeout_seconds", 1, kMaxTimeoutSeconds, &o.rest_header_timeout_seconds));
  TESSERA_RETURN_IF_ERROR(
      flags.Int("rest_body_timeout_seconds", 1, kMaxTimeoutSeconds, &o.rest_body_timeout_seconds));
  TESSERA_RETURN_IF_ERROR(flags.Int("rest_max_connections", 1, 1000000, &o.rest_max_connections));
  TESSERA_RETURN_IF_ERROR(flags.Int("rest_max_body_bytes", 1, INT32_MAX, &o.rest_max_body_bytes));
  TESSERA_RETURN_IF_ERROR(ReadTlsFlags(flags, "grpc", o.port > 0, o.grpc_tls_cert, o.grpc_tls_key,
                                       o.grpc_tls_client_ca));
  TESSERA_RETURN_IF_ERROR(ReadTlsFlags(flags, "rest", o.rest_port > 0, o.rest_tls_cert, o.rest_tls_key,
                                       o.rest_tls_client_ca));
  return Status::Ok();
}

Status ReadModelFlags(const FlagReader& flags, ServerOptions& o) {
  o.config_path = flags.Text("config_path");
  o.model_name = flags.Text("model_name");
  o.model_path = flags.Text("model_path");
  bool has_name = !o.model_name.empty();
  bool has_path = !o.model_path.empty();
  if (o.config_mode() ? (has_name || has_path) : (!has_name && !has_path)) {
    return InvalidArgument("Use either config_path or model_path with model_name");
  }
  if (!o.config_mode() && has_name != has_path) {
    return InvalidArgument(has_name ? "--model_name requires --model_path" : "--model_path requires --model_name");
  }
  if (o.config_mode()) {
    for (const char* flag : kSingleModelFlags) {
      if (flags.Given(flag)) {
        return InvalidArgument(std::string("--") + flag +
                               " is a single-model flag and cannot be used with --config_path "
                               "(set it in the config file)");
      }
    }
    return Status::Ok();
  }
  o.batch_size = flags.Text("batch_size");
  o.shape = flags.Text("shape");
  o.layout = flags.Text("layout");
  o.model_version_policy = flags.Text("model_version_policy");
  o.plugin_config = flags.Text("plugin_config");
  o.target_device = flags.Text("target_device");
  if (o.target_device.empty()) return InvalidArgument("--target_device must not be empty");
  TESSERA_RETURN_IF_ERROR(flags.Int("nireq", 0, INT32_MAX, &o.nireq));
  TESSERA_RETURN_IF_ERROR(flags.Int("max_queue_size", 0, INT32_MAX, &o.max_queue_size));
  o.dynamic_batching = flags.Text("dynamic_batching");
  // Check the values' forms now, so a bad flag stops start-up here.
  auto config = SingleModelConfig(o);
  return config.ok() ? Status::Ok() : config.status();
}

}  // namespace

Result<ParsedCommandLine> ParseCommandLine(int argc, const char* const* argv) {
  static const char* const kNoArgs[] = {"tessera", nullptr};
  if (argc < 1 || argv == nullptr) {
    argc = 1;
    argv = kNoArgs;
  }
  ParsedCommandLine parsed;
  try {
    std::unique_ptr<cxxopts::Options> options = BuildOptions();
    cxxopts::ParseResult result = options->parse(argc, argv);
    if (result.count("help")) {
      parsed.action = ParsedCommandLine::Action::kHelp;
      parsed.text = options->help({"", "server", "config mode", "single model"});
      if (parsed.text.empty() || parsed.text.back() != '\n') parsed.text += '\n';
      return parsed;
    }
    if (result.count("version")) {
      parsed.action = ParsedCommandLine::Action::kVersion;
      parsed.text = std::string("Tessera ") + TESSERA_VERSION_STRING + "\n";
      return parsed;
    }
    if (!result.unmatched().empty()) {
      return InvalidArgument("Unexpected argument: " + result.unmatched().front() +
                             " (flags take the form --name value or --name=value)");
    }
    FlagReader flags(result);
    TESSERA_RETURN_IF_ERROR(ReadModelFlags(flags, parsed.options));
    TESSERA_RETURN_IF_ERROR(ReadServerFlags(flags, parsed.options));
    TESSERA_RETURN_IF_ERROR(ReadImageFlags(flags, parsed.options));
    TESSERA_RETURN_IF_ERROR(ReadHardeningFlags(flags, parsed.options));
  } catch (const cxxopts::exceptions::exception& e) {
    return CommandLineError(e, argc, argv);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("Invalid command line: ") + e.what());
  }
  return parsed;
}

Result<ServerConfig> SingleModelConfig(const ServerOptions& options) {
  if (options.config_mode()) return FailedPrecondition("SingleModelConfig called in config mode");
  ModelConfig model;
  model.name = options.model_name;
  model.base_path = ResolveBasePath(options.model_path, "");
  model.nireq = options.nireq;
  model.max_queue_size = options.max_queue_size;
  model.target_device = options.target_device.empty() ? "CPU" : options.target_device;

  auto batch = ParseBatchSize(options.batch_size);
  if (!batch.ok()) return InvalidArgument("--batch_size " + batch.status().message());
  model.batch_size = *batch;

  auto shape = ParsePerInputSetting(options.shape, PerInputKind::kShape);
  if (!shape.ok()) return InvalidArgument("--shape: " + shape.status().message());
  model.shape = *shape;

  auto layout = ParsePerInputSetting(options.layout, PerInputKind::kLayout);
  if (!layout.ok()) return InvalidArgument("--layout: " + layout.status().message());
  model.layout = *layout;

  if (!options.model_version_policy.empty()) {
    auto policy = ParseVersionPolicyJson(options.model_version_policy);
    if (!policy.ok()) return InvalidArgument("--model_version_policy: " + policy.status().message());
    model.version_policy = *policy;
  }
  if (!options.plugin_config.empty()) {
    auto plugin = ParsePluginConfigJson(options.plugin_config);
    if (!plugin.ok()) return InvalidArgument("--plugin_config: " + plugin.status().message());
    model.plugin_config = *plugin;
  }
  if (!options.dynamic_batching.empty()) {
    auto batching = ParseDynamicBatchingJson(options.dynamic_batching);
    if (!batching.ok()) return InvalidArgument("--dynamic_batching: " + batching.status().message());
    model.dynamic_batching = *batching;
  }

  ServerConfig config;
  config.models.push_back(std::move(model));
  config.metrics.enable = options.metrics_enable;
  config.metrics.metrics_list = options.metrics_list;
  return config;
}

}  // namespace tessera
