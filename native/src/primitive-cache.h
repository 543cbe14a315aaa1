// oneDNN primitives cached per call geometry (the kernel's int32 parameters as the key): building a primitive
// JIT-compiles code, so it happens once per shape, not once per call.
#pragma once
#include <dnnl.hpp>
#include <memory>
#include <string>
#include <unordered_map>

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

}  // namespace kdnet
