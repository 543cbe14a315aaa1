// Pooling on oneDNN over tfjs' NHWC tensors on the wasm heap: max pooling (tfjs' MaxPool and MaxPoolGrad, and
// Caffe's MAX forward) and Caffe's AVE pooling forward and backward.
//
// MAX: the gradient runs oneDNN's training forward again to get the workspace (each window's argmax; oneDNN's
// kernels keep the FIRST maximum in scan order, as Caffe and kdnet's wasm MaxPoolGrad do), then the backward
// with it. A window with nothing above -FLT_MAX (only -inf values, or only padding) makes MaxForward and
// MaxBackward return false: oneDNN gives -FLT_MAX and an arbitrary argmax there, where tfjs and kdnet's wasm
// kernels differ; the caller falls back. MaxForwardFloor is Caffe's forward, whose running maximum starts at
// -FLT_MAX: such windows give -FLT_MAX, so it never falls back.
//
// AVE (Caffe's divisor: the window clipped to the padded image [-pad, size + pad), not to the image and not
// the whole kernel for CEIL windows that overhang it). Padding is given as Caffe's pad (top, left) and the
// explicit bottom/right padding that makes the last window fit (≥ pad when a CEIL window overhangs):
//   no pad       exclude-padding average with the overhang as oneDNN padding: divides by the in-image count;
//   no overhang  include-padding average: every window lies inside the padded image, divides by kh·kw;
//   both         the input copied into a zero buffer padded by `pad` (its zeros count), exclude-padding
//                average over it with only the overhang as oneDNN padding (the gradient is cropped back).
// Windows wholly past the image without padding (Caffe divides by a size ≤ 0 there) are not taken, nor (any
// kind) padding as wide as the kernel.
//
// Primitives and buffers are built once per geometry and cached.
#include <dnnl.hpp>
#include <algorithm>
#include <cfloat>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
#include "engine.h"
#include "primitive-cache.h"
#include "heap.h"
#include "kernels.h"

