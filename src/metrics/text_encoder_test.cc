#include "metrics/text_encoder.h"

#include <gtest/gtest.h>

namespace tessera::metrics {
namespace {

TEST(TextEncoderTest, CountersAndGauges) {
  Registry registry;
  auto* requests = registry.AddCounter("requests", "Requests served.", {"name", "version"});
  auto* current = registry.AddGauge("current", "In flight.", {"name"});
  requests->Get({"b", "2"})->Increment(3);
  requests->Get({"a", "10"})->Increment();
  current->Get({"a"})->Add(-1);
  EXPECT_EQ(EncodeText(registry),
            "# HELP requests Requests served.\n"
            "# TYPE requests counter\n"
            "requests{name=\"a\",version=\"10\"} 1\n"
            "requests{name=\"b\",version=\"2\"} 3\n"
            "# HELP current In flight.\n"
            "# TYPE current gauge\n"
            "current{name=\"a\"} -1\n");
}

TEST(TextEncoderTest, Histogram) {
  Registry registry;
  auto* time = registry.AddHistogram("time_us", "Time.", {"name"}, {10, 18.5});
  Histogram* h = time->Get({"m"});
  h->Observe(3);
  h->Observe(12);
  h->Observe(1000.25);
  EXPECT_EQ(EncodeText(registry),
            "# HELP time_us Time.\n"
            "# TYPE time_us histogram\n"
            "time_us_bucket{name=\"m\",le=\"10\"} 1\n"
            "time_us_bucket{name=\"m\",le=\"18.5\"} 2\n"
            "time_us_bucket{name=\"m\",le=\"+Inf\"} 3\n"
            "time_us_sum{name=\"m\"} 1015.25\n"
            "time_us_count{name=\"m\"} 3\n");
}

TEST(TextEncoderTest, EscapesAndOmitsEmptyLabels) {
  Registry registry;
  auto* family = registry.AddCounter("c", "Help with \\ and\nnewline.", {"name", "version"});
  family->Get({"a\"b\\c\nd", ""})->Increment();
  auto* bare = registry.AddGauge("g", "No labels.", {});
  bare->Get({})->Set(4);
  EXPECT_EQ(EncodeText(registry),
            "# HELP c Help with \\\\ and\\nnewline.\n"
            "# TYPE c counter\n"
            "c{name=\"a\\\"b\\\\c\\nd\"} 1\n"
            "# HELP g No labels.\n"
            "# TYPE g gauge\n"
            "g 4\n");
}

TEST(TextEncoderTest, FamilyWithoutSeriesShowsHelpAndType) {
  Registry registry;
  registry.AddCounter("c", "Count.", {"name"});
  EXPECT_EQ(EncodeText(registry), "# HELP c Count.\n# TYPE c counter\n");
}

}  // namespace
}  // namespace tessera::metrics
