// Convolutions on oneDNN, in two layouts:
// - tfjs' (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter): activations NHWC (or NCHW), filters HWIO, no
//   groups, no bias. Activations stay in tfjs' layout (given `any`, oneDNN 2.6 chose the same NHWC kernels
//   here: brgconv/jit avx512_core).
// - Caffe's (kdnet's Convolution layer, `caffe` = 1): activations NCHW, weights OIHW ([g·O/g, C/g, kh, kw] with
//   groups), an optional bias added in the forward and its gradient made with the filter gradient. oneDNN
//   picks the activation layout too, so a layer costs one native call instead of tfjs transposes around it.
// oneDNN picks its own filter layout (blocked for its JIT kernels); operands are reordered to/from the user's
// layout around the call. Primitives, reorders and scratch buffers are built once per geometry and cached:
// building a primitive JIT-compiles code (~ms), running it does not.
#include <dnnl.hpp>
#include <omp.h>
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

enum Kind { kForward = 0, kBackwardData = 1, kBackwardFilter = 2 };

// params: kind, nchw, n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight,
//         group, caffe, bias
constexpr size_t kParams = 22;

struct Geometry {
  int kind, nchw;
  memory::dim n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group;
  int caffe, bias;
};

// One operand: the user's plain layout on the wasm heap and, when oneDNN wants another, a reorder through a
// cached buffer in its layout.
struct Operand {
  memory::desc user, prim;
  std::unique_ptr<memory> buffer;  // in `prim` layout; null when user == prim
  std::unique_ptr<dnnl::reorder> reorder;
};

struct Entry {
  bool supported = false;
  std::string impl;
  std::unique_ptr<dnnl::primitive> prim;
  Operand in0, in1, out;
  int argIn0 = 0, argIn1 = 0, argOut = 0;
  memory::desc bias;  // Caffe layout with a bias: the forward's bias input or the filter gradient's bias gradient
  int argBias = 0;
  std::unique_ptr<memory> scratch;
};

void prepare(Operand& op, const memory::desc& user, const memory::desc& prim, bool isInput) {
  op.user = user;
  op.prim = prim;
  if (user == prim) return;
  op.buffer = std::make_unique<memory>(prim, cpu());
  memory u(user, cpu(), DNNL_MEMORY_NONE);
  op.reorder = isInput ? std::make_unique<dnnl::reorder>(u, *op.buffer) : std::make_unique<dnnl::reorder>(*op.buffer, u);
}

std::unique_ptr<Entry> build(const Geometry& g) {
  auto e = std::make_unique<Entry>();
  if (g.group < 1 || g.ic % g.group || g.oc % g.group || (!g.caffe && (g.group != 1 || g.bias))) return e;
  const tag act = g.nchw ? tag::nchw : tag::nhwc;
  memory::desc src({g.n, g.ic, g.ih, g.iw}, dt::f32, act);
  memory::desc dst({g.n, g.oc, g.oh, g.ow}, dt::f32, act);
  // Caffe: oneDNN chooses the activation layout as well (the NCHW blobs are reordered to it and back).
  memory::desc srcPrim = g.caffe ? memory::desc(src.dims(), dt::f32, tag::any) : src;
  memory::desc dstPrim = g.caffe ? memory::desc(dst.dims(), dt::f32, tag::any) : dst;
  const memory::dims weiDims = g.group > 1 ? memory::dims{g.group, g.oc / g.group, g.ic / g.group, g.kh, g.kw} : memory::dims{g.oc, g.ic, g.kh, g.kw};
  memory::desc wei(weiDims, dt::f32, g.caffe ? (g.group > 1 ? tag::goihw : tag::oihw) : tag::hwio);
  memory::desc weiAny(weiDims, dt::f32, tag::any);
  if (g.bias) e->bias = memory::desc({g.oc}, dt::f32, tag::x);
  const memory::dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, padL{g.pt, g.pl}, padR{g.pb, g.pr};
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto alg = dnnl::algorithm::convolution_direct;
  const auto prop = g.kind == kForward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  dnnl::convolution_forward::primitive_desc fwd(
      g.bias ? dnnl::convolution_forward::desc(prop, alg, srcPrim, weiAny, e->bias, dstPrim, strides, dil, padL, padR)
             : dnnl::convolution_forward::desc(prop, alg, srcPrim, weiAny, dstPrim, strides, dil, padL, padR),
      attr, cpu());
  memory::desc scratch;
  if (g.kind == kForward) {
    e->argBias = DNNL_ARG_BIAS;
    prepare(e->in0, src, fwd.src_desc(), true);
    prepare(e->in1, wei, fwd.weights_desc(), true);
    prepare(e->out, dst, fwd.dst_desc(), false);
    e->argIn0 = DNNL_ARG_SRC, e->argIn1 = DNNL_ARG_WEIGHTS, e->argOut = DNNL_ARG_DST;
    e->prim = std::make_unique<dnnl::convolution_forward>(fwd);
    e->impl = fwd.impl_info_str();
    scratch = fwd.scratchpad_desc();
  } else if (g.kind == kBackwardData) {
    dnnl::convolution_backward_data::primitive_desc pd(
        dnnl::convolution_backward_data::desc(alg, srcPrim, weiAny, dstPrim, strides, dil, padL, padR), attr, cpu(), fwd);
    prepare(e->in0, dst, pd.diff_dst_desc(), true);
    prepare(e->in1, wei, pd.weights_desc(), true);
    prepare(e->out, src, pd.diff_src_desc(), false);
    e->argIn0 = DNNL_ARG_DIFF_DST, e->argIn1 = DNNL_ARG_WEIGHTS, e->argOut = DNNL_ARG_DIFF_SRC;
    e->prim = std::make_unique<dnnl::convolution_backward_data>(pd);
    e->impl = pd.impl_info_str();
    scratch = pd.scratchpad_desc();
  } else {
    e->argBias = DNNL_ARG_DIFF_BIAS;
    dnnl::convolution_backward_weights::primitive_desc pd(
        g.bias ? dnnl::convolution_backward_weights::desc(alg, srcPrim, weiAny, e->bias, dstPrim, strides, dil, padL, padR)
               : dnnl::convolution_backward_weights::desc(alg, srcPrim, weiAny, dstPrim, strides, dil, padL, padR),
        attr, cpu(), fwd);
    prepare(e->in0, src, pd.src_desc(), true);
    prepare(e->in1, dst, pd.diff_dst_desc(), true);
    prepare(e->out, wei, pd.diff_weights_desc(), false);
    e->argIn0 = DNNL_ARG_SRC, e->argIn1 = DNNL_ARG_DIFF_DST, e->argOut = DNNL_ARG_DIFF_WEIGHTS;
    e->prim = std::make_unique<dnnl::convolution_backward_weights>(pd);
    e->impl = pd.impl_info_str();
    scratch = pd.scratchpad_desc();
  }
  if (scratch.get_size() > 0) e->scratch = std::make_unique<memory>(scratch, cpu());
  e->supported = true;
  return e;
}

