#!/usr/bin/python3
"""PyTorch peer for kdnet's training-step bench (bench/train-step.ts): the same three nets as
../shared/fixtures/timing (LeNet b64, MLP 784-1200-1200-10 b100, CIFAR-10 quick b100), one training step
= zero_grad + forward + softmax cross-entropy + backward + SGD(momentum 0.9) update, median of the timed
steps after warm-up. Prints one JSON object on stdout. A peer measurement, not kdnet code.

Run it as bench/train-step.ts does: OMP_WAIT_POLICY=PASSIVE and the large-malloc settings of
/work/shared/DEPENDENCIES.md (glibc's default malloc makes CIFAR-quick 2.5-3x slower).
"""
import json
import os
import platform
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError as e:  # the bench prints this and skips the peer
    print(json.dumps({"error": f"python3-torch is not installed ({e}); apt-get install python3-torch libopenblas0-pthread"}))
    sys.exit(0)


def lenet():
    # Caffe's LeNet: no ReLU after the convolutions, 2x2/2 max pooling.
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))


def mlp():
    return nn.Sequential(nn.Linear(784, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(), nn.Linear(1200, 10))


def cifar_quick():
    # Caffe's cifar10_quick: pooling 3x3/2 with Caffe's CEIL rounding (32 -> 16 -> 8 -> 4).
    return nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(3, 2, ceil_mode=True), nn.ReLU(),
        nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(), nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(1024, 64), nn.Linear(64, 10))


NETS = {
    "lenet_b64": (lenet, (64, 1, 28, 28)),
    "mlp_784_1200_1200_10_b100": (mlp, (100, 784)),
    "cifar10_quick_b100": (cifar_quick, (100, 3, 32, 32)),
}


def time_net(make, shape, warmup, iterations):
    torch.manual_seed(0)
    model = make()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(shape)
    y = torch.randint(0, 10, (shape[0],))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    threads = [int(t) for t in (sys.argv[1] if len(sys.argv) > 1 else "1,2").split(",")]
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    warmup = 5
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    result = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "libblas": blas,
        "openblas": "openblas" in blas,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "warmup": warmup,
        "iterations": iterations,
        "results": [],
    }
    for n in threads:
        torch.set_num_threads(n)
        for name, (make, shape) in NETS.items():
            result["results"].append({"net": name, "threads": n, "train_step_ms": time_net(make, shape, warmup, iterations)})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
