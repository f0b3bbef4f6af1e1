// Registry: the metric families of one process, in registration order, and
// the series (one per distinct tuple of label values) of each family.
//
// Thread-safety: families are added before use, from one thread. After that
// Family::Get and every read (ForEachSeries, text_encoder.h) may run from any
// thread concurrently. Get takes one of a family's shard locks (short: a
// hash lookup), so hot paths look a series up once and keep the pointer.
// Ownership: the registry owns its families and they own their series;
// pointers returned by Add*/Get stay valid until the registry is destroyed.
// Series are never removed.
#pragma once

#include <array>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/metric.h"

namespace tessera::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge", "histogram" (the Prometheus TYPE line).
std::string_view MetricTypeName(MetricType type);

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// A family of metrics of kind M (Counter, Gauge or Histogram).
template <typename M>
class Family final : public FamilyBase {
 public:
  // `make` builds a new series (e.g. a Histogram with the family's bounds).
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::function<std::unique_ptr<M>()> make)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        make_(std::move(make)) {}

  // The series with these label values (one per label name, in order),
  // created on first use. Never null.
  M* Get(std::initializer_list<std::string_view> values);

  // Calls `fn(label values, metric)` for every series, ordered by label
  // values. Holds one shard lock at a time while collecting, none during fn.
  void ForEachSeries(const std::function<void(const std::vector<std::string>&, const M&)>& fn) const;

 private:
  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<M> metric;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Series> series;  // key: values joined by '\xff'
  };
  static constexpr size_t kShards = 8;

  std::function<std::unique_ptr<M>()> make_;
  std::array<Shard, kShards> shards_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // REQUIRES: `name` is a valid Prometheus metric name not added before;
  // histogram `bounds` strictly ascending.
  Family<Counter>* AddCounter(std::string name, std::string help, std::vector<std::string> labels);
  Family<Gauge>* AddGauge(std::string name, std::string help, std::vector<std::string> labels);
  Family<Histogram>* AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels, std::vector<double> bounds);

  const std::vector<std::unique_ptr<FamilyBase>>& families() const { return families_; }

 private:
  template <typename M>
  Family<M>* Add(std::string name, std::string help, MetricType type,
                 std::vector<std::string> labels, std::function<std::unique_ptr<M>()> make);

  std::vector<std::unique_ptr<FamilyBase>> families_;
};

}  // namespace tessera::metrics
