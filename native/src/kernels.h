// The add-on's exported kernels (one source file each).
#pragma once
#include <napi.h>

namespace kdnet {
Napi::Value Gemm(const Napi::CallbackInfo& info);
Napi::Value SetGemmLibrary(const Napi::CallbackInfo& info);
Napi::Value Conv(const Napi::CallbackInfo& info);
Napi::Value ConvImpl(const Napi::CallbackInfo& info);
Napi::Value ConvSupported(const Napi::CallbackInfo& info);
Napi::Value Pool(const Napi::CallbackInfo& info);
Napi::Value PoolImpl(const Napi::CallbackInfo& info);
int DnnlThreads();
}  // namespace kdnet
