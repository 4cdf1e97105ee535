#!/usr/bin/python3
"""The peer side of bench/cnn2d: PyTorch CPU (Debian's python3-torch) running the same four 2D
networks as uniem's nn/ (nn/network.h describes them; the layer order, kernel sizes, paddings and
which convolutions carry a bias are identical), at their default sizes, float32.

  training: one Adam step (lr 2e-4, betas 0.5/0.999) on the least-squares loss of sigmoid(logits),
            a batch of BATCH crops of PATCH x PATCH;
  inference: one forward pass over a 512 x 512 tile with running batch-norm statistics.

Usage: /usr/bin/python3 peer_cnn2d.py THREADS BATCH PATCH
Prints one JSON object: {"<family>_train": seconds per step, "<family>_infer": seconds per tile}.
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
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 4
patch = int(sys.argv[3]) if len(sys.argv) > 3 else 256
torch.set_num_threads(threads)
torch.manual_seed(0)
F_BASE = 32



def conv_bn_relu(cin, cout, k, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, depth=4, f=F_BASE):
        super().__init__()
        self.down = nn.ModuleList()
        c = 1
        for level in range(depth):
            o = f << level
            self.down.append(nn.Sequential(conv_bn_relu(c, o, 3), conv_bn_relu(o, o, 3)))
            c = o
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for level in reversed(range(depth - 1)):
            o = f << level
            self.upsample.append(nn.ConvTranspose2d(c, o, 2, stride=2))
            self.up.append(nn.Sequential(conv_bn_relu(2 * o, o, 3), conv_bn_relu(o, o, 3)))
            c = o
        self.head = nn.Conv2d(c, 1, 1)

    def forward(self, x):
        skips = []
        for i, d in enumerate(self.down):
            x = d(x)
            if i + 1 < len(self.down):
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for u, d in zip(self.upsample, self.up):
            x = d(torch.cat([u(x), skips.pop()], 1))
        return self.head(x)


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.norm1 = nn.BatchNorm2d(c)
        self.norm2 = nn.BatchNorm2d(c)

    def transform(self, x):
        return self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))

    def forward(self, x):
        return x + self.transform(x)


class Highway(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block = Residual(c)
        self.gate = nn.Conv2d(c, c, 3, padding=1)
        nn.init.constant_(self.gate.bias, -1.0)

    def forward(self, x):
        t = torch.sigmoid(self.gate(x))
        return x + t * (self.block.transform(x) - x)


class Dense(nn.Module):
    def __init__(self, c, layers=4, growth=16):
        super().__init__()
        self.norms = nn.ModuleList()
        self.convs = nn.ModuleList()
        w = c
        for _ in range(layers):
            self.norms.append(nn.BatchNorm2d(w))
            self.convs.append(nn.Conv2d(w, growth, 3, padding=1, bias=False))
            w += growth
        self.tnorm = nn.BatchNorm2d(w)
        self.tconv = nn.Conv2d(w, c, 1, bias=False)

    def forward(self, x):
        feats = [x]
        for n, c in zip(self.norms, self.convs):
            inp = feats[0] if len(feats) == 1 else torch.cat(feats, 1)
            feats.append(c(F.relu(n(inp))))
        return self.tconv(F.relu(self.tnorm(torch.cat(feats, 1))))


class EncoderDecoder(nn.Module):
    def __init__(self, body, blocks, f=F_BASE):
        super().__init__()
        self.stem = conv_bn_relu(1, f, 7)
        self.down1 = conv_bn_relu(f, 2 * f, 3, 2)
        self.down2 = conv_bn_relu(2 * f, 4 * f, 3, 2)
        self.body = nn.Sequential(*[body(4 * f) for _ in range(blocks)])
        self.up = nn.Sequential(
            nn.ConvTranspose2d(4 * f, 2 * f, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(2 * f), nn.ReLU(),
            nn.ConvTranspose2d(2 * f, f, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(f), nn.ReLU())
        self.head = nn.Conv2d(f, 1, 7, padding=3)

    def forward(self, x):
        return self.head(self.up(self.body(self.down2(self.down1(self.stem(x))))))


models = {
    "unet": lambda: UNet(),
    "resnet": lambda: EncoderDecoder(Residual, 9),
    "highway": lambda: EncoderDecoder(Highway, 9),
    "densenet": lambda: EncoderDecoder(Dense, 4),
}

out = {"torch_version": torch.__version__}
x = torch.randn(batch, 1, patch, patch)
y = (torch.rand(batch, 1, patch, patch) > 0.5).float()
tile = torch.randn(1, 1, 512, 512)
for name, make in models.items():
    m = make()
    out[name + "_parameters"] = sum(p.numel() for p in m.parameters())
    opt = torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
    m.train()

    def step():
        opt.zero_grad(set_to_none=True)
        F.mse_loss(torch.sigmoid(m(x)), y).backward()
        opt.step()

    out[name + "_train"] = median(step, 3)
    m.eval()

    def infer():
        with torch.inference_mode():
            torch.sigmoid(m(tile))

    out[name + "_infer"] = median(infer, 3)
print(json.dumps(out))
