// Loss operators of the default domain: NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss (aten's nll_loss_nd has the same weighting,
// ignore_index and reduction rules).
#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

// Without ignore_index no target is ignored; aten needs some value.
constexpr int64_t kNoIgnoreIndex = -9223372036854775807LL;

Result<int> Reduction(const NodeEmitter& e) {
  std::string r = e.Str("reduction", "mean");
  if (r == "none") return 0;
  if (r == "mean") return 1;
  if (r == "sum") return 2;
  return e.Unsupported("reduction '" + r + "'");
}

std::string NllLoss(NodeEmitter& e, const std::string& log_prob, int reduction) {
  return fmt::format("torch.nll_loss_nd({}, {}.to(4), {}, {}, {})", log_prob, e.In(1),
                     e.InOpt(2), reduction, e.Int("ignore_index", kNoIgnoreIndex));
}

}  // namespace

void RegisterLossOps(OpTable& t) {
  t.Op("NegativeLogLikelihoodLoss", [](NodeEmitter& e) {
    TESSERA_ASSIGN_OR_RETURN(int reduction, Reduction(e));
    e.Set(0, "{}", NllLoss(e, e.In(0), reduction));
    return Status::Ok();
  });
  t.Op("SoftmaxCrossEntropyLoss", [](NodeEmitter& e) {
    TESSERA_ASSIGN_OR_RETURN(int reduction, Reduction(e));
    std::string log_prob = e.HasOut(1) ? e.Out(1) : e.Tmp();
    e.Line(fmt::format("{} = torch.log_softmax({}, 1)", log_prob, e.In(0)));
    e.Set(0, "{}", NllLoss(e, log_prob, reduction));
    return Status::Ok();
  });
}

}  // namespace tessera::onnx_import
