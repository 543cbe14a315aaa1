// Zero-copy access to tfjs' wasm heap: JavaScript passes the heap's ArrayBuffer and byte offsets of tensors
// (the wasm backend's memoryOffset); every range is checked against the buffer before it is touched.
#pragma once
#include <napi.h>
#include <cstdint>
#include <string>

namespace kdnet {

struct Heap {
  uint8_t* base = nullptr;
  size_t bytes = 0;

  explicit Heap(const Napi::Value& v) {
    if (!v.IsArrayBuffer()) throw Napi::TypeError::New(v.Env(), "kdnet native: heap must be an ArrayBuffer");
    auto buf = v.As<Napi::ArrayBuffer>();
    base = static_cast<uint8_t*>(buf.Data());
    bytes = buf.ByteLength();
  }

  /** float32 pointer for `count` elements at byte `offset`, or a JS RangeError. */
  float* floats(const Napi::Env& env, double offset, double count) const {
    if (offset < 0 || count < 0 || static_cast<uint64_t>(offset) % 4 != 0 ||
        static_cast<uint64_t>(offset) + static_cast<uint64_t>(count) * 4 > bytes) {
      throw Napi::RangeError::New(env, "kdnet native: tensor range outside the wasm heap");
    }
    return reinterpret_cast<float*>(base + static_cast<size_t>(offset));
  }
};

inline int64_t arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }

}  // namespace kdnet
