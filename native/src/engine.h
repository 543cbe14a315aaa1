// The one oneDNN CPU engine and stream every kernel of the add-on runs on (created on first use).
#pragma once
#include <dnnl.hpp>

namespace kdnet {

inline dnnl::engine& cpu() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

inline dnnl::stream& stream() {
  static dnnl::stream s(cpu());
  return s;
}

}  // namespace kdnet
