// BatchMatMul: C[b] = op(A[b]) · op(B[b]) in row-major, one sgemm per batch entry; a batch stride of 0
// broadcasts that operand. Two libraries, chosen by measurement (bench/README.md): oneDNN's dnnl_sgemm
// (JIT AVX-512; the default) and OpenBLAS's cblas_sgemm (Debian's 0.3.21 runs Haswell kernels on CPUs it
// does not know, about half oneDNN's speed on the development machine's AVX-512 CPU).
#include <cblas.h>
#include <dnnl.h>
#include <algorithm>
#include "heap.h"
#include "kernels.h"
#include "threads.h"

namespace kdnet {
namespace {
bool useOpenblas = false;
}

// setGemmLibrary("onednn" | "openblas")
Napi::Value SetGemmLibrary(const Napi::CallbackInfo& info) {
  const std::string lib = info[0].As<Napi::String>();
  if (lib != "onednn" && lib != "openblas") throw Napi::RangeError::New(info.Env(), "kdnet native: gemm library is onednn or openblas");
  useOpenblas = lib == "openblas";
  return info.Env().Undefined();
}

// gemm(heap, batch, m, n, k, transA, transB, aOffset, aBatchStride, bOffset, bBatchStride, cOffset[, biasOffset])
// With a bias (n values), C = op(A)·op(B) + bias on every row: the rows start as the bias and sgemm adds
// to them (beta 1), which is InnerProduct's forward in one call.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Heap heap(info[0]);
  const int64_t batch = arg(info, 1), m = arg(info, 2), n = arg(info, 3), k = arg(info, 4);
  const bool ta = info[5].ToBoolean(), tb = info[6].ToBoolean();
  const int64_t aStride = arg(info, 8), bStride = arg(info, 10);
  if (batch < 1 || m < 1 || n < 1 || k < 1) throw Napi::RangeError::New(env, "kdnet native: gemm needs non-empty operands");
  const float* a = heap.floats(env, arg(info, 7), (batch - 1) * aStride + m * k);
  const float* b = heap.floats(env, arg(info, 9), (batch - 1) * bStride + k * n);
  float* c = heap.floats(env, arg(info, 11), batch * m * n);
  ThreadScope threads(2.0 * batch * m * n * k);
  if (useOpenblas) openblas_set_num_threads(2.0 * batch * m * n * k < kSmallWork ? 1 : configuredThreads());
  const float* bias = info.Length() > 12 ? heap.floats(env, arg(info, 12), n) : nullptr;
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  const float beta = bias ? 1.0f : 0.0f;
  for (int64_t i = 0; i < batch; i++) {
    const float* ai = a + i * aStride;
    const float* bi = b + i * bStride;
    float* ci = c + i * m * n;
    if (bias) {
      for (int64_t r = 0; r < m; r++) std::copy(bias, bias + n, ci + r * n);
    }
    if (useOpenblas) {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, ai, lda, bi, ldb, beta, ci, n);
    } else if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, ai, lda, bi, ldb, beta, ci, n) != dnnl_success) {
      throw Napi::Error::New(env, "kdnet native: dnnl_sgemm failed");
    }
  }
  return env.Undefined();
}

}  // namespace kdnet
