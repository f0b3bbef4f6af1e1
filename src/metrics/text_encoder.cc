#include "metrics/text_encoder.h"

#include <charconv>
#include <cmath>

namespace tessera::metrics {
namespace {

void AppendEscaped(std::string& out, std::string_view text, bool quote_escapes) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote_escapes) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

void AppendNumber(std::string& out, double value) {
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  char buffer[32];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out.append(buffer, end);
}

void AppendNumber(std::string& out, uint64_t value) {
  char buffer[24];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

void AppendNumber(std::string& out, int64_t value) {
  char buffer[24];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

// name{l1="v1",l2="v2"[,le="bound"]}
void AppendSeriesName(std::string& out, std::string_view name, std::string_view suffix,
                      const std::vector<std::string>& label_names,
                      const std::vector<std::string>& values, const std::string* le) {
  out.append(name).append(suffix);
  bool first = true;
  auto open = [&] {
    out.push_back(first ? '{' : ',');
    first = false;
  };
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (values[i].empty()) continue;  // Prometheus: an empty value is no label
    open();
    out.append(label_names[i]).append("=\"");
    AppendEscaped(out, values[i], true);
    out.push_back('"');
  }
  if (le != nullptr) {
    open();
    out.append("le=\"").append(*le).push_back('"');
  }
  if (!first) out.push_back('}');
}

template <typename Number>
void AppendSample(std::string& out, const FamilyBase& family, std::string_view suffix,
                  const std::vector<std::string>& values, Number value,
                  const std::string* le = nullptr) {
  AppendSeriesName(out, family.name(), suffix, family.label_names(), values, le);
  out.push_back(' ');
  AppendNumber(out, value);
  out.push_back('\n');
}

void AppendHistogram(std::string& out, const FamilyBase& family,
                     const std::vector<std::string>& values, const Histogram& histogram) {
  Histogram::Snapshot snapshot = histogram.Read();
  const std::vector<double>& bounds = histogram.bounds();
  std::string le;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    le.clear();
    AppendNumber(le, i < bounds.size() ? bounds[i] : INFINITY);
    AppendSample(out, family, "_bucket", values, snapshot.cumulative[i], &le);
  }
  AppendSample(out, family, "_sum", values, snapshot.sum);
  AppendSample(out, family, "_count", values, snapshot.count);
}

void AppendFamily(std::string& out, const FamilyBase& family) {
  out.append("# HELP ").append(family.name()).push_back(' ');
  AppendEscaped(out, family.help(), false);
  out.append("\n# TYPE ").append(family.name()).push_back(' ');
  out.append(MetricTypeName(family.type())).push_back('\n');
  switch (family.type()) {
    case MetricType::kCounter:
      static_cast<const Family<Counter>&>(family).ForEachSeries(
          [&](const std::vector<std::string>& values, const Counter& c) {
            AppendSample(out, family, "", values, c.value());
          });
      break;
    case MetricType::kGauge:
      static_cast<const Family<Gauge>&>(family).ForEachSeries(
          [&](const std::vector<std::string>& values, const Gauge& g) {
            AppendSample(out, family, "", values, g.value());
          });
      break;
    case MetricType::kHistogram:
      static_cast<const Family<Histogram>&>(family).ForEachSeries(
          [&](const std::vector<std::string>& values, const Histogram& h) {
            AppendHistogram(out, family, values, h);
          });
      break;
  }
}

}  // namespace

std::string EncodeText(const Registry& registry) {
  std::string out;
  for (const auto& family : registry.families()) AppendFamily(out, *family);
  return out;
}

}  // namespace tessera::metrics
