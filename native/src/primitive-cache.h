// oneDNN primitives cached per call geometry (the kernel's int32 parameters as the key): building a primitive
// JIT-compiles code, so it happens once per shape, not once per call.
#pragma once
#include <napi.h>
#include <dnnl.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include "threads.h"

namespace kdnet {

// The entry for `key`, built by `build(geometry)` on first use. An entry oneDNN refuses to build is
// default-constructed (its `supported` stays false) and remembered, so the caller falls back at once next time.
template <typename Entry, typename Geometry, typename Build>
Entry& cachedPrimitive(const std::string& key, const Geometry& g, Build build) {
  static std::unordered_map<std::string, std::unique_ptr<Entry>> cache;
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  if (cache.size() >= 512) cache.clear();  // many distinct geometries (reshaping nets): start over, never grow unbounded
  std::unique_ptr<Entry> e;
  try {
    e = build(g);
  } catch (const dnnl::error&) {
    e = std::make_unique<Entry>();
  }
  return *cache.emplace(key, std::move(e)).first->second;
}

// A kernel call's int32 parameters (its first argument), checked to be `count` of them; their bytes become `key`.
inline const int32_t* callParams(const Napi::CallbackInfo& info, size_t count, const char* kernel, std::string& key) {
  auto p = info[0].As<Napi::Int32Array>();
  if (p.ElementLength() != count) {
    throw Napi::TypeError::New(info.Env(), std::string("kdnet native: ") + kernel + " expects " + std::to_string(count) + " parameters");
  }
  key.assign(reinterpret_cast<const char*>(p.Data()), count * sizeof(int32_t));
  return p.Data();
}

// One call: its geometry, parsed from the parameters, and its cached entry, with the call's thread count
// (threads.h) in force while it lives, so the primitive is built (on first use) and run under the same count.
template <typename Entry, typename Geometry>
struct PrimitiveCall {
  std::string key;
  const Geometry g;
  const ThreadScope threads;
  Entry& entry;

  template <typename Parse, typename Work, typename Build>
  PrimitiveCall(const Napi::CallbackInfo& info, Parse parse, Work work, Build build)
      : g(parse(info, key)), threads(work(g)), entry(cachedPrimitive<Entry>(key, g, build)) {}
};

}  // namespace kdnet
