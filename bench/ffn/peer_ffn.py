#!/usr/bin/python3
"""The peer side of bench/ffn: PyTorch CPU (Debian's python3-torch) running the same flood-filling
network as uniem's nn/ffn/model.h (upstream's convstack_3d: 2 + 2 (depth - 1) 3x3x3 convolutions
with 32 filters and biases, residual modules, a 1x1x1 head added to the seed logits), float32.

  training: one step of plain SGD (lr 0.001, gradient elements clipped to 0.7) on the sigmoid
            cross-entropy, a batch of 4 fields of view (upstream's ffn train defaults);
  inference: one forward pass of a single field of view under no_grad (one FFN "move").
Both presets: isotropic (depth 12, FOV 33x33x33) and sparse-z (depth 9, FOV 17x33x33), z,y,x.

Usage: /usr/bin/python3 peer_ffn.py THREADS BATCH
Prints one JSON object: {"<preset>_train": seconds per step, "<preset>_infer": seconds per move}.
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
torch.set_num_threads(threads)
torch.manual_seed(0)



class ConvStack3d(nn.Module):
    def __init__(self, depth, f=32):
        super().__init__()
        self.conv0_a = nn.Conv3d(2, f, 3, padding=1)
        self.conv0_b = nn.Conv3d(f, f, 3, padding=1)
        self.modules_ = nn.ModuleList([nn.ModuleList([nn.Conv3d(f, f, 3, padding=1), nn.Conv3d(f, f, 3, padding=1)])
                                       for _ in range(depth - 1)])
        self.head = nn.Conv3d(f, 1, 1)

    def forward(self, image, seed):
        x = self.conv0_b(F.relu(self.conv0_a(torch.cat([image, seed], 1))))
        for a, b in self.modules_:
            x = x + b(F.relu(a(F.relu(x))))
        return seed + self.head(F.relu(x))


result = {}
for name, depth, fov in (("isotropic", 12, (33, 33, 33)), ("sparse_z", 9, (17, 33, 33))):
    model = ConvStack3d(depth)
    opt = torch.optim.SGD(model.parameters(), lr=0.001)
    image = torch.randn(batch, 1, *fov)
    seed = torch.randn(batch, 1, *fov)
    target = (torch.rand(batch, 1, *fov) > 0.5).float() * 0.9 + 0.05

    def step():
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(model(image, seed), target).backward()
        for p in model.parameters():
            p.grad.clamp_(-0.7, 0.7)
        opt.step()

    one_image, one_seed = image[:1].contiguous(), seed[:1].contiguous()

    def infer():
        with torch.no_grad():
            model(one_image, one_seed)

    result[name + "_train"] = median(step, 3)
    result[name + "_infer"] = median(infer, 5)
print(json.dumps(result))
