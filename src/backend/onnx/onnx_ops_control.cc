// Control flow: If and Loop with tensor-valued outputs. Subgraphs are
// emitted inline as TorchScript if/while blocks; values of the enclosing
// graph are visible in them (ONNX outer-scope references).
#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

const onnx::GraphProto* GraphAttr(const NodeEmitter& e, const std::string& name) {
  const auto* a = e.Attr(name);
  return a && a->has_g() ? &a->g() : nullptr;
}

// Emits `graph` one level deeper and assigns its outputs to `vars`.
Status EmitBranch(NodeEmitter& e, const onnx::GraphProto& graph,
                  const std::vector<std::string>& inputs, const std::vector<std::string>& vars) {
  GraphEmitter& g = e.graph();
  TESSERA_ASSIGN_OR_RETURN(auto outs, g.EmitSubgraph(graph, inputs, g.indent() + 1));
  if (outs.size() < vars.size()) {
    return e.Invalid("subgraph '" + graph.name() + "' has " + std::to_string(outs.size()) +
                     " outputs, the node " + std::to_string(vars.size()));
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    g.Line(std::string(4, ' ') + vars[i] + " = " + outs[i]);
  }
  return Status::Ok();
}

Status EmitIf(NodeEmitter& e) {
  const auto* then_g = GraphAttr(e, "then_branch");
  const auto* else_g = GraphAttr(e, "else_branch");
  if (!then_g || !else_g) return e.Invalid("needs then_branch and else_branch");
  std::vector<std::string> vars;
  for (int i = 0; i < e.num_outputs(); ++i) vars.push_back(e.graph().FreshName("b"));
  e.Line("if bool(" + e.In(0) + "):");
  TESSERA_RETURN_IF_ERROR(EmitBranch(e, *then_g, {}, vars));
  e.Line("else:");
  TESSERA_RETURN_IF_ERROR(EmitBranch(e, *else_g, {}, vars));
  for (int i = 0; i < e.num_outputs(); ++i) e.Alias(i, vars[i]);
  return Status::Ok();
}

// Loop(M?, cond?, v_initial...) with body(iter, cond, v...) ->
// (cond, v..., scan...): scan outputs are stacked along a new axis 0.
Status EmitLoop(NodeEmitter& e) {
  const auto* body = GraphAttr(e, "body");
  if (!body) return e.Invalid("needs a body");
  GraphEmitter& g = e.graph();
  const int carried = e.num_inputs() - 2;
  if (carried < 0) return e.Invalid("needs at least two inputs");
  const int scans = e.num_outputs() - carried;
  if (scans < 0 || body->output_size() != 1 + carried + scans) {
    return e.Invalid("body outputs do not match the node's outputs");
  }
  std::string trip = e.Has(0) ? "int(" + e.In(0) + ")" : "9223372036854775807";
  std::string cond = g.FreshName("cond"), iter = g.FreshName("it");
  e.Line(cond + " = " + (e.Has(1) ? "bool(" + e.In(1) + ")" : "True"));
  e.Line(iter + " = 0");
  std::vector<std::string> vars, lists;
  for (int i = 0; i < carried; ++i) {
    vars.push_back(g.FreshName("lv"));
    e.Line(vars.back() + " = " + e.In(2 + i));
  }
  for (int i = 0; i < scans; ++i) {
    lists.push_back(g.FreshName("scan"));
    e.Line(lists.back() + ": List[Tensor] = []");
  }
  e.Line("while " + iter + " < " + trip + " and " + cond + ":");
  std::vector<std::string> inputs = {"torch.tensor(" + iter + ", dtype=4)",
                                     "torch.tensor(" + cond + ")"};
  inputs.insert(inputs.end(), vars.begin(), vars.end());
  TESSERA_ASSIGN_OR_RETURN(auto outs, g.EmitSubgraph(*body, inputs, g.indent() + 1));
  // The body's outputs may name its inputs: read them all before updating.
  std::string pad(4, ' ');
  std::vector<std::string> results;
  for (const auto& out : outs) {
    results.push_back(g.FreshName("r"));
    e.Line(pad + results.back() + " = " + out);
  }
  e.Line(pad + cond + " = bool(" + results[0] + ")");
  for (int i = 0; i < carried; ++i) e.Line(pad + vars[i] + " = " + results[1 + i]);
  for (int i = 0; i < scans; ++i) {
    e.Line(pad + lists[i] + ".append(" + results[1 + carried + i] + ")");
  }
  e.Line(pad + iter + " += 1");
  for (int i = 0; i < carried; ++i) e.Alias(i, vars[i]);
  for (int i = 0; i < scans; ++i) e.Set(carried + i, "torch.stack({})", lists[i]);
  return Status::Ok();
}

}  // namespace

void RegisterControlFlowOps(OpTable& t) {
  t.Op("If", EmitIf);
  t.Op("Loop", EmitLoop);
}

}  // namespace tessera::onnx_import
