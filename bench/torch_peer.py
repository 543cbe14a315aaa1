#!/usr/bin/python3
"""PyTorch peer for kdnet's training-step bench (bench/train-step.ts): the same three nets as
../shared/fixtures/timing (LeNet b64, MLP 784-1200-1200-10 b100, CIFAR-10 quick b100), one training step
= zero_grad + forward + softmax cross-entropy + backward + SGD(momentum 0.9) update; and the distillation
pair (bench/distill-pair.ts): LeNet teacher forward under no_grad (eval mode), MLP 784-256-10 student
forward, KL(student log-softmax at T || teacher softmax at T) * T^2 * w_soft + cross-entropy * w_hard,
backward, SGD step of the student. Median of the timed steps after the same warm-up rule as kdnet's
(bench/peer-bench.ts WARMUP: at least S seconds and at least N steps). Prints one JSON object on stdout.
A peer measurement, not kdnet code.

usage: torch_peer.py THREADS[,THREADS] ITERATIONS WARMUP_SECONDS WARMUP_ITERATIONS

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


def student_mlp():
    # models/fashion_mnist_kd/student.prototxt: 784-256-10 on the 1x28x28 images.
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


# The distillation pair's settings, as bench/distill-pair.ts PAIR (models/fashion_mnist_kd's weights).
TEMPERATURE = 4.0
W_HARD = 0.1
W_SOFT = 0.9


def plain_step(make, shape):
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
    return step


def distill_step(shape):
    teacher = lenet().eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = student_mlp()
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9)
    ce = nn.CrossEntropyLoss()
    kl = nn.KLDivLoss(reduction="batchmean")
    x = torch.randn(shape)
    y = torch.randint(0, 10, (shape[0],))
    t = TEMPERATURE

    def step():
        opt.zero_grad()
        with torch.no_grad():
            soft_targets = torch.softmax(teacher(x) / t, dim=1)
        logits = student(x)
        soft = kl(torch.log_softmax(logits / t, dim=1), soft_targets) * (t * t)
        loss = W_SOFT * soft + W_HARD * ce(logits, y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


NETS = {
    "lenet_b64": lambda: plain_step(lenet, (64, 1, 28, 28)),
    "mlp_784_1200_1200_10_b100": lambda: plain_step(mlp, (100, 784)),
    "cifar10_quick_b100": lambda: plain_step(cifar_quick, (100, 3, 32, 32)),
    "distill_lenet_mlp256_b64": lambda: distill_step((64, 1, 28, 28)),
}


def warm_up(run, seconds, runs):
    """kdnet's rule (bench/peer-bench.ts): at least `seconds` and at least `runs` runs."""
    start = time.perf_counter()
    n = 0
    while n < runs or time.perf_counter() - start < seconds:
        run()
        n += 1
    return n


def time_net(make_step, warmup_seconds, warmup_runs, iterations):
    torch.manual_seed(0)
    step = make_step()
    warmed = warm_up(step, warmup_seconds, warmup_runs)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), warmed


def main():
    threads = [int(t) for t in (sys.argv[1] if len(sys.argv) > 1 else "1,2").split(",")]
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    warmup_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    warmup_runs = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    result = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "libblas": blas,
        "openblas": "openblas" in blas,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "warmup": {"seconds": warmup_seconds, "runs": warmup_runs},
        "iterations": iterations,
        "results": [],
    }
    for n in threads:
        torch.set_num_threads(n)
        for name, make_step in NETS.items():
            ms, warmed = time_net(make_step, warmup_seconds, warmup_runs, iterations)
            result["results"].append({"net": name, "threads": n, "train_step_ms": ms, "warmup": warmed})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
