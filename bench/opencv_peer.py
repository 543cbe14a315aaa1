#!/usr/bin/python3
"""OpenCV dnn peer for kdnet's forward bench (bench/forward.ts): reads a deploy prototxt and .caffemodel
written by kdnet, feeds a random input of the given shape, and times net.forward(): median of the timed runs
after the same warm-up rule as kdnet's (bench/peer-bench.ts WARMUP: at least S seconds and at least N runs).
Prints one JSON object on stdout (and the first output, for kdnet to compare). With OUTPUTS (comma-separated
blob names) every one of them is computed, as for the distillation pair's two branches; without, the net's
last layer. A peer measurement, not kdnet code.

usage: opencv_peer.py DEPLOY.prototxt WEIGHTS.caffemodel N,C,H,W ITERATIONS THREADS INPUT.npy
                      WARMUP_SECONDS WARMUP_ITERATIONS [OUTPUTS]
"""
import json
import statistics
import sys
import time

try:
    import cv2
    import numpy as np
except ImportError as e:  # the bench prints this and skips the peer
    print(json.dumps({"error": f"python3-opencv is not installed ({e}); apt-get install python3-opencv"}))
    sys.exit(0)

deploy, weights, shape, iterations, threads, input_npy, warmup_seconds, warmup_runs = sys.argv[1:9]
outputs = sys.argv[9].split(",") if len(sys.argv) > 9 else None
cv2.setNumThreads(int(threads))
net = cv2.dnn.readNetFromCaffe(deploy, weights)
net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
x = np.load(input_npy).astype(np.float32)
assert list(x.shape) == [int(d) for d in shape.split(",")], (x.shape, shape)
net.setInput(x)


def forward():
    return net.forward(outputs)[0] if outputs else net.forward()


start = time.perf_counter()
warmed = 0
while warmed < int(warmup_runs) or time.perf_counter() - start < float(warmup_seconds):
    out = forward()
    warmed += 1
times = []
for _ in range(int(iterations)):
    t0 = time.perf_counter()
    out = forward()
    times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"opencv": cv2.__version__, "threads": int(threads), "forward_ms": statistics.median(times), "warmup": warmed, "output": out.reshape(-1)[:64].tolist()}))
