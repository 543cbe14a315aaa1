// Max pooling on oneDNN over tfjs' NHWC tensors on the wasm heap: tfjs' MaxPool and MaxPoolGrad, and Caffe's
// MAX forward. The gradient runs oneDNN's training forward again to get the workspace (each window's argmax; oneDNN's
// kernels keep the FIRST maximum in scan order, as Caffe and kdnet's wasm MaxPoolGrad do), then the backward
// with it. A window with nothing above -FLT_MAX (only -inf values, or only padding) makes MaxForward and
// MaxBackward return false: oneDNN gives -FLT_MAX and an arbitrary argmax there, where tfjs and kdnet's wasm
// kernels differ; the caller falls back. MaxForwardFloor is Caffe's forward, whose running maximum starts at
// -FLT_MAX: such windows give -FLT_MAX, so it never falls back.
// Padding as wide as the kernel (windows wholly in it) is not taken.
//
// Primitives and buffers are built once per geometry and cached.
#include <dnnl.hpp>
#include <algorithm>
#include <cfloat>
#include <memory>
#include <string>
#include <unordered_map>
#include "engine.h"
#include "primitive-cache.h"
#include "heap.h"
#include "kernels.h"

namespace kdnet {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

enum Kind { kMaxForward = 0, kMaxBackward = 1, kMaxForwardFloor = 2 };

// params: kind, planes, n, ih, iw, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, padBottom, padRight.
// planes = 1 (only with c = 1): the [n, h, w, 1] tensor is handed to oneDNN as one NCHW image of n channels
// (the same bytes), which its channel-vectorized kernels run far faster than n one-channel images.
constexpr size_t kParams = 16;

struct Geometry {
  int kind, planes;
  memory::dim n, ih, iw, c, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr;
};

struct Entry {
  bool supported = false;
  std::string impl;
  memory::desc src, dst;
  std::unique_ptr<dnnl::primitive> forward, backward;
  std::unique_ptr<memory> trainDst, workspace, scratch;
};

std::unique_ptr<Entry> build(const Geometry& g) {
  auto e = std::make_unique<Entry>();
  const bool planes = g.planes && g.c == 1;
  const tag layout = planes ? tag::nchw : tag::nhwc;
  e->src = planes ? memory::desc({1, g.n, g.ih, g.iw}, dt::f32, layout) : memory::desc({g.n, g.c, g.ih, g.iw}, dt::f32, layout);
  e->dst = planes ? memory::desc({1, g.n, g.oh, g.ow}, dt::f32, layout) : memory::desc({g.n, g.c, g.oh, g.ow}, dt::f32, layout);
  const memory::dims strides{g.sh, g.sw}, kernel{g.kh, g.kw};
  const memory::dims padL{g.pt, g.pl}, padR{g.pb, g.pr};
  // Padding as wide as the kernel (windows wholly in it): oneDNN 2.6's kernels were seen to read misplaced
  // rows there (1×1 windows, stride 3, CEIL). Not taken.
  for (int i = 0; i < 2; i++)
    if (padL[i] >= kernel[i] || padR[i] >= kernel[i]) return e;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto alg = dnnl::algorithm::pooling_max;
  const bool training = g.kind == kMaxBackward;
  const auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  dnnl::pooling_forward::primitive_desc fwd(dnnl::pooling_forward::desc(prop, alg, e->src, e->dst, strides, kernel, padL, padR), attr, cpu());
  memory::desc scratch = fwd.scratchpad_desc();
  e->impl = fwd.impl_info_str();
  e->forward = std::make_unique<dnnl::pooling_forward>(fwd);
  if (training) {
    dnnl::pooling_backward::primitive_desc bwd(dnnl::pooling_backward::desc(alg, e->src, e->dst, strides, kernel, padL, padR), attr, cpu(), fwd);
    e->backward = std::make_unique<dnnl::pooling_backward>(bwd);
    e->trainDst = std::make_unique<memory>(e->dst, cpu());
    e->workspace = std::make_unique<memory>(fwd.workspace_desc(), cpu());
    if (bwd.scratchpad_desc().get_size() > scratch.get_size()) scratch = bwd.scratchpad_desc();
    e->impl += " / " + std::string(bwd.impl_info_str());
  }
  if (scratch.get_size() > 0) e->scratch = std::make_unique<memory>(scratch, cpu());
  e->supported = true;
  return e;
}

Geometry geometry(const Napi::CallbackInfo& info, std::string& key) {
  auto p = info[0].As<Napi::Int32Array>();
  if (p.ElementLength() != kParams) throw Napi::TypeError::New(info.Env(), "kdnet native: pool expects 16 parameters");
  const int32_t* v = p.Data();
  key.assign(reinterpret_cast<const char*>(v), kParams * sizeof(int32_t));
  Geometry g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
  if (g.kind < kMaxForward || g.kind > kMaxForwardFloor) throw Napi::TypeError::New(info.Env(), "kdnet native: unknown pooling kind");
  return g;
}

Entry& lookup(const Geometry& g, const std::string& key) { return cachedPrimitive<Entry>(key, g, build); }

memory::dim elements(const memory::desc& d) { return static_cast<memory::dim>(d.get_size() / sizeof(float)); }

// True when some window had nothing above -FLT_MAX (oneDNN's starting value; also true for NaN).
bool hasEmptyWindow(const float* y, memory::dim count) {
  bool empty = false;
  for (memory::dim i = 0; i < count; i++) empty |= !(y[i] > -FLT_MAX);
  return empty;
}

// Caffe's floor: a window with nothing above -FLT_MAX gives -FLT_MAX (NaN stays NaN).
void floorAtLowest(float* y, memory::dim count) {
  for (memory::dim i = 0; i < count; i++) y[i] = y[i] < -FLT_MAX ? -FLT_MAX : y[i];
}

void runMax(const Geometry& g, Entry& e, memory& x, memory& out, const memory* dy, bool& taken) {
  auto& s = stream();
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x}};
  if (e.scratch) args.emplace(DNNL_ARG_SCRATCHPAD, *e.scratch);
  if (g.kind != kMaxBackward) {
    args.emplace(DNNL_ARG_DST, out);
    e.forward->execute(s, args);
    s.wait();
    float* y = static_cast<float*>(out.get_data_handle());
    if (g.kind == kMaxForwardFloor) floorAtLowest(y, elements(e.dst));
    else taken = !hasEmptyWindow(y, elements(e.dst));
    return;
  }
  args.emplace(DNNL_ARG_DST, *e.trainDst);
  args.emplace(DNNL_ARG_WORKSPACE, *e.workspace);
  e.forward->execute(s, args);
  s.wait();
  if (hasEmptyWindow(static_cast<float*>(e.trainDst->get_data_handle()), elements(e.dst))) {
    taken = false;
    return;
  }
  std::unordered_map<int, memory> back{{DNNL_ARG_DIFF_DST, *dy}, {DNNL_ARG_WORKSPACE, *e.workspace}, {DNNL_ARG_DIFF_SRC, out}};
  if (e.scratch) back.emplace(DNNL_ARG_SCRATCHPAD, *e.scratch);
  e.backward->execute(s, back);
  s.wait();
}

}  // namespace

