// The Prometheus text exposition format (version 0.0.4) of a Registry.
//
// For each family, in registration order: "# HELP" and "# TYPE" lines, then
// one line per series ordered by label values; histograms as _bucket lines
// (cumulative, with `le`, ending with le="+Inf"), _sum and _count. Label
// values are escaped (\\, \", \n); a label whose value is empty is left
// out (the same series to Prometheus). A family with no series yet is written as
// its HELP and TYPE lines only, so a scrape shows what is enabled.
//
// Thread-safety: may run while other threads update the metrics.
#pragma once

#include <string>

#include "metrics/registry.h"

namespace tessera::metrics {

// Content-Type of the format.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string EncodeText(const Registry& registry);

}  // namespace tessera::metrics
