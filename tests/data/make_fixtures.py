#!/usr/bin/python3
"""Expected values for tests/data/test_shared_data.cpp, computed with Pillow and tifffile.

Run from the project root (Debian's python3-pil, python3-tifffile, python3-numpy):
    /usr/bin/python3 tests/data/make_fixtures.py > tests/data/fixtures.json

Also "components": the number of connected components SciPy / scikit-image find in the ISBI
membrane labels (binary, 2D 4/8 and 3D 6/26) and the SNEMI3D labels (label-preserving, 6).

For each stack in ../shared/data: shape (z, y, x), dtype, the sum of all values, and the sum
weighted by section, sum_z (z + 1) * sum(section z), which catches a wrong order of sections.
Colour follows uniem's documented rules (io/image_header.h): 1-bit grey scales to 0/255, the
alpha channel is ignored, R = G = B keeps the value, other colours become rounded BT.601
luminance.
"""
import json
import os
import re

import numpy as np
import tifffile
from PIL import Image

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
STACKS = [
    "isbi2012/train/image", "isbi2012/train/label", "isbi2012/test/image",
    "vnc-l3/stack1/raw", "vnc-l3/stack1/mitochondria", "vnc-l3/stack1/membranes",
    "vnc-l3/stack1/synapses", "vnc-l3/stack1/labels", "vnc-l3/stack2/raw",
    "snemi3d-crop/image", "snemi3d-crop/label", "snemi3d-unlabeled/image",
    "fibsem-mini/train/image", "fibsem-mini/train/label", "fibsem-mini/test/image", "fibsem-mini/test/label",
    "fibsem-mini/hdf5/train-labels.tif", "fibsem-mini/hdf5/train-probabilities.tif",
    "uniem-mito/image", "uniem-mito/label", "epfl-mito/train/image", "epfl-mito/train/mito",
    "medulla-fibsem/image",
]


def natural_key(name):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", name) if t]


def grey(rgb):
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    lum = np.floor(0.299 * r + 0.587 * g + 0.114 * b + 0.5)
    same = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
    return np.where(same, rgb[..., 0], lum).astype(rgb.dtype)


def read_image(path):
    if path.lower().endswith((".tif", ".tiff")):
        return tifffile.imread(path)
    im = Image.open(path)
    if im.mode == "1":
        return np.array(im).astype(np.uint8) * 255
    if im.mode in ("L", "I;16", "I;16B", "I"):
        a = np.array(im)
        return a.astype(np.uint16) if im.mode.startswith("I") else a
    if im.mode == "LA":
        return np.array(im)[..., 0]
    if im.mode in ("RGB", "RGBA"):
        return grey(np.array(im)[..., :3])
    raise SystemExit(f"{path}: mode {im.mode} not covered by this script")


def load(stack):
    path = os.path.join(DATA, stack)
    if os.path.isdir(path):
        names = sorted((n for n in os.listdir(path) if n.lower().endswith((".png", ".tif", ".tiff"))), key=natural_key)
        return np.stack([read_image(os.path.join(path, n)) for n in names])
    return tifffile.imread(path)


out = {}
for stack in STACKS:
    v = load(stack)
    sums = v.reshape(v.shape[0], -1).astype(np.uint64).sum(axis=1)
    out[stack] = {
        "shape": list(v.shape),
        "dtype": {"uint8": "uint8", "uint16": "uint16", "uint32": "uint32"}[str(v.dtype)],
        "sum": int(sums.sum()),
        "weighted_sum": int(sum((z + 1) * int(s) for z, s in enumerate(sums))),
    }
# Connected components of real labels, as SciPy / scikit-image count them (tests/data, core/image/label).
from scipy import ndimage as ndi
from skimage import measure

isbi = load("isbi2012/train/label") > 0  # 255 = cell interior, 0 = membrane
snemi = load("snemi3d-crop/label")
out["components"] = {
    "isbi2012/train/label 4": int(sum(ndi.label(s)[1] for s in isbi)),
    "isbi2012/train/label 8": int(sum(ndi.label(s, structure=np.ones((3, 3)))[1] for s in isbi)),
    "isbi2012/train/label 6": int(ndi.label(isbi)[1]),
    "isbi2012/train/label 26": int(ndi.label(isbi, structure=np.ones((3, 3, 3)))[1]),
    "snemi3d-crop/label 6 labels": int(measure.label(snemi, background=0, connectivity=1).max()),
}
print(json.dumps(out, indent=1))