// pool(params Int32Array, heap ArrayBuffer, in0Offset, in1Offset, outOffset) → true, or false (the caller
// falls back) when oneDNN does not take the geometry or (MaxForward, MaxBackward) a window is empty.
// MaxForward, MaxForwardFloor: in0 = x, out = y (in1 unused). MaxBackward: in0 = x, in1 = dy, out = dx.
Napi::Value Pool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string key;
  const Geometry g = geometry(info, key);
  Entry& e = lookup(g, key);
  if (!e.supported) return Napi::Boolean::New(env, false);
  Heap heap(info[1]);
  const bool backward = g.kind == kMaxBackward;
  memory out(backward ? e.src : e.dst, cpu(), heap.floats(env, arg(info, 4), elements(backward ? e.src : e.dst)));
  memory x(e.src, cpu(), heap.floats(env, arg(info, 2), elements(e.src)));
  bool taken = true;
  if (backward) {
    memory dy(e.dst, cpu(), heap.floats(env, arg(info, 3), elements(e.dst)));
    runMax(g, e, x, out, &dy, taken);
  } else {
    runMax(g, e, x, out, nullptr, taken);
  }
  return Napi::Boolean::New(env, taken);
}

// poolImpl(params) → oneDNN's implementation name(s) for this geometry ("" when unsupported): for reports.
Napi::Value PoolImpl(const Napi::CallbackInfo& info) {
  std::string key;
  const Geometry g = geometry(info, key);
  return Napi::String::New(info.Env(), lookup(g, key).impl);
}

}  // namespace kdnet
