#!/usr/bin/python3
"""OpenCV dnn peer for kdnet's forward bench (bench/forward.ts): reads a deploy prototxt and .caffemodel
written by kdnet, feeds a random input of the given shape, and times net.forward(): median of the timed runs
after warm-up. Prints one JSON object on stdout (and the output, for kdnet to compare). A peer measurement,
not kdnet code.

usage: opencv_peer.py DEPLOY.prototxt WEIGHTS.caffemodel N,C,H,W ITERATIONS THREADS INPUT.npy
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

deploy, weights, shape, iterations, threads, input_npy = sys.argv[1:7]
cv2.setNumThreads(int(threads))
net = cv2.dnn.readNetFromCaffe(deploy, weights)
net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
x = np.load(input_npy).astype(np.float32)
assert list(x.shape) == [int(d) for d in shape.split(",")], (x.shape, shape)
net.setInput(x)
for _ in range(5):
    out = net.forward()
times = []
for _ in range(int(iterations)):
    t0 = time.perf_counter()
    out = net.forward()
    times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"opencv": cv2.__version__, "threads": int(threads), "forward_ms": statistics.median(times), "output": out.reshape(-1)[:64].tolist()}))
