#include "metrics/registry.h"

#include <algorithm>

namespace tessera::metrics {
namespace {

constexpr char kKeySeparator = '\xff';  // cannot occur in UTF-8 label values

// Joins `values` into `key`, reusing its capacity (no allocation once warm).
void BuildKey(std::initializer_list<std::string_view> values, std::string& key) {
  key.clear();
  for (std::string_view v : values) {
    key.append(v);
    key.push_back(kKeySeparator);
  }
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

template <typename M>
M* Family<M>::Get(std::initializer_list<std::string_view> values) {
  thread_local std::string key;
  BuildKey(values, key);
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.series.find(key);
  if (it == shard.series.end()) {
    Series series{std::vector<std::string>(values.begin(), values.end()), make_()};
    it = shard.series.emplace(key, std::move(series)).first;
  }
  return it->second.metric.get();
}

template <typename M>
void Family<M>::ForEachSeries(
    const std::function<void(const std::vector<std::string>&, const M&)>& fn) const {
  std::vector<const Series*> all;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [key, series] : shard.series) all.push_back(&series);
  }
  // Series are never removed or moved (unordered_map nodes are stable).
  std::sort(all.begin(), all.end(),
            [](const Series* a, const Series* b) { return a->values < b->values; });
  for (const Series* s : all) fn(s->values, *s->metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <typename M>
Family<M>* Registry::Add(std::string name, std::string help, MetricType type,
                         std::vector<std::string> labels, std::function<std::unique_ptr<M>()> make) {
  auto family = std::make_unique<Family<M>>(std::move(name), std::move(help), type,
                                            std::move(labels), std::move(make));
  Family<M>* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

Family<Counter>* Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> labels) {
  return Add<Counter>(std::move(name), std::move(help), MetricType::kCounter, std::move(labels),
                      [] { return std::make_unique<Counter>(); });
}

Family<Gauge>* Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> labels) {
  return Add<Gauge>(std::move(name), std::move(help), MetricType::kGauge, std::move(labels),
                    [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>* Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> labels,
                                          std::vector<double> bounds) {
  auto shared = std::make_shared<const std::vector<double>>(std::move(bounds));
  return Add<Histogram>(std::move(name), std::move(help), MetricType::kHistogram,
                        std::move(labels), [shared] { return std::make_unique<Histogram>(shared); });
}

}  // namespace tessera::metrics
