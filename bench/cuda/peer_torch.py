#!/usr/bin/env python3
"""The PyTorch side of bench/cuda: the same networks, shapes and precision as uniem's, timed the
same way (warm-up, then the mean of timed repetitions, synchronised at the end of each).

Networks mirror nn/unet.cpp, nn/encoder_decoder.cpp (ResNet) and nn/ffn/model.cpp layer for layer.
Prints one JSON object per line: {"name", "ms", "flops"} (flops of one repetition, counted by
torch.utils.flop_counter), then {"name": "gemm_*", "tflops"} for the card's TF32, FP32 and BF16 GEMM rates.

Usage: python3 peer_torch.py [--precision tf32|fp32|bf16] [--quick] [--deterministic] [--profile]
(--profile: after each workload, its top CUDA kernels by GPU time per step (torch.profiler), on stderr)
(--deterministic: cuDNN's deterministic algorithms only, as uniem uses them; for comparison;
bf16: the forward passes under torch.autocast(bfloat16), as uniem's bf16 autocasts convolutions)
"""
import argparse
import contextlib
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


def conv_bn_relu(cin, cout, k, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, cin=1, cout=1, filters=32, depth=4):
        super().__init__()
        self.down, self.up, self.upsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        ch = cin
        for level in range(depth):
            out = filters << level
            self.down.append(nn.Sequential(conv_bn_relu(ch, out, 3), conv_bn_relu(out, out, 3)))
            ch = out
        for level in range(depth - 2, -1, -1):
            out = filters << level
            self.upsample.append(nn.ConvTranspose2d(ch, out, 2, 2))
            self.up.append(nn.Sequential(conv_bn_relu(2 * out, out, 3), conv_bn_relu(out, out, 3)))
            ch = out
        self.head = nn.Conv2d(ch, cout, 1)

    def forward(self, x):
        skips = []
        for i, d in enumerate(self.down):
            x = d(x)
            if i + 1 < len(self.down):
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for u, up in zip(self.upsample, self.up):
            x = up(torch.cat([u(x), skips.pop()], 1))
        return self.head(x)


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                                  nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class ResNet(nn.Module):
    def __init__(self, cin=1, cout=1, filters=32, blocks=16):
        super().__init__()
        f = filters
        layers = [conv_bn_relu(cin, f, 7), conv_bn_relu(f, 2 * f, 3, 2), conv_bn_relu(2 * f, 4 * f, 3, 2)]
        layers += [Residual(4 * f) for _ in range(blocks)]
        for a, b in ((4 * f, 2 * f), (2 * f, f)):
            layers += [nn.ConvTranspose2d(a, b, 3, 2, 1, output_padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
        layers.append(nn.Conv2d(f, cout, 7, 1, 3))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class Ffn(nn.Module):
    def __init__(self, depth, filters=32):
        super().__init__()
        self.a = nn.Conv3d(2, filters, 3, 1, 1)
        self.b = nn.Conv3d(filters, filters, 3, 1, 1)
        self.modules_ = nn.ModuleList(
            nn.ModuleList([nn.Conv3d(filters, filters, 3, 1, 1), nn.Conv3d(filters, filters, 3, 1, 1)])
            for _ in range(depth - 1))
        self.head = nn.Conv3d(filters, 1, 1)

    def forward(self, image, seed):
        x = self.b(F.relu(self.a(torch.cat([image, seed], 1))))
        for a, b in self.modules_:
            x = x + b(F.relu(a(F.relu(x))))
        return seed + self.head(F.relu(x))


PROFILE = False


def profiled(name, step, reps):
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(reps):
            step()
        torch.cuda.synchronize()
    print(name + " (PyTorch, all %d steps)" % reps, file=sys.stderr)
    try:  # PyTorch 2.4 renamed the column
        table = prof.key_averages().table(sort_by="device_time_total", row_limit=12)
    except (AttributeError, KeyError, ValueError):
        table = prof.key_averages().table(sort_by="cuda_time_total", row_limit=12)
    print(table, file=sys.stderr, flush=True)


def timed(name, step, reps, warmup=3):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    with FlopCounterMode(display=False) as counter:
        step()
    torch.cuda.synchronize()
    begin = time.perf_counter()
    for _ in range(reps):
        step()
    torch.cuda.synchronize()
    ms = (time.perf_counter() - begin) * 1000 / reps
    print(json.dumps({"name": name, "ms": ms, "flops": counter.get_total_flops()}), flush=True)
    if PROFILE:
        profiled(name, step, reps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--precision", default="tf32", choices=["tf32", "fp32", "bf16"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--deterministic", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    tf32 = args.precision != "fp32"  # bf16: what autocast leaves in fp32 may use TF32, as in uniem

    def amp():
        if args.precision == "bf16":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = args.deterministic
    dev = torch.device("cuda")
    torch.manual_seed(1)
    reps = 3 if args.quick else 20

    def train_step_2d(model, batch, size, name):
        model = model.to(dev).train()
        opt = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
        x = torch.rand(batch, 1, size, size, device=dev)
        t = (torch.rand(batch, 1, size, size, device=dev) > 0.5).float()

        def step():
            opt.zero_grad(set_to_none=True)
            with amp():
                loss = F.binary_cross_entropy_with_logits(model(x), t)
            loss.backward()
            opt.step()
            loss.item()
        timed(name, step, reps)

    train_step_2d(UNet(), 4, 256, "unet_train_step")
    train_step_2d(ResNet(blocks=16), 4, 256, "resnet16_train_step")

    unet = UNet().to(dev).eval()
    big = torch.rand(1, 1, 4096, 4096, device=dev)

    def infer():
        with torch.no_grad(), amp():
            torch.sigmoid(unet(big))
    timed("unet_infer_4096", infer, max(1, reps // 4), warmup=1)
    del unet, big
    torch.cuda.empty_cache()

    for preset, depth, fov in (("isotropic", 12, (33, 33, 33)), ("sparse_z", 9, (17, 33, 33))):
        model = Ffn(depth).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        image = torch.rand(4, 1, *fov, device=dev)
        seed = torch.rand(4, 1, *fov, device=dev)
        target = (torch.rand(4, 1, *fov, device=dev) > 0.5).float()

        def step():
            opt.zero_grad(set_to_none=True)
            with amp():
                loss = F.binary_cross_entropy_with_logits(model(image, seed), target)
            loss.backward()
            for p in model.parameters():
                p.grad.clamp_(-0.7, 0.7)
            opt.step()
            loss.item()
        timed("ffn_train_step_" + preset, step, reps)

    model = Ffn(12).to(dev).eval()
    host_image = torch.rand(1, 1, 33, 33, 33).pin_memory()
    host_seed = torch.rand(1, 1, 33, 33, 33).pin_memory()

    def predict():  # one field of view, as the segmenter does it: up, forward, back
        with torch.no_grad(), amp():
            model(host_image.to(dev), host_seed.to(dev)).float().cpu()
    timed("ffn_predict_isotropic", predict, reps * 10)

    for name, allow, dtype in (("gemm_tf32", True, torch.float32), ("gemm_fp32", False, torch.float32),
                               ("gemm_bf16", False, torch.bfloat16)):
        torch.backends.cuda.matmul.allow_tf32 = allow
        a = torch.rand(8192, 8192, device=dev, dtype=dtype)
        b = torch.rand(8192, 8192, device=dev, dtype=dtype)
        for _ in range(3):
            a @ b
        torch.cuda.synchronize()
        begin = time.perf_counter()
        for _ in range(10):
            a @ b
        torch.cuda.synchronize()
        seconds = (time.perf_counter() - begin) / 10
        print(json.dumps({"name": name, "tflops": 2 * 8192 ** 3 / seconds / 1e12}), flush=True)
    torch.backends.cuda.matmul.allow_tf32 = tf32


if __name__ == "__main__":
    main()