Geometry geometry(const Napi::CallbackInfo& info, std::string& key) {
  const int32_t* v = callParams(info, kParams, "conv", key);
  return Geometry{v[0],  v[1],  v[2],  v[3],  v[4],  v[5],  v[6],  v[7],  v[8],  v[9],  v[10],
                  v[11], v[12], v[13], v[14], v[15], v[16], v[17], v[18], v[19], v[20], v[21]};
}


// Multiply-adds ×2 of the convolution (each of the three directions does as many).
double work(const Geometry& g) {
  return 2.0 * g.n * g.oh * g.ow * g.oc * (g.ic / (g.group > 0 ? g.group : 1)) * g.kh * g.kw;
}

// A conv call's geometry and cached entry, under its thread count (primitive-cache.h).
struct Call : PrimitiveCall<Entry, Geometry> {
  explicit Call(const Napi::CallbackInfo& info) : PrimitiveCall(info, geometry, work, build) {}
};

}  // namespace

// conv(params Int32Array, heap ArrayBuffer, in0Offset, in1Offset, outOffset[, biasOffset]) → true, or false
// when oneDNN does not take this geometry (nothing written). biasOffset (Caffe layout with bias): the bias
// read by the forward, or the bias gradient written by the filter gradient.
Napi::Value Conv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Call call(info);
  Entry& e = call.entry;
  if (!e.supported) return Napi::Boolean::New(env, false);
  Heap heap(info[1]);
  float* in0 = heap.floats(env, arg(info, 2), elements(e.in0.user));
  float* in1 = heap.floats(env, arg(info, 3), elements(e.in1.user));
  float* out = heap.floats(env, arg(info, 4), elements(e.out.user));
  auto& s = stream();
  memory m0(e.in0.user, cpu(), in0), m1(e.in1.user, cpu(), in1), mo(e.out.user, cpu(), out);
  if (e.in0.reorder) e.in0.reorder->execute(s, m0, *e.in0.buffer);
  if (e.in1.reorder) e.in1.reorder->execute(s, m1, *e.in1.buffer);
  std::unordered_map<int, memory> args{
      {e.argIn0, e.in0.buffer ? *e.in0.buffer : m0},
      {e.argIn1, e.in1.buffer ? *e.in1.buffer : m1},
      {e.argOut, e.out.buffer ? *e.out.buffer : mo},
  };
  if (e.scratch) args.emplace(DNNL_ARG_SCRATCHPAD, *e.scratch);
  if (e.argBias && !e.bias.is_zero()) {
    if (info.Length() < 6) throw Napi::TypeError::New(env, "kdnet native: conv with a bias needs its offset");
    args.emplace(e.argBias, memory(e.bias, cpu(), heap.floats(env, arg(info, 5), elements(e.bias))));
  }
  e.prim->execute(s, args);
  if (e.out.reorder) e.out.reorder->execute(s, *e.out.buffer, mo);
  s.wait();
  return Napi::Boolean::New(env, true);
}

// convImpl(params) → oneDNN's implementation name for this geometry ("" when unsupported): for reports.
Napi::Value ConvImpl(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), Call(info).entry.impl);
}

// convSupported(params) → whether oneDNN takes this geometry (builds and caches the primitive): lets a caller
// choose its path before allocating anything.
Napi::Value ConvSupported(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Call(info).entry.supported);
}

int DnnlThreads() { return omp_get_max_threads(); }

}  // namespace kdnet
