#include "core/testing/fake_inference_service.h"

#include <algorithm>
#include <utility>

namespace tessera::testing {
namespace {

Tensor OwnedCopy(const Tensor& t) {
  return Tensor::FromBytes(t.dtype(), t.shape(),
                           std::string(reinterpret_cast<const char*>(t.data()), t.byte_size()));
}

// The request with every input copied, so it survives the call.
InferRequest DeepCopy(const InferRequest& request) {
  InferRequest copy = request;
  for (auto& input : copy.inputs) input.tensor = OwnedCopy(input.tensor);
  return copy;
}

}  // namespace

FakeInferenceService::FakeInferenceService()
    : handler_(&FakeInferenceService::Echo), completer_([this] { CompletionLoop(); }) {}

FakeInferenceService::~FakeInferenceService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  completer_.join();
}

Result<InferResponse> FakeInferenceService::Echo(const InferRequest& request) {
  InferResponse response;
  response.model_name = request.model_name;
  response.model_version = request.model_version == kDefaultVersion ? 1 : request.model_version;
  response.id = request.id;
  if (request.requested_outputs.empty()) {
    for (const auto& input : request.inputs) {
      response.outputs.push_back({input.name, OwnedCopy(input.tensor)});
    }
    return response;
  }
  for (const auto& name : request.requested_outputs) {
    auto it = std::find_if(request.inputs.begin(), request.inputs.end(),
                           [&](const NamedTensor& t) { return t.name == name; });
    if (it == request.inputs.end()) {
      return InvalidArgument("Requested output '" + name + "' does not exist");
    }
    response.outputs.push_back({name, OwnedCopy(it->tensor)});
  }
  return response;
}

void FakeInferenceService::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

void FakeInferenceService::SetAsync(bool async) {
  std::lock_guard<std::mutex> lock(mu_);
  async_ = async;
}

void FakeInferenceService::SetDelay(DelayFn delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = std::move(delay);
}

void FakeInferenceService::SetHold(bool hold) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = hold;
  }
  cv_.notify_all();
}

void FakeInferenceService::AddModel(ModelMetadata metadata, Status ready) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string name = metadata.name;
  models_[name] = Model{std::move(metadata), std::move(ready)};
}

void FakeInferenceService::SetLive(bool live) {
  std::lock_guard<std::mutex> lock(mu_);
  live_ = live;
}

void FakeInferenceService::SetReady(bool ready) {
  std::lock_guard<std::mutex> lock(mu_);
  ready_ = ready;
}

void FakeInferenceService::SetServerMetadata(ServerMetadata metadata) {
  std::lock_guard<std::mutex> lock(mu_);
  server_metadata_ = std::move(metadata);
}

std::vector<InferRequest> FakeInferenceService::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

size_t FakeInferenceService::call_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_.size();
}

bool FakeInferenceService::WaitForCalls(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
}

size_t FakeInferenceService::pending_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

bool FakeInferenceService::WaitForIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pending_.empty(); });
}

Result<InferResponse> FakeInferenceService::Run(const InferRequest& request) {
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handler = handler_;
  }
  return handler(request);
}

void FakeInferenceService::Infer(const InferRequest& request, InferCallback done) {
  bool async;
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(DeepCopy(request));
    async = async_;
    if (async) {
      auto delay = delay_ ? delay_(request) : std::chrono::milliseconds(0);
      pending_.push(Pending{std::chrono::steady_clock::now() + delay, next_seq_++, &request,
                            std::move(done)});
    }
  }
  cv_.notify_all();
  if (!async) done(Run(request));
}

void FakeInferenceService::CompletionLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_) {
      // Every accepted call still gets its one callback.
      while (!pending_.empty()) {
        Pending p = pending_.top();
        pending_.pop();
        lock.unlock();
        p.done(Unavailable("Inference service is shutting down"));
        lock.lock();
      }
      cv_.notify_all();
      return;
    }
    if (pending_.empty() || hold_) {
      cv_.wait(lock);
      continue;
    }
    auto due = pending_.top().due;
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    Pending p = pending_.top();
    pending_.pop();
    lock.unlock();
    p.done(Run(*p.request));
    lock.lock();
    cv_.notify_all();  // WaitForIdle
  }
}

Result<const FakeInferenceService::Model*> FakeInferenceService::FindLocked(
    const std::string& name, int64_t version) const {
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("Model with requested name is not found");
  const auto& versions = it->second.metadata.versions;
  if (version != kDefaultVersion &&
      std::find(versions.begin(), versions.end(), version) == versions.end()) {
    return NotFound("Model with requested version is not found");
  }
  return &it->second;
}

Result<ModelMetadata> FakeInferenceService::GetModelMetadata(const std::string& name,
                                                             int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(const Model* model, FindLocked(name, version));
  ModelMetadata metadata = model->metadata;
  if (version != kDefaultVersion) {
    metadata.version = version;
  } else if (!metadata.versions.empty()) {
    metadata.version = metadata.versions.back();
  }
  return metadata;
}

Result<std::vector<VersionStatus>> FakeInferenceService::GetModelStatus(const std::string& name,
                                                                        int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(const Model* model, FindLocked(name, version));
  std::vector<VersionStatus> out;
  for (int64_t v : model->metadata.versions) {
    if (version != kDefaultVersion && v != version) continue;
    out.push_back(VersionStatus{v, VersionState::kAvailable, Status::Ok()});
  }
  return out;
}

Status FakeInferenceService::ModelReady(const std::string& name, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(const Model* model, FindLocked(name, version));
  return model->ready;
}

bool FakeInferenceService::IsLive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

bool FakeInferenceService::IsReady() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_;
}

ServerMetadata FakeInferenceService::GetServerMetadata() const {
  std::lock_guard<std::mutex> lock(mu_);
  return server_metadata_;
}

}  // namespace tessera::testing
