// kdnet's native kernels for tfjs' wasm backend: module set-up, library versions and thread control.
#include <cblas.h>
#include <dnnl.hpp>
#include <omp.h>
#include "kernels.h"
#include "threads.h"

namespace kdnet {
namespace {

// info() → { openblas, openblasCore, openblasThreads, onednn, onednnThreads }
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("openblas", openblas_get_config());
  o.Set("openblasCore", openblas_get_corename());
  o.Set("openblasThreads", openblas_get_num_threads());
  const dnnl_version_t* v = dnnl_version();
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("onednnThreads", DnnlThreads());
  return o;
}

// setThreads(n): OpenBLAS's pool and OpenMP's (oneDNN) for the calling thread.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "kdnet native: threads must be ≥ 1");
  openblas_set_num_threads(n);
  configuredThreads() = n;
  omp_set_num_threads(n);
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("setGemmLibrary", Napi::Function::New(env, SetGemmLibrary));
  exports.Set("conv", Napi::Function::New(env, Conv));
  exports.Set("convImpl", Napi::Function::New(env, ConvImpl));
  exports.Set("convSupported", Napi::Function::New(env, ConvSupported));
  exports.Set("pool", Napi::Function::New(env, Pool));
  exports.Set("poolImpl", Napi::Function::New(env, PoolImpl));
  return exports;
}

}  // namespace kdnet

static Napi::Object InitKdnetNative(Napi::Env env, Napi::Object exports) { return kdnet::Init(env, exports); }
NODE_API_MODULE(kdnet_native, InitKdnetNative)