namespace kdnet {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

enum Kind { kMaxForward = 0, kMaxBackward = 1, kMaxForwardFloor = 2, kAvgForward = 3, kAvgBackward = 4 };

// params: kind, planes, n, ih, iw, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, padBottom, padRight.
// planes = 1 (only with c = 1): the [n, h, w, 1] tensor is handed to oneDNN as one NCHW image of n channels
// (the same bytes), which its channel-vectorized kernels run far faster than n one-channel images.
constexpr size_t kParams = 16;

struct Geometry {
  int kind, planes;
  memory::dim n, ih, iw, c, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr;
};

// Window reads: what decides whether a second thread pays (see threads.h).
double work(const Geometry& g) { return 1.0 * g.n * g.c * g.oh * g.ow * g.kh * g.kw; }

bool isAvg(const Geometry& g) { return g.kind == kAvgForward || g.kind == kAvgBackward; }

struct Entry {
  bool supported = false;
  std::string impl;
  memory::desc src, dst;
  std::unique_ptr<dnnl::primitive> forward, backward;
  std::unique_ptr<memory> trainDst, workspace, scratch;
  // AVE with pad and overhang: the zero-padded copy of the input (forward) or of its gradient (backward).
  std::unique_ptr<memory> padded;
  memory::dim padRows = 0, padCols = 0;  // the copy's top and left border (Caffe's pad)
  memory::dim paddedH = 0, paddedW = 0;
};

// Caffe's AVE geometry as one oneDNN pooling: the source it reads (the input or a padded copy) and its padding.
struct AvgPlan {
  dnnl::algorithm alg;
  bool copy;
  memory::dim h, w, borderTop, borderLeft;  // source size; the copy's top/left border
  memory::dims padL, padR;
};

AvgPlan avgPlan(const Geometry& g) {
  const memory::dim overH = std::max<memory::dim>(0, g.pb - g.pt), overW = std::max<memory::dim>(0, g.pr - g.pl);
  const bool padded = g.pt > 0 || g.pl > 0;
  if (!padded) return {dnnl::algorithm::pooling_avg_exclude_padding, false, g.ih, g.iw, 0, 0, {0, 0}, {g.pb, g.pr}};
  if (overH == 0 && overW == 0) return {dnnl::algorithm::pooling_avg_include_padding, false, g.ih, g.iw, 0, 0, {g.pt, g.pl}, {g.pb, g.pr}};
  // The copy reaches as far as windows do, at most `pad` past the image; the rest is the overhang.
  const memory::dim h = g.pt + g.ih + std::min(g.pt, g.pb), w = g.pl + g.iw + std::min(g.pl, g.pr);
  return {dnnl::algorithm::pooling_avg_exclude_padding, true, h, w, g.pt, g.pl, {0, 0}, {overH, overW}};
}

std::unique_ptr<Entry> build(const Geometry& g) {
  auto e = std::make_unique<Entry>();
  const bool planes = g.planes && g.c == 1;
  if (isAvg(g) && !planes) return e;  // kdnet's Caffe kernels always hand planes
  const tag layout = planes ? tag::nchw : tag::nhwc;
  auto desc = [&](memory::dim h, memory::dim w) {
    return planes ? memory::desc({1, g.n, h, w}, dt::f32, layout) : memory::desc({g.n, g.c, h, w}, dt::f32, layout);
  };
  e->src = desc(g.ih, g.iw);
  e->dst = desc(g.oh, g.ow);
  const memory::dims strides{g.sh, g.sw}, kernel{g.kh, g.kw};
  memory::dims padL{g.pt, g.pl}, padR{g.pb, g.pr};
  memory::desc poolSrc = e->src;
  auto alg = dnnl::algorithm::pooling_max;
  if (isAvg(g)) {
    const AvgPlan p = avgPlan(g);
    // A window wholly outside the source would be divided by 0 (Caffe: by a size ≤ 0): not taken.
    if ((g.oh - 1) * g.sh - p.padL[0] >= p.h || (g.ow - 1) * g.sw - p.padL[1] >= p.w) return e;
    alg = p.alg;
    padL = p.padL;
    padR = p.padR;
    if (p.copy) {
      poolSrc = desc(p.h, p.w);
      e->padded = std::make_unique<memory>(poolSrc, cpu());
      std::memset(e->padded->get_data_handle(), 0, poolSrc.get_size());
      e->padRows = p.borderTop;
      e->padCols = p.borderLeft;
      e->paddedH = p.h;
      e->paddedW = p.w;
    }
  }
  // Padding as wide as the kernel (windows wholly in it): oneDNN 2.6's kernels were seen to read misplaced
  // rows there (1×1 windows, stride 3, CEIL). Not taken.
  for (int i = 0; i < 2; i++)
    if (padL[i] >= kernel[i] || padR[i] >= kernel[i]) return e;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const bool training = g.kind == kMaxBackward || g.kind == kAvgBackward;
  const auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  dnnl::pooling_forward::primitive_desc fwd(dnnl::pooling_forward::desc(prop, alg, poolSrc, e->dst, strides, kernel, padL, padR), attr, cpu());
  memory::desc scratch = fwd.scratchpad_desc();
  e->impl = fwd.impl_info_str();
  if (g.kind != kAvgBackward) e->forward = std::make_unique<dnnl::pooling_forward>(fwd);
  if (training) {
    dnnl::pooling_backward::primitive_desc bwd(dnnl::pooling_backward::desc(alg, poolSrc, e->dst, strides, kernel, padL, padR), attr, cpu(), fwd);
    e->backward = std::make_unique<dnnl::pooling_backward>(bwd);
    if (g.kind == kMaxBackward) {
      e->trainDst = std::make_unique<memory>(e->dst, cpu());
      e->workspace = std::make_unique<memory>(fwd.workspace_desc(), cpu());
    } else {
      scratch = memory::desc();
    }
    if (bwd.scratchpad_desc().get_size() > scratch.get_size()) scratch = bwd.scratchpad_desc();
    e->impl = g.kind == kMaxBackward ? e->impl + " / " + bwd.impl_info_str() : std::string(bwd.impl_info_str());
  }
  if (scratch.get_size() > 0) e->scratch = std::make_unique<memory>(scratch, cpu());
  e->supported = true;
  return e;
}

Geometry geometry(const Napi::CallbackInfo& info, std::string& key) {
  const int32_t* v = callParams(info, kParams, "pool", key);
  Geometry g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
  if (g.kind < kMaxForward || g.kind > kAvgBackward) throw Napi::TypeError::New(info.Env(), "kdnet native: unknown pooling kind");
  return g;
}

// A pooling call's geometry and cached entry, under its thread count (primitive-cache.h).
struct Call : PrimitiveCall<Entry, Geometry> {
  explicit Call(const Napi::CallbackInfo& info) : PrimitiveCall(info, geometry, work, build) {}
};


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

// Planes of `h` × `w` between the image and its zero-padded copy (rows of the image at (top, left) inside it).
void copyPlanes(const Entry& e, memory::dim planes, memory::dim h, memory::dim w, float* image, bool intoCopy) {
  float* copy = static_cast<float*>(e.padded->get_data_handle());
  for (memory::dim p = 0; p < planes; p++) {
    for (memory::dim r = 0; r < h; r++) {
      float* a = image + (p * h + r) * w;
      float* b = copy + (p * e.paddedH + r + e.padRows) * e.paddedW + e.padCols;
      if (intoCopy) std::memcpy(b, a, w * sizeof(float));
      else std::memcpy(a, b, w * sizeof(float));
    }
  }
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

// AVE forward: in = x, out = y. Backward: in = dy, out = dx.
void runAvg(const Geometry& g, Entry& e, memory& in, memory& out) {
  auto& s = stream();
  const memory::dim planes = g.n;
  if (g.kind == kAvgForward) {
    if (e.padded) copyPlanes(e, planes, g.ih, g.iw, static_cast<float*>(in.get_data_handle()), true);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e.padded ? *e.padded : in}, {DNNL_ARG_DST, out}};
    if (e.scratch) args.emplace(DNNL_ARG_SCRATCHPAD, *e.scratch);
    e.forward->execute(s, args);
    s.wait();
    return;
  }
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, in}, {DNNL_ARG_DIFF_SRC, e.padded ? *e.padded : out}};
  if (e.scratch) args.emplace(DNNL_ARG_SCRATCHPAD, *e.scratch);
  e.backward->execute(s, args);
  s.wait();
  if (e.padded) copyPlanes(e, planes, g.ih, g.iw, static_cast<float*>(out.get_data_handle()), false);
}

}  // namespace

