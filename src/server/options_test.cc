#include "server/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace tessera {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Result<ParsedCommandLine> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tessera");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return ParseCommandLine(static_cast<int>(args.size()), argv.data());
}

// Parses a single-model command line with `extra` flags appended.
Result<ParsedCommandLine> ParseModel(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--model_name", "m", "--model_path", "/models/m"};
  args.insert(args.end(), extra.begin(), extra.end());
  return Parse(args);
}

// The error message of a command line that must fail.
std::string ErrorOf(const std::vector<std::string>& args) {
  auto parsed = Parse(args);
  if (parsed.ok()) return "OK";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos) << "one line";
  return parsed.status().message();
}
std::string ModelErrorOf(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--model_name", "m", "--model_path", "/models/m"};
  args.insert(args.end(), extra.begin(), extra.end());
  return ErrorOf(args);
}

int Cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

TEST(ParseCommandLineTest, SingleModelDefaults) {
  auto parsed = ParseModel({});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->action, ParsedCommandLine::Action::kServe);
  const ServerOptions& o = parsed->options;
  EXPECT_EQ(o.port, 9000);
  EXPECT_EQ(o.rest_port, 0);
  EXPECT_EQ(o.grpc_bind_address, "0.0.0.0");
  EXPECT_EQ(o.rest_bind_address, "0.0.0.0");
  EXPECT_EQ(o.grpc_workers, 1);
  EXPECT_EQ(o.rest_workers, Cores());
  EXPECT_EQ(o.log_level, "INFO");
  EXPECT_EQ(o.log_path, "");
  EXPECT_EQ(o.file_system_poll_wait_seconds, 1);
  EXPECT_FALSE(o.metrics_enable);
  EXPECT_TRUE(o.metrics_list.empty());
  EXPECT_FALSE(o.config_mode());
  EXPECT_EQ(o.model_name, "m");
  EXPECT_EQ(o.model_path, "/models/m");
  EXPECT_EQ(o.batch_size, "");
  EXPECT_EQ(o.shape, "");
  EXPECT_EQ(o.layout, "");
  EXPECT_EQ(o.model_version_policy, "");
  EXPECT_EQ(o.nireq, 0);
  EXPECT_EQ(o.target_device, "CPU");
  EXPECT_EQ(o.plugin_config, "");
}

