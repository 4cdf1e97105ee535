"""Timing shared by the PyTorch peer scripts of bench/ (peer_runtime.py, peer_cnn2d.py, peer_ffn.py)."""
import time


def median(fn, reps, warmup=1):
    """The median wall time of `reps` calls of fn, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        s = time.perf_counter()
        fn()
        t.append(time.perf_counter() - s)
    t.sort()
    return t[len(t) // 2]