// pool(params Int32Array, heap ArrayBuffer, in0Offset, in1Offset, outOffset) → true, or false (the caller
// falls back) when oneDNN does not take the geometry or (MaxForward, MaxBackward) a window is empty.
// MaxForward, MaxForwardFloor, AvgForward: in0 = x, out = y (in1 unused). MaxBackward: in0 = x, in1 = dy,
// out = dx. AvgBackward: in1 = dy, out = dx (in0 unused).
Napi::Value Pool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Call call(info);
  const Geometry& g = call.g;
  Entry& e = call.entry;
  if (!e.supported) return Napi::Boolean::New(env, false);
  Heap heap(info[1]);
  const bool backward = g.kind == kMaxBackward || g.kind == kAvgBackward;
  memory out(backward ? e.src : e.dst, cpu(), heap.floats(env, arg(info, 4), elements(backward ? e.src : e.dst)));
  bool taken = true;
  if (g.kind == kAvgBackward) {
    memory dy(e.dst, cpu(), heap.floats(env, arg(info, 3), elements(e.dst)));
    runAvg(g, e, dy, out);
  } else {
    memory x(e.src, cpu(), heap.floats(env, arg(info, 2), elements(e.src)));
    if (g.kind == kAvgForward) {
      runAvg(g, e, x, out);
    } else if (g.kind == kMaxBackward) {
      memory dy(e.dst, cpu(), heap.floats(env, arg(info, 3), elements(e.dst)));
      runMax(g, e, x, out, &dy, taken);
    } else {
      runMax(g, e, x, out, nullptr, taken);
    }
  }
  return Napi::Boolean::New(env, taken);
}

// poolImpl(params) → oneDNN's implementation name(s) for this geometry ("" when unsupported): for reports.
Napi::Value PoolImpl(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), Call(info).entry.impl);
}

}  // namespace kdnet
