// The one oneDNN CPU engine and stream every kernel of the add-on runs on (created on first use).
#pragma once
#include <dnnl.hpp>

namespace kdnet {

inline dnnl::engine& cpu() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

/** Float count of a memory descriptor's buffer. */
inline dnnl::memory::dim elements(const dnnl::memory::desc& d) { return static_cast<dnnl::memory::dim>(d.get_size() / sizeof(float)); }

inline dnnl::stream& stream() {
  static dnnl::stream s(cpu());
  return s;
}

}  // namespace kdnet
