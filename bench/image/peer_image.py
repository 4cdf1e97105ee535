#!/usr/bin/python3
"""The peer side of bench/image: SciPy connected components, SciPy EDT and the SciPy sparse
contingency-table metrics, on the data of ../shared/bench-peers (its common.py generators, so
the volumes are the ones its RESULTS.md used).

Usage: /usr/bin/python3 peer_image.py DIR CC_SIZE EDT_SIZE METRICS_SIZE
Writes the inputs into DIR as TIFF (mask_30.tif, mask_10.tif, edt_mask.tif, gt.tif, seg.tif) and
prints one JSON object of peer timings (median seconds) and results.
"""
import json
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi
from scipy import sparse

PEERS = os.environ.get("UNIEM_BENCH_PEERS", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench-peers"))
sys.path.insert(0, PEERS)
from common import blob_mask, label_boundaries, timeit, voronoi_labels  # noqa: E402

out, cc_n, edt_n, m_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
result = {}

S26 = np.ones((3, 3, 3), bool)
S6 = ndi.generate_binary_structure(3, 1)
for frac in (0.30, 0.10):
    mask = blob_mask(cc_n, frac=frac)
    tifffile.imwrite(os.path.join(out, f"mask_{int(frac * 100)}.tif"), mask.astype(np.uint8))
    for name, structure in (("6", S6), ("26", S26)):
        r = timeit(lambda: ndi.label(mask, structure=structure), reps=3)
        result[f"cc{name}_{int(frac * 100)}"] = {"seconds": r["median"], "count": int(r["out"][1])}
    del mask

fg = blob_mask(edt_n)
tifffile.imwrite(os.path.join(out, "edt_mask.tif"), fg.astype(np.uint8))
r = timeit(lambda: ndi.distance_transform_edt(fg), reps=3)
result["edt"] = {"seconds": r["median"], "checksum": float(r["out"].astype(np.float64).sum())}
del fg

# Metrics, as bench_metrics.py: Voronoi ground truth with boundaries 0, a perturbed prediction.
shape = (m_n,) * 3
cells = max(16, int(2000 * (m_n / 512) ** 3))
gt = voronoi_labels(shape, cells, seed=11).copy()
gt[label_boundaries(gt)] = 0
seg = voronoi_labels(shape, cells, seed=12, base_seed=11, jitter=3.0, drop=0.10, add=0.10)
tifffile.imwrite(os.path.join(out, "gt.tif"), gt.astype(np.uint32))
tifffile.imwrite(os.path.join(out, "seg.tif"), seg.astype(np.uint32))


def reference(gt, seg):
    g, s = gt.ravel(), seg.ravel()
    fg = g != 0
    g = g[fg].astype(np.int32)
    s = s[fg].astype(np.int32)
    cont = sparse.coo_matrix((np.ones(g.size), (g, s)), shape=(int(g.max()) + 1, int(s.max()) + 1)).tocsr()
    pij = cont.data
    n = pij.sum()
    t = np.asarray(cont.sum(axis=1)).ravel()
    s_ = np.asarray(cont.sum(axis=0)).ravel()
    t, s_ = t[t > 0], s_[s_ > 0]
    sp2 = pij @ pij
    ent = lambda p: -np.sum(p * np.log2(p))
    h_st, h_t, h_s = ent(pij / n), ent(t / n), ent(s_ / n)
    return {"v_rand": 2 * sp2 / (t @ t + s_ @ s_), "vi_bits": 2 * h_st - h_t - h_s}


r = timeit(lambda: reference(gt, seg), reps=3)
result["metrics"] = {"seconds": r["median"], **r["out"], "cells": cells}
print(json.dumps(result))
