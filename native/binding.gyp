# kdnet's optional native kernels: OpenBLAS sgemm, oneDNN convolutions and max pooling over the wasm backend's heap.
# Built by scripts/build-native.mjs at install; kdnet runs pure wasm when this is absent.
{
  "targets": [
    {
      "target_name": "kdnet_native",
      "sources": ["src/addon.cc", "src/gemm.cc", "src/conv.cc", "src/pool.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/x86_64-linux-gnu/openblas-pthread",
        "/usr/include/x86_64-linux-gnu/openblas-openmp"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "libraries": ["-lopenblas", "-ldnnl", "-fopenmp"]
    }
  ]
}
