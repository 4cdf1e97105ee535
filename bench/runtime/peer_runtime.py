#!/usr/bin/python3
"""The peer side of bench/runtime: PyTorch CPU (Debian's python3-torch) on the shapes of
bench_runtime.cpp, float32, batch 1, with the thread count given. Models and timing follow
../shared/bench-peers/bench_torch.py: a 4-level U-Net with 32 base filters (two 3x3 conv+BN+ReLU
per level, 2x2 max pooling, 2x2 stride-2 transposed convolutions, skip concatenation, 1x1 head).

Usage: /usr/bin/python3 peer_runtime.py THREADS
Prints one JSON object of median seconds.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peer_timing import median  # noqa: E402

import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)



def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, levels=4, base=32):
        super().__init__()
        ch = [base * 2 ** i for i in range(levels)]
        self.enc = nn.ModuleList()
        c = 1
        for co in ch:
            self.enc.append(block(c, co))
            c = co
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for co in reversed(ch[:-1]):
            self.up.append(nn.ConvTranspose2d(c, co, 2, stride=2))
            self.dec.append(block(2 * co, co))
            c = co
        self.head = nn.Conv2d(c, 1, 1)

    def forward(self, x):
        skips = []
        for i, b in enumerate(self.enc):
            x = b(x)
            if i < len(self.enc) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec in zip(self.up, self.dec):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)


r = {}
for key, layer, shape, reps in (("conv2d", nn.Conv2d(64, 64, 3, padding=1), (1, 64, 256, 256), 7),
                                ("conv3d", nn.Conv3d(32, 32, 3, padding=1), (1, 32, 17, 33, 33), 9)):
    x = torch.randn(shape)
    with torch.inference_mode():
        r[key + "_fwd"] = median(lambda: layer(x), reps, warmup=2)
    xg = x.clone().requires_grad_(True)

    def fwd_bwd():
        layer.zero_grad(set_to_none=True)
        xg.grad = None
        layer(xg).sum().backward()
    r[key + "_fwd_bwd"] = median(fwd_bwd, reps, warmup=2)

model = UNet()
x = torch.randn(1, 1, 256, 256)
y = (torch.rand(1, 1, 256, 256) > 0.5).float()
opt = torch.optim.Adam(model.parameters(), 1e-3)
loss_fn = nn.BCEWithLogitsLoss()


def train_step():
    opt.zero_grad(set_to_none=True)
    loss_fn(model(x), y).backward()
    opt.step()


model.train()
r["unet_train_256"] = median(train_step, 7, warmup=2)
model.eval()
big = torch.randn(1, 1, 1024, 1024)


def infer():
    with torch.inference_mode():
        torch.sigmoid(model(big))


r["unet_infer_1024"] = median(infer, 5, warmup=1)
r["torch"] = torch.__version__
print(json.dumps(r))