TEST(ParseCommandLineTest, EveryServerFlag) {
  auto parsed = Parse({"--config_path", "/etc/t/config.json", "--port", "9100", "--rest_port=8100",
                       "--grpc_bind_address", "127.0.0.1", "--rest_bind_address", "localhost",
                       "--grpc_workers", "1", "--rest_workers", "7", "--log_level", "debug", "--log_path",
                       "/var/log/t.log", "--file_system_poll_wait_seconds", "5", "--metrics_enable",
                       "--metrics_list", "ovms_requests_success, ovms_streams,,"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ServerOptions& o = parsed->options;
  EXPECT_TRUE(o.config_mode());
  EXPECT_EQ(o.config_path, "/etc/t/config.json");
  EXPECT_EQ(o.port, 9100);
  EXPECT_EQ(o.rest_port, 8100);
  EXPECT_EQ(o.grpc_bind_address, "127.0.0.1");
  EXPECT_EQ(o.rest_bind_address, "localhost");
  EXPECT_EQ(o.grpc_workers, 1);
  EXPECT_EQ(o.rest_workers, 7);
  EXPECT_EQ(o.log_level, "DEBUG");
  EXPECT_EQ(o.log_path, "/var/log/t.log");
  EXPECT_EQ(o.file_system_poll_wait_seconds, 5);
  EXPECT_TRUE(o.metrics_enable);
  EXPECT_EQ(o.metrics_list, (std::vector<std::string>{"ovms_requests_success", "ovms_streams"}));
}

TEST(ParseCommandLineTest, EverySingleModelFlag) {
  auto parsed = ParseModel({"--batch_size", "1:8", "--shape", "(1,3,224,224)", "--layout", R"({"x":"NHWC:NCHW"})",
                            "--model_version_policy", R"({"latest":{"num_versions":2}})", "--nireq", "4",
                            "--target_device", "CPU", "--plugin_config", R"({"NUM_STREAMS":"1"})"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ServerOptions& o = parsed->options;
  EXPECT_EQ(o.batch_size, "1:8");
  EXPECT_EQ(o.shape, "(1,3,224,224)");
  EXPECT_EQ(o.layout, R"({"x":"NHWC:NCHW"})");
  EXPECT_EQ(o.model_version_policy, R"({"latest":{"num_versions":2}})");
  EXPECT_EQ(o.nireq, 4);
  EXPECT_EQ(o.target_device, "CPU");
  EXPECT_EQ(o.plugin_config, R"({"NUM_STREAMS":"1"})");
}

TEST(ParseCommandLineTest, NegativeBatchSizeIsAValueNotAFlag) {
  auto parsed = ParseModel({"--batch_size", "-1"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->options.batch_size, "-1");
  EXPECT_EQ(ParseModel({"--batch_size=-1"})->options.batch_size, "-1");
}

TEST(ParseCommandLineTest, HelpAndVersion) {
  auto help = Parse({"--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->action, ParsedCommandLine::Action::kHelp);
  EXPECT_THAT(help->text, HasSubstr("--model_name"));
  EXPECT_THAT(help->text, HasSubstr("--config_path"));
  EXPECT_THAT(help->text, HasSubstr("--file_system_poll_wait_seconds"));
  EXPECT_EQ(help->text.back(), '\n');
  EXPECT_EQ(Parse({"-h"})->action, ParsedCommandLine::Action::kHelp);
  // Help wins over values that would not validate.
  EXPECT_EQ(Parse({"--port", "nope", "--help"})->action, ParsedCommandLine::Action::kHelp);

  auto version = Parse({"--version"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->action, ParsedCommandLine::Action::kVersion);
  EXPECT_THAT(version->text, StartsWith("Tessera "));
  EXPECT_GT(version->text.size(), std::string("Tessera \n").size());
  EXPECT_EQ(version->text.back(), '\n');
}

TEST(ParseCommandLineTest, UnknownFlags) {
  EXPECT_EQ(ModelErrorOf({"--prot", "1"}), "Unknown flag: --prot (see --help)");
  EXPECT_EQ(ModelErrorOf({"-port", "1"}), "Unknown flag: -port (see --help)");
  EXPECT_EQ(ModelErrorOf({"-x"}), "Unknown flag: -x (see --help)");
  EXPECT_EQ(ModelErrorOf({"--cache_dir", "/c"}), "Unknown flag: --cache_dir (an OVMS flag Tessera does not support)");
  EXPECT_EQ(ModelErrorOf({"--stateful"}), "Unknown flag: --stateful (an OVMS flag Tessera does not support)");
}

TEST(ParseCommandLineTest, MissingValueAndStrayArguments) {
  EXPECT_EQ(ModelErrorOf({"--port"}), "--port needs a value");
  EXPECT_EQ(ModelErrorOf({"extra"}),
            "Unexpected argument: extra (flags take the form --name value or --name=value)");
  // An implicit-valued flag does not swallow the next word.
  EXPECT_EQ(ModelErrorOf({"--rest_port", "8000", "--metrics_enable", "false"}),
            "Unexpected argument: false (flags take the form --name value or --name=value)");
}

TEST(ParseCommandLineTest, BadIntegerValues) {
  EXPECT_EQ(ModelErrorOf({"--port", "abc"}), R"(--port must be an integer (got "abc"))");
  EXPECT_EQ(ModelErrorOf({"--port", "90x"}), R"(--port must be an integer (got "90x"))");
  EXPECT_EQ(ModelErrorOf({"--port="}), R"(--port must be an integer (got ""))");
  EXPECT_EQ(ModelErrorOf({"--nireq", "two"}), R"(--nireq must be an integer (got "two"))");
  EXPECT_EQ(ModelErrorOf({"--file_system_poll_wait_seconds", "1.5"}),
            R"(--file_system_poll_wait_seconds must be an integer (got "1.5"))");
}

TEST(ParseCommandLineTest, PortRanges) {
  EXPECT_EQ(ModelErrorOf({"--port", "70000"}), "--port must be between 0 and 65535 (got 70000)");
  EXPECT_EQ(ModelErrorOf({"--port", "-1"}), "--port must be between 0 and 65535 (got -1)");
  EXPECT_EQ(ModelErrorOf({"--rest_port", "65536"}), "--rest_port must be between 0 and 65535 (got 65536)");
  EXPECT_EQ(ModelErrorOf({"--port", "99999999999999999999"}),
            "--port must be between 0 and 65535 (got 99999999999999999999)");
  EXPECT_TRUE(ParseModel({"--port", "65535", "--rest_port", "1"}).ok());
}

TEST(ParseCommandLineTest, PortsNotBothZeroNorEqual) {
  EXPECT_EQ(ModelErrorOf({"--port", "0"}), "--port and --rest_port are both 0: at least one server must be enabled");
  EXPECT_EQ(ModelErrorOf({"--port", "8000", "--rest_port", "8000"}),
            "--port and --rest_port cannot have the same value (8000)");
  auto rest_only = ParseModel({"--port", "0", "--rest_port", "8000"});
  ASSERT_TRUE(rest_only.ok());
  EXPECT_EQ(rest_only->options.port, 0);
  EXPECT_EQ(rest_only->options.rest_port, 8000);
}

TEST(ParseCommandLineTest, WorkerCounts) {
  EXPECT_EQ(ModelErrorOf({"--grpc_workers", "0"}),
            "--grpc_workers must be between 1 and " + std::to_string(Cores()) + " (got 0)");
  std::string too_many = std::to_string(Cores() + 1);
  EXPECT_EQ(ModelErrorOf({"--grpc_workers", too_many}),
            "--grpc_workers must be between 1 and " + std::to_string(Cores()) + " (got " + too_many + ")");
  EXPECT_EQ(ModelErrorOf({"--rest_port", "8000", "--rest_workers", "0"}),
            "--rest_workers must be between 1 and 10000 (got 0)");
  EXPECT_EQ(ModelErrorOf({"--rest_workers", "4"}),
            "--rest_workers is set but --rest_port is not: there is no REST server");
}

TEST(ParseCommandLineTest, LogLevel) {
  EXPECT_EQ(ModelErrorOf({"--log_level", "VERBOSE"}),
            R"(--log_level must be one of TRACE, DEBUG, INFO, WARNING, ERROR (got "VERBOSE"))");
  EXPECT_EQ(ParseModel({"--log_level", "warning"})->options.log_level, "WARNING");
  EXPECT_EQ(ParseModel({"--log_level", "TRACE"})->options.log_level, "TRACE");
}

TEST(ParseCommandLineTest, PollWait) {
  EXPECT_EQ(ParseModel({"--file_system_poll_wait_seconds", "0"})->options.file_system_poll_wait_seconds, 0);
  EXPECT_EQ(ParseModel({"--file_system_poll_wait_seconds", "-3"})->options.file_system_poll_wait_seconds, 0);
  EXPECT_EQ(ParseModel({"--file_system_poll_wait_seconds=30"})->options.file_system_poll_wait_seconds, 30);
}

TEST(ParseCommandLineTest, Metrics) {
  EXPECT_TRUE(ParseModel({"--rest_port", "8000", "--metrics_enable"})->options.metrics_enable);
  EXPECT_TRUE(ParseModel({"--rest_port", "8000", "--metrics_enable=true"})->options.metrics_enable);
  EXPECT_FALSE(ParseModel({"--rest_port", "8000", "--metrics_enable=false"})->options.metrics_enable);
  EXPECT_EQ(ModelErrorOf({"--rest_port", "8000", "--metrics_enable=maybe"}),
            R"(--metrics_enable must be true or false (got "maybe"))");
  EXPECT_EQ(ModelErrorOf({"--metrics_enable"}),
            "--metrics_enable requires --rest_port (metrics are served on the REST port)");
  EXPECT_EQ(ModelErrorOf({"--rest_port", "8000", "--metrics_list", "ovms_streams"}),
            "--metrics_list requires --metrics_enable");
}

TEST(ParseCommandLineTest, BindAddresses) {
  for (const char* good : {"0.0.0.0", "127.0.0.1", "localhost", "my-host.example.com", "::", "[::1]", "fe80::1"}) {
    EXPECT_TRUE(ParseModel({"--grpc_bind_address", good}).ok()) << good;
  }
  EXPECT_EQ(ModelErrorOf({"--grpc_bind_address", "300.1.1.1"}),
            R"(--grpc_bind_address must be a hostname or an IP address (got "300.1.1.1"))");
  EXPECT_EQ(ModelErrorOf({"--rest_bind_address", "bad host"}),
            R"(--rest_bind_address must be a hostname or an IP address (got "bad host"))");
  EXPECT_EQ(ModelErrorOf({"--rest_bind_address", ""}),
            R"(--rest_bind_address must be a hostname or an IP address (got ""))");
  EXPECT_EQ(ModelErrorOf({"--grpc_bind_address", "-host"}),
            R"(--grpc_bind_address must be a hostname or an IP address (got "-host"))");
}

TEST(ParseCommandLineTest, ModeSelection) {
  const std::string either = "Use either config_path or model_path with model_name";
  EXPECT_EQ(ErrorOf({}), either);
  EXPECT_EQ(ErrorOf({"--port", "9000"}), either);
  EXPECT_EQ(ErrorOf({"--config_path", "/c", "--model_name", "m"}), either);
  EXPECT_EQ(ErrorOf({"--config_path", "/c", "--model_path", "/p"}), either);
  EXPECT_EQ(ErrorOf({"--config_path", "/c", "--model_name", "m", "--model_path", "/p"}), either);
  EXPECT_EQ(ErrorOf({"--model_name", "m"}), "--model_name requires --model_path");
  EXPECT_EQ(ErrorOf({"--model_path", "/p"}), "--model_path requires --model_name");
  EXPECT_TRUE(Parse({"--config_path", "/c"}).ok());
}

TEST(ParseCommandLineTest, NoArgumentsAtAll) {
  EXPECT_EQ(ParseCommandLine(0, nullptr).status(),
            InvalidArgument("Use either config_path or model_path with model_name"));
}

TEST(ParseCommandLineTest, SingleModelFlagsRejectedInConfigMode) {
  const std::vector<std::pair<std::string, std::string>> flags = {
      {"batch_size", "1"}, {"shape", "(1,2)"}, {"layout", "NCHW"}, {"model_version_policy", R"({"all":{}})"},
      {"nireq", "2"}, {"target_device", "CPU"}, {"plugin_config", "{}"}, {"max_queue_size", "8"},
      {"dynamic_batching", "{}"}};
  for (const auto& [flag, value] : flags) {
    EXPECT_EQ(ErrorOf({"--config_path", "/c", "--" + flag, value}),
              "--" + flag + " is a single-model flag and cannot be used with --config_path (set it in the config file)");
  }
}

TEST(ParseCommandLineTest, SingleModelValueErrors) {
  EXPECT_EQ(ModelErrorOf({"--model_version_policy", "latest"}),
            "--model_version_policy: not valid JSON: Invalid value at offset 0 (line 1, column 1)");
  EXPECT_EQ(ModelErrorOf({"--model_version_policy", "[]"}),
            "--model_version_policy: value must be an object (got an array)");
  EXPECT_EQ(ModelErrorOf({"--model_version_policy", R"({"latest":{"num_versions":0}})"}),
            "--model_version_policy: /latest/num_versions must be >= 1 (got integer 0)");
  EXPECT_EQ(ModelErrorOf({"--model_version_policy", R"({"all":{},"specific":{"versions":[1]}})"}),
            "--model_version_policy: value must have exactly one of the keys: all, latest, specific");
  EXPECT_EQ(ModelErrorOf({"--plugin_config", "NUM_STREAMS=1"}),
            "--plugin_config: not valid JSON: Invalid value at offset 0 (line 1, column 1)");
  EXPECT_EQ(ModelErrorOf({"--plugin_config", R"(["a"])"}), "--plugin_config: value must be an object (got an array)");
  EXPECT_EQ(ModelErrorOf({"--plugin_config", R"({"A":{}})"}),
            "--plugin_config: /A must be a string, a number or a boolean (got an object)");
  EXPECT_EQ(ModelErrorOf({"--batch_size", "big"}),
            R"(--batch_size must be a positive integer, a range like 1:8, -1 or auto (got "big"))");
  EXPECT_EQ(ModelErrorOf({"--shape", R"({"x": 1})"}), "--shape: /x must be a string (got integer 1)");
  EXPECT_EQ(ModelErrorOf({"--shape", "(1,0:2)"}),
            "--shape: Invalid shape '(1,0:2)': Invalid dimension '0:2': expected a size, -1 (any) or "
            "a range like 1:8");
  EXPECT_EQ(ModelErrorOf({"--layout", "NHWC:CHW"}),
            "--layout: Invalid layout 'NHWC:CHW': CLIENT:MODEL must name the same dimensions on both "
            "sides, without '?' or '...', e.g. NHWC:NCHW");
  EXPECT_EQ(ModelErrorOf({"--layout", R"({"x": "NCHW")"}),
            "--layout: not valid JSON: Missing a comma or '}' after an object member at offset 12 (line 1, column 13)");
  EXPECT_EQ(ModelErrorOf({"--nireq", "-1"}), "--nireq must be between 0 and 2147483647 (got -1)");
  EXPECT_EQ(ModelErrorOf({"--max_queue_size", "-1"}), "--max_queue_size must be between 0 and 2147483647 (got -1)");
  EXPECT_EQ(ModelErrorOf({"--dynamic_batching", R"({"max_batch_size":2,"preferred_batch_sizes":[4]})"}),
            "--dynamic_batching: /preferred_batch_sizes/0 must be <= max_batch_size 2 (got 4)");
  EXPECT_EQ(ModelErrorOf({"--target_device", ""}), "--target_device must not be empty");
}

// --- SingleModelConfig --------------------------------------------------

TEST(SingleModelConfigTest, BuildsTheModelFromFlags) {
  auto parsed = ParseModel({"--batch_size", "auto", "--shape", R"j({"a":"(1,3)","b":"auto"})j", "--layout",
                            "NHWC:NCHW", "--model_version_policy", R"({"specific":{"versions":[3,1]}})", "--nireq",
                            "2", "--plugin_config", R"({"NUM_STREAMS":1,"HINT":"LATENCY"})", "--rest_port", "8000",
                            "--metrics_enable", "--metrics_list", "ovms_streams", "--max_queue_size", "7",
                            "--dynamic_batching", R"({"max_batch_size":4,"max_queue_delay_microseconds":100})"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto config = SingleModelConfig(parsed->options);
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_EQ(config->models.size(), 1u);
  const ModelConfig& m = config->models[0];
  EXPECT_EQ(m.name, "m");
  EXPECT_EQ(m.base_path, "/models/m");
  EXPECT_EQ(m.batch_size, std::optional<std::string>("auto"));
  EXPECT_EQ(m.shape.per_input, (std::map<std::string, std::string>{{"a", "(1,3)"}, {"b", "auto"}}));
  EXPECT_EQ(m.layout.whole_model, std::optional<std::string>("NHWC:NCHW"));
  EXPECT_EQ(m.version_policy.kind, VersionPolicy::Kind::kSpecific);
  EXPECT_EQ(m.version_policy.versions, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(m.nireq, 2);
  EXPECT_EQ(m.target_device, "CPU");
  EXPECT_EQ(m.plugin_config, (std::map<std::string, std::string>{{"NUM_STREAMS", "1"}, {"HINT", "LATENCY"}}));
  EXPECT_EQ(m.max_queue_size, 7);
  ASSERT_TRUE(m.dynamic_batching.has_value());
  EXPECT_EQ(m.dynamic_batching->max_batch_size, 4);
  EXPECT_EQ(m.dynamic_batching->max_queue_delay_microseconds, 100);
  EXPECT_TRUE(config->metrics.enable);
  EXPECT_EQ(config->metrics.metrics_list, (std::vector<std::string>{"ovms_streams"}));
  EXPECT_EQ(config->pipeline_config_json, "");
}

TEST(SingleModelConfigTest, DefaultsAndRelativePath) {
  ServerOptions options;
  options.model_name = "m";
  options.model_path = "models/./m/";
  auto config = SingleModelConfig(options);
  ASSERT_TRUE(config.ok());
  const ModelConfig& m = config->models[0];
  EXPECT_EQ(m.base_path, (std::filesystem::current_path() / "models" / "m").string());
  EXPECT_EQ(m.version_policy, VersionPolicy{});
  EXPECT_FALSE(m.batch_size.has_value());
  EXPECT_TRUE(m.shape.empty());
  EXPECT_TRUE(m.layout.empty());
  EXPECT_TRUE(m.plugin_config.empty());
  EXPECT_EQ(m.max_queue_size, 0);
  EXPECT_FALSE(m.dynamic_batching.has_value());
  EXPECT_FALSE(config->metrics.enable);
}

TEST(SingleModelConfigTest, ConfigModeIsAPreconditionFailure) {
  ServerOptions options;
  options.config_path = "/c";
  EXPECT_EQ(SingleModelConfig(options).status().code(), StatusCode::kFailedPrecondition);
}

TEST(SingleModelConfigTest, BadValuesNameTheFlag) {
  ServerOptions options;
  options.model_name = "m";
  options.model_path = "/m";
  options.model_version_policy = "{";
  EXPECT_THAT(SingleModelConfig(options).status().message(), StartsWith("--model_version_policy: not valid JSON"));
  options.model_version_policy = "";
  options.batch_size = "0:0";
  EXPECT_THAT(SingleModelConfig(options).status().message(), StartsWith("--batch_size must be"));
}

TEST(ParseCommandLineTest, MaxImagePixels) {
  auto defaults = ParseModel({});
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults->options.max_image_pixels, 16777216);
  auto set = ParseModel({"--max_image_pixels", "1000"});
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->options.max_image_pixels, 1000);
  auto config = Parse({"--config_path", "/c.json", "--max_image_pixels=1073741824"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->options.max_image_pixels, 1073741824);
  EXPECT_EQ(ModelErrorOf({"--max_image_pixels", "0"}),
            "--max_image_pixels must be between 1 and 1073741824 (got 0)");
  EXPECT_EQ(ModelErrorOf({"--max_image_pixels", "1073741825"}),
            "--max_image_pixels must be between 1 and 1073741824 (got 1073741825)");
  EXPECT_EQ(ModelErrorOf({"--max_image_pixels", "abc"}),
            "--max_image_pixels must be an integer (got \"abc\")");
  EXPECT_EQ(ModelErrorOf({"--max_image_pixels"}), "--max_image_pixels needs a value");
}

TEST(ParseCommandLineTest, DrainSeconds) {
  auto defaults = ParseModel({});
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults->options.drain_seconds, 15);
  auto none = ParseModel({"--drain_seconds", "0"});
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->options.drain_seconds, 0);
  auto config = Parse({"--config_path", "/c.json", "--drain_seconds=3600"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->options.drain_seconds, 3600);
  EXPECT_EQ(ModelErrorOf({"--drain_seconds", "-1"}), "--drain_seconds must be between 0 and 3600 (got -1)");
  EXPECT_EQ(ModelErrorOf({"--drain_seconds", "3601"}), "--drain_seconds must be between 0 and 3600 (got 3601)");
  EXPECT_EQ(ModelErrorOf({"--drain_seconds", "1.5"}), "--drain_seconds must be an integer (got \"1.5\")");
}

TEST(ParseCommandLineTest, InlineRunMaxMicros) {
  auto defaults = ParseModel({});
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults->options.inline_run_max_us, 100);
  auto off = ParseModel({"--inline_run_max_us", "0"});
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_EQ(off->options.inline_run_max_us, 0);
  auto config = Parse({"--config_path", "/c.json", "--inline_run_max_us=10000"});
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->options.inline_run_max_us, 10000);
  EXPECT_EQ(ModelErrorOf({"--inline_run_max_us", "-1"}),
            "--inline_run_max_us must be between 0 and 10000 (got -1)");
  EXPECT_EQ(ModelErrorOf({"--inline_run_max_us", "10001"}),
            "--inline_run_max_us must be between 0 and 10000 (got 10001)");
}

// --- REST limits and TLS flags ---

TEST(ParseCommandLineTest, RestLimitsDefaultsAndValues) {
  auto parsed = ParseModel({"--rest_port", "8000"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->options.rest_header_timeout_seconds, 60);
  EXPECT_EQ(parsed->options.rest_body_timeout_seconds, 60);
  EXPECT_EQ(parsed->options.rest_max_connections, 1024);
  EXPECT_EQ(parsed->options.rest_max_body_bytes, 1 << 30);
  EXPECT_TRUE(parsed->options.rest_tls_cert.empty());
  EXPECT_TRUE(parsed->options.grpc_tls_cert.empty());
  parsed = ParseModel({"--rest_port", "8000", "--rest_header_timeout_seconds", "5",
                       "--rest_body_timeout_seconds", "2", "--rest_max_connections", "4",
                       "--rest_max_body_bytes", "65536"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->options.rest_max_body_bytes, 65536);
  EXPECT_EQ(parsed->options.rest_header_timeout_seconds, 5);
  EXPECT_EQ(parsed->options.rest_body_timeout_seconds, 2);
  EXPECT_EQ(parsed->options.rest_max_connections, 4);
  EXPECT_EQ(ModelErrorOf({"--rest_body_timeout_seconds", "0"}),
            "--rest_body_timeout_seconds must be between 1 and 86400 (got 0)");
  EXPECT_EQ(ModelErrorOf({"--rest_max_connections", "x"}), "--rest_max_connections must be an integer (got \"x\")");
  EXPECT_EQ(ModelErrorOf({"--rest_max_body_bytes", "0"}),
            "--rest_max_body_bytes must be between 1 and 2147483647 (got 0)");
}

TEST(ParseCommandLineTest, TlsFlagsAreCheckedNamingTheFlag) {
  const std::string missing = "/no/such/dir/cert.pem";
  EXPECT_EQ(ModelErrorOf({"--grpc_tls_cert", missing, "--grpc_tls_key", missing}),
            "--grpc_tls_cert: cannot read " + missing + ": No such file or directory");
  EXPECT_EQ(ModelErrorOf({"--rest_port", "8000", "--rest_tls_cert", missing}),
            "--rest_tls_cert requires --rest_tls_key");
  EXPECT_EQ(ModelErrorOf({"--rest_port", "8000", "--rest_tls_key", missing}),
            "--rest_tls_key requires --rest_tls_cert");
  EXPECT_EQ(ModelErrorOf({"--grpc_tls_client_ca", missing}), "--grpc_tls_client_ca requires --grpc_tls_cert");
  EXPECT_EQ(ModelErrorOf({"--rest_tls_cert", missing, "--rest_tls_key", missing}),
            "--rest_tls_cert is set but --rest_port is 0: there is no REST server");
  // A file that is there but holds no certificate.
  const std::string empty = ::testing::TempDir() + "/options_test_empty.pem";
  { std::FILE* f = std::fopen(empty.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  EXPECT_EQ(ModelErrorOf({"--grpc_tls_cert", empty, "--grpc_tls_key", empty}),
            "--grpc_tls_cert: " + empty + " holds no PEM certificate");
}

TEST(ParseCommandLineTest, RestRequestTimeout) {
  auto none = ParseModel({"--rest_port", "8000"});
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->options.rest_request_timeout_ms, 0);
  auto set = ParseModel({"--rest_port", "8000", "--rest_request_timeout_ms", "250"});
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->options.rest_request_timeout_ms, 250);
  EXPECT_EQ(ModelErrorOf({"--rest_port", "8000", "--rest_request_timeout_ms", "-1"}),
            "--rest_request_timeout_ms must be between 0 and 2147483647 (got -1)");
  EXPECT_EQ(ModelErrorOf({"--rest_request_timeout_ms", "100"}),
            "--rest_request_timeout_ms is set but --rest_port is not: there is no REST server");
}

}  // namespace
}  // namespace tessera
