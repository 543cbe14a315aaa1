// How many OpenMP threads one native call uses: the configured count (--threads, default one per core), or 1
// for small work, where OpenMP's fork and join cost more than a second thread saves (LeNet's forward at
// batch 1 took ×2.1 of OpenCV's time on 2 threads against ×1.2–1.9 on 1). oneDNN sizes a primitive's work split
// when it is built, so a call builds and runs its primitive under the same scope (small work stays small:
// the scope is a function of the cached geometry).
#pragma once
#include <omp.h>

namespace kdnet {

// FLOPs (or, for pooling, window reads) below which one thread runs the call: ≈ 40 µs of single-thread work.
constexpr double kSmallWork = 4e6;

inline int& configuredThreads() {
  static int n = 1;
  return n;
}

class ThreadScope {
 public:
  explicit ThreadScope(double work) { omp_set_num_threads(work < kSmallWork ? 1 : configuredThreads()); }
  ~ThreadScope() { omp_set_num_threads(configuredThreads()); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;
};

}  // namespace kdnet
