#include "metrics/serving_metrics.h"

#include <gtest/gtest.h>

namespace tessera::metrics {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<ServingMetrics> Make(const std::vector<std::string>& families = {}) {
  auto metrics = ServingMetrics::Create(families);
  EXPECT_TRUE(metrics.ok()) << metrics.status().message();
  return std::move(metrics).value();
}

TEST(ServingMetricsTest, DefaultSetLeavesOutTheOptionalFamilies) {
  std::string text = Make()->Render();
  for (const char* name : {"ovms_streams", "ovms_current_requests", "ovms_requests_success",
                           "ovms_requests_fail", "ovms_request_time_us", "ovms_inference_time_us",
                           "ovms_wait_for_infer_req_time_us", "tessera_infer_queue_length",
                           "tessera_batch_size", "tessera_pipeline_node_time_us"}) {
    EXPECT_TRUE(Contains(text, std::string("# TYPE ") + name + " ")) << name;
  }
  EXPECT_FALSE(Contains(text, "ovms_infer_req_queue_size"));
  EXPECT_FALSE(Contains(text, "ovms_infer_req_active"));
}

TEST(ServingMetricsTest, ListSelectsFamilies) {
  std::string text = Make({"ovms_requests_fail", "ovms_infer_req_active"})->Render();
  EXPECT_EQ(text,
            "# HELP ovms_requests_fail Number of failed requests to a model.\n"
            "# TYPE ovms_requests_fail counter\n"
            "# HELP ovms_infer_req_active Number of inference workers currently running a request.\n"
            "# TYPE ovms_infer_req_active gauge\n");
}

TEST(ServingMetricsTest, UnknownNameIsRejected) {
  auto metrics = ServingMetrics::Create({"ovms_requests_success", "ovms_request_sucess"});
  ASSERT_FALSE(metrics.ok());
  EXPECT_EQ(metrics.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(metrics.status().message(),
                       "Invalid name in metrics_list: ovms_request_sucess (known: ovms_streams, "))
      << metrics.status().message();
  EXPECT_TRUE(Contains(metrics.status().message(), "ovms_infer_req_active)"));
}

TEST(ServingMetricsTest, KnownFamiliesListsDefaultsFirst) {
  auto known = ServingMetrics::KnownFamilies();
  ASSERT_EQ(known.size(), 12u);
  EXPECT_EQ(known.front(), "ovms_streams");
  EXPECT_EQ(known[known.size() - 2], "ovms_infer_req_queue_size");
  EXPECT_EQ(known.back(), "ovms_infer_req_active");
}

TEST(ServingMetricsTest, ForVersionCreatesZeroSeries) {
  auto metrics = Make({"ovms_streams", "ovms_inference_time_us"});
  VersionMetrics v = metrics->ForVersion("resnet", 3);
  ASSERT_NE(v.streams, nullptr);
  ASSERT_NE(v.inference_time_us, nullptr);
  EXPECT_EQ(v.current_requests, nullptr);
  EXPECT_EQ(v.batch_size, nullptr);
  v.streams->Set(2);
  std::string text = metrics->Render();
  EXPECT_TRUE(Contains(text, "ovms_streams{name=\"resnet\",version=\"3\"} 2\n")) << text;
  EXPECT_TRUE(Contains(text, "ovms_inference_time_us_count{name=\"resnet\",version=\"3\"} 0\n"));
}

// A resolver that knows model "m" with versions 1 and 2 (2 is the default).
std::optional<int64_t> Resolve(const std::string& name, int64_t version) {
  if (name != "m") return std::nullopt;
  if (version == 0) return 2;
  if (version == 1 || version == 2) return version;
  return std::nullopt;
}

TEST(FrontDoorMetricsTest, CountsPerFrontDoorMethodAndVersion) {
  auto metrics = Make();
  FrontDoorMetrics kserve_grpc(*metrics, Api::kKServe, Interface::kGrpc, Resolve);
  FrontDoorMetrics tfs_rest(*metrics, Api::kTensorFlowServing, Interface::kRest, Resolve);
  CallMeter(&kserve_grpc, Method::kModelInfer).Done("m", 1, true);
  CallMeter(&kserve_grpc, Method::kModelInfer).Done("m", 1, true);
  CallMeter(&tfs_rest, Method::kPredict).Done("m", 2, true);
  CallMeter(&tfs_rest, Method::kPredict).Done("m", 0, false);     // default version: 2
  CallMeter(&tfs_rest, Method::kGetModelStatus).Done("m", 0, true);  // no version label
  std::string text = metrics->Render();
  EXPECT_TRUE(Contains(text, "ovms_requests_success{api=\"KServe\",interface=\"gRPC\","
                             "method=\"ModelInfer\",name=\"m\",version=\"1\"} 2\n")) << text;
  EXPECT_TRUE(Contains(text, "ovms_requests_success{api=\"TensorFlowServing\",interface=\"REST\","
                             "method=\"Predict\",name=\"m\",version=\"2\"} 1\n"));
  EXPECT_TRUE(Contains(text, "ovms_requests_fail{api=\"TensorFlowServing\",interface=\"REST\","
                             "method=\"Predict\",name=\"m\",version=\"2\"} 1\n"));
  EXPECT_TRUE(Contains(text, "ovms_requests_success{api=\"TensorFlowServing\",interface=\"REST\","
                             "method=\"GetModelStatus\",name=\"m\"} 1\n"));
  // Request time: successful inference only, by interface.
  EXPECT_TRUE(Contains(text, "ovms_request_time_us_count{interface=\"gRPC\",name=\"m\",version=\"1\"} 2\n"));
  EXPECT_TRUE(Contains(text, "ovms_request_time_us_count{interface=\"REST\",name=\"m\",version=\"2\"} 1\n"));
}

TEST(FrontDoorMetricsTest, FailuresForUnknownModelsOrVersionsAreNotCounted) {
  auto metrics = Make({"ovms_requests_fail"});
  FrontDoorMetrics door(*metrics, Api::kKServe, Interface::kRest, Resolve);
  CallMeter(&door, Method::kModelInfer).Done("nope", 0, false);
  CallMeter(&door, Method::kModelInfer).Done("m", 7, false);
  CallMeter(&door, Method::kModelInfer).Done("m", -1, false);  // unparsable version
  EXPECT_EQ(metrics->Render(),
            "# HELP ovms_requests_fail Number of failed requests to a model.\n"
            "# TYPE ovms_requests_fail counter\n");
}

TEST(FrontDoorMetricsTest, NullSinkRecordsNothing) {
  CallMeter meter(nullptr, Method::kPredict);
  meter.Done("m", 1, true);  // must not crash
}

}  // namespace
}  // namespace tessera::metrics
