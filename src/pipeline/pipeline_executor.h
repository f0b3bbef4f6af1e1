// PipelineExecutor: runs requests through one validated pipeline.
//
// Each request gets its own run: a node starts as soon as every node it
// reads from has finished. A DL node is an InferRequest to its model through
// the given InferenceService (so the model's own scheduling and batching
// apply) and completes in that service's callback; a custom node runs its
// library's execute on Options::custom_node_runner, or else on the thread
// that made it ready. No thread ever waits for a node: the run moves on from
// callbacks.
//
// Tensors pass between nodes without copies: a node's inputs are views of
// the request's tensors or of earlier nodes' outputs (custom node outputs
// are the library's own memory, released when the last view dies).
//
// Errors: the first failing node's Status, with "; node: <name>" appended
// when the message does not already name it; no node starts after a
// failure, and the answer comes once every started node has finished, so
// nothing still reads the request when `done` runs.
//
// Demultiplexing: after a demultiplexer (a node with demultiply_count, or
// "request" with a pipeline-level one) every output must have the same dim 0
// N (the configured count, or any for -1), at most 10000 and at least 1, and
// rank >= 3; each output is cut into N zero-copy shard views of shape
// dims[1:] and every node below runs once per shard (DL shards are separate
// concurrent InferRequests). A gathering node (gather_from_node, and
// "response" for every demultiplexer nobody gathers) waits for all shards
// and receives them stacked along a new dim 0 in shard order (one copy).
// Errors (OVMS's texts): rank < 3 "Wrong number of dimensions in a tensor to
// be sharded", dim 0 unlike the count or another output's "Wrong dimension
// size. Should match demultiply count", dim 0 > 10000 "Too large dynamic
// demultiplication requested." (kInvalidArgument when the demultiplexer is
// "request", else kInternal); N = 0 "Pipeline execution aborted due to no
// content from custom node" (kAborted), unless the pipeline set
// "empty_demultiplex": "empty_result" and "response" gathers that
// demultiplexer: then the answer has every output empty (dim 0 and unknown
// dims 0; an output read from "request" is the request's tensor); shards of
// one input differing in
// type or shape "Gathered tensor shards dimensions are different"
// (kInternal).
//
// Thread-safety: Execute may be called concurrently; the executor must
// outlive every run it started (until each `done` has been called).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/inference_service.h"
#include "image/image_decoder.h"
#include "pipeline/pipeline_definition.h"
#include "pipeline/pipeline_validator.h"

namespace tessera::pipeline {

// The version every pipeline reports (OVMS SingleVersionServableDefinition).
inline constexpr int64_t kPipelineVersion = 1;

struct PipelineExecutorOptions {
  // Called after every DL or custom node run (each shard counts), success
  // or not, with the time from its start to its result (for a DL node this
  // includes the model's queue). May run on any thread; must not block.
  using NodeTimeObserver = std::function<void(const std::string& node, std::chrono::microseconds elapsed)>;
  // Runs a task some time later on some thread (e.g. a pool's Submit).
  using TaskRunner = std::function<void(std::function<void()> task)>;

  NodeTimeObserver node_time_observer;  // unset: no timing
  // Where custom node execute calls run. Unset: on the thread that made
  // the node ready (the caller of Execute or a model's completion
  // callback, which then does the library's work on that model's thread).
  TaskRunner custom_node_runner;
  // Largest width x height of an encoded image decoded at the entry
  // (entry_images.h; the server's --max_image_pixels).
  int64_t max_image_pixels = image::kDefaultMaxImagePixels;
};

class PipelineExecutor {
 public:
  using Options = PipelineExecutorOptions;
  using NodeTimeObserver = Options::NodeTimeObserver;
  using TaskRunner = Options::TaskRunner;

  // REQUIRES: `validated` came from ValidatePipeline(definition, ...);
  // `models` outlives the executor.
  static Result<std::unique_ptr<PipelineExecutor>> Create(PipelineDefinition definition,
                                                          ValidatedPipeline validated, InferenceService* models,
                                                          Options options = {});

  ~PipelineExecutor();
  PipelineExecutor(const PipelineExecutor&) = delete;
  PipelineExecutor& operator=(const PipelineExecutor&) = delete;

  const std::string& name() const { return definition_.name(); }
  const ValidatedPipeline& validated() const { return validated_; }

  // Runs `request` (its model_name and version are ignored); `done` is
  // called exactly once, on any thread, possibly before Execute returns.
  // The response names the pipeline, version 1, the request's id, and every
  // pipeline output sorted by name.
  // REQUIRES: `request` and the bytes its inputs borrow stay valid until
  // `done` has been called.
  // Errors: kInvalidArgument for a missing pipeline input ("Missing input
  // with specific name - Required input: <x>") or an unexpected one
  // ("Invalid number of inputs - Expected: N; Actual: M"), or an input
  // unlike validated().inputs (CheckInput of serving/request_validator.h:
  // datatype, shape with -1 as any, byte size, BYTES elements; an input of
  // kInvalid type is left to its consumer), or encoded images that do not
  // decode (entry_images.h; images for an input only models read are left
  // to those models), all before any node runs; then any node's. A custom node's
  // inputs are checked the same way against its getInputsInfo before
  // execute: kInvalidArgument when the tensor is the request's, kInternal
  // when a node produced it, with "; pipeline: <p>; node: <n>".
  void Execute(const InferRequest& request, InferCallback done) const;

  struct Node;  // precomputed wiring of one node (pipeline_executor.cc)

 private:
  class Run;
  PipelineExecutor() = default;

  PipelineDefinition definition_;
  ValidatedPipeline validated_;
  InferenceService* models_ = nullptr;
  Options options_;
  std::vector<Node> nodes_;  // definition order: request first, response last
  // Pipeline inputs whose encoded images are decoded at the entry: those a
  // custom node reads, or all of them when "request" demultiplexes; the
  // others are left to the model that reads them.
  std::set<std::string> entry_decoded_;
  bool entry_demultiplexes_ = false;
};

}  // namespace tessera::pipeline
