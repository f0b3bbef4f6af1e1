// Recurrent ops: RNN, GRU and LSTM (forward, reverse, bidirectional;
// sequence_lens; both layouts; clip; GRU linear_before_reset; LSTM
// peepholes). One TorchScript helper loops over time steps for each
// direction; entries past their sequence length keep their state and output
// zeros, as the ONNX reference does.
#include <algorithm>

#include "backend/onnx/onnx_emitter.h"

namespace tessera::onnx_import {
namespace {

constexpr char kRnn[] = R"(def onnx_rnn_act(self, x: Tensor, name: str, alpha: float, beta: float) -> Tensor:
    if name == 'Sigmoid':
        return torch.sigmoid(x)
    if name == 'Tanh':
        return torch.tanh(x)
    if name == 'Relu':
        return torch.relu(x)
    if name == 'LeakyRelu':
        return torch.leaky_relu(x, alpha)
    if name == 'ThresholdedRelu':
        return torch.threshold(x, alpha, 0.0)
    if name == 'HardSigmoid':
        return torch.clamp(x * alpha + beta, 0.0, 1.0)
    if name == 'Affine':
        return x * alpha + beta
    if name == 'ScaledTanh':
        return torch.tanh(x * beta) * alpha
    if name == 'Elu':
        return torch.elu(x, alpha)
    if name == 'Softsign':
        return x / (torch.abs(x) + 1.0)
    return torch.softplus(x)

def onnx_rnn_clip(self, x: Tensor, clip: float) -> Tensor:
    if clip > 0.0:
        return torch.clamp(x, -clip, clip)
    return x

def onnx_rnn(self, kind: str, x: Tensor, w: Tensor, r: Tensor, b: Optional[Tensor], lens: Optional[Tensor], h0: Optional[Tensor], c0: Optional[Tensor], p: Optional[Tensor], acts: List[str], alphas: List[float], betas: List[float], clip: float, direction: str, layout: int, lbr: bool) -> Tuple[Tensor, Tensor, Tensor]:
    if layout == 1:
        x = x.transpose(0, 1)
        if h0 is not None:
            h0 = h0.transpose(0, 1)
        if c0 is not None:
            c0 = c0.transpose(0, 1)
    seq = x.size(0)
    batch = x.size(1)
    dirs = w.size(0)
    hidden = r.size(-1)
    ng = w.size(1) // hidden
    na = len(acts) // dirs
    steps = torch.arange(seq, dtype=4)
    if lens is None:
        valid_len = torch.full([batch], seq, dtype=4)
    else:
        valid_len = lens.to(4)
    ys: List[Tensor] = []
    hs: List[Tensor] = []
    cs: List[Tensor] = []
    for d in range(dirs):
        reverse = direction == 'reverse' or d == 1
        wd = w[d]
        rd = r[d]
        if b is None:
            wb = torch.zeros([ng * hidden], dtype=x.dtype)
            rb = torch.zeros([ng * hidden], dtype=x.dtype)
        else:
            wb = b[d][:ng * hidden]
            rb = b[d][ng * hidden:]
        h = torch.zeros([batch, hidden], dtype=x.dtype)
        if h0 is not None:
            h = h0[d]
        c = torch.zeros([batch, hidden], dtype=x.dtype)
        if c0 is not None:
            c = c0[d]
        pi = torch.zeros([hidden], dtype=x.dtype)
        po = pi
        pf = pi
        if p is not None:
            pi = p[d][:hidden]
            po = p[d][hidden:2 * hidden]
            pf = p[d][2 * hidden:]
        a = d * na
        out: List[Tensor] = []
        for s in range(seq):
            t = s
            if reverse:
                t = seq - 1 - s
            live = (t < valid_len).to(x.dtype).unsqueeze(1)
            gx = torch.matmul(x[t], wd.t()) + wb
            if kind == 'RNN':
                gh = torch.matmul(h, rd.t()) + rb
                hn = self.onnx_rnn_act(self.onnx_rnn_clip(gx + gh, clip), acts[a], alphas[a], betas[a])
            elif kind == 'GRU':
                gh = torch.matmul(h, rd[:2 * hidden].t()) + rb[:2 * hidden]
                zr = self.onnx_rnn_act(self.onnx_rnn_clip(gx[:, :2 * hidden] + gh, clip), acts[a], alphas[a], betas[a])
                z = zr[:, :hidden]
                rr = zr[:, hidden:]
                if lbr:
                    hh = gx[:, 2 * hidden:] + rr * (torch.matmul(h, rd[2 * hidden:].t()) + rb[2 * hidden:])
                else:
                    hh = gx[:, 2 * hidden:] + torch.matmul(rr * h, rd[2 * hidden:].t()) + rb[2 * hidden:]
                hc = self.onnx_rnn_act(self.onnx_rnn_clip(hh, clip), acts[a + 1], alphas[a + 1], betas[a + 1])
                hn = (1.0 - z) * hc + z * h
            else:
                g = gx + torch.matmul(h, rd.t()) + rb
                gi = self.onnx_rnn_clip(g[:, :hidden] + pi * c, clip)
                go = g[:, hidden:2 * hidden]
                gf = self.onnx_rnn_clip(g[:, 2 * hidden:3 * hidden] + pf * c, clip)
                gc = self.onnx_rnn_clip(g[:, 3 * hidden:], clip)
                i = self.onnx_rnn_act(gi, acts[a], alphas[a], betas[a])
                f = self.onnx_rnn_act(gf, acts[a], alphas[a], betas[a])
                cc = self.onnx_rnn_act(gc, acts[a + 1], alphas[a + 1], betas[a + 1])
                cn = f * c + i * cc
                o = self.onnx_rnn_act(self.onnx_rnn_clip(go + po * cn, clip), acts[a], alphas[a], betas[a])
                hn = o * self.onnx_rnn_act(cn, acts[a + 2], alphas[a + 2], betas[a + 2])
                c = live * cn + (1.0 - live) * c
            h = live * hn + (1.0 - live) * h
            out.append(h * live)
        if reverse:
            out.reverse()
        ys.append(torch.stack(out))
        hs.append(h)
        cs.append(c)
    y = torch.stack(ys, 1)
    yh = torch.stack(hs)
    yc = torch.stack(cs)
    if layout == 1:
        y = y.permute([2, 0, 1, 3])
        yh = yh.transpose(0, 1)
        yc = yc.transpose(0, 1)
    return y, yh, yc
)";

struct RnnKind {
  const char* op;
  std::vector<std::string> default_acts;
};

double DefaultAlpha(const std::string& act) {
  if (act == "LeakyRelu") return 0.01;
  if (act == "HardSigmoid") return 0.2;
  return 1.0;
}

double DefaultBeta(const std::string& act) { return act == "HardSigmoid" ? 0.5 : 0.0; }

Status EmitRnn(NodeEmitter& e, const RnnKind& kind) {
  std::string direction = e.Str("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional") {
    return e.Unsupported("direction '" + direction + "'");
  }
  if (e.Int("input_forget", 0) != 0) return e.Unsupported("input_forget=1");
  int dirs = direction == "bidirectional" ? 2 : 1;
  std::vector<std::string> acts;
  if (const auto* a = e.Attr("activations")) {
    for (const auto& s : a->strings()) acts.push_back(s);
  } else {
    for (int d = 0; d < dirs; ++d) {
      acts.insert(acts.end(), kind.default_acts.begin(), kind.default_acts.end());
    }
  }
  static const std::vector<std::string> kKnown = {
      "Sigmoid", "Tanh", "Relu", "LeakyRelu", "ThresholdedRelu", "HardSigmoid",
      "Affine", "ScaledTanh", "Elu", "Softsign", "Softplus"};
  auto alphas = e.Floats("activation_alpha").value_or(std::vector<double>{});
  auto betas = e.Floats("activation_beta").value_or(std::vector<double>{});
  std::vector<double> a_list, b_list;
  std::vector<std::string> quoted;
  for (size_t i = 0; i < acts.size(); ++i) {
    if (std::find(kKnown.begin(), kKnown.end(), acts[i]) == kKnown.end()) {
      return e.Unsupported("activation '" + acts[i] + "'");
    }
    a_list.push_back(i < alphas.size() ? alphas[i] : DefaultAlpha(acts[i]));
    b_list.push_back(i < betas.size() ? betas[i] : DefaultBeta(acts[i]));
    quoted.push_back(StrLit(acts[i]));
  }
  std::string is_lstm = std::string(kind.op) == "LSTM" ? "1" : "0";
  std::string y = e.Out(0), yh = e.Out(1), yc = e.Out(2);
  e.Line(fmt::format(
      "{}, {}, {} = {}({}, {}, {}, {}, {}, {}, {}, {}, {}, [{}], {}, {}, {}, {}, {}, {})", y, yh,
      yc, e.Helper("onnx_rnn"), StrLit(kind.op), e.In(0), e.In(1), e.In(2), e.InOpt(3),
      e.InOpt(4), e.InOpt(5), is_lstm == "1" ? e.InOpt(6) : "None",
      is_lstm == "1" ? e.InOpt(7) : "None", fmt::join(quoted, ", "), FloatList(a_list),
      FloatList(b_list), FloatLit(e.Float("clip", 0.0)), StrLit(direction), e.Int("layout", 0),
      BoolLit(e.Int("linear_before_reset", 0) != 0)));
  return Status::Ok();
}

}  // namespace

void RegisterRnnOps(OpTable& t) {
  t.Helper("onnx_rnn", kRnn);
  t.Op("RNN", [](NodeEmitter& e) { return EmitRnn(e, {"RNN", {"Tanh"}}); });
  t.Op("GRU", [](NodeEmitter& e) { return EmitRnn(e, {"GRU", {"Sigmoid", "Tanh"}}); });
  t.Op("LSTM", [](NodeEmitter& e) { return EmitRnn(e, {"LSTM", {"Sigmoid", "Tanh", "Tanh"}}); });
}

}  // namespace tessera::onnx_import
