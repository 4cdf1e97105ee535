#!/usr/bin/python3
"""The peer side of bench/filters, on the data of ../shared/bench-peers (common.py):
OpenCV (one thread) for 2D Gaussian, median, Sobel, Canny and the boundary-map watershed of
bench_watershed.py (cv2.watershed) on the 2048^2 EM-like image; SciPy for the
3D Gaussian and scikit-image's rank median for 3D medians on the 256^3 volume of
bench_filters.py; scikit-image's watershed on the 256^3 blob mask of bench_watershed.py.

Usage: /usr/bin/python3 peer_filters.py DIR
Writes em2048.tif, ws2d_landscape.tif, ws2d_seeds.tif, vol256.tif, ws_mask.tif, ws_markers.tif, ws_landscape.tif into DIR and prints
one JSON object of median seconds.
"""
import json
import os
import sys

import cv2
import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage import feature, measure, segmentation
from skimage.filters import rank

PEERS = os.environ.get("UNIEM_BENCH_PEERS", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench-peers"))
sys.path.insert(0, PEERS)
from common import blob_mask, em_image, smooth_field, timeit  # noqa: E402

out = sys.argv[1]
cv2.setNumThreads(1)
r = {}

im = em_image(2048)
tifffile.imwrite(os.path.join(out, "em2048.tif"), im)
r["gaussian2d"] = timeit(lambda: cv2.GaussianBlur(im, (0, 0), 2.0), reps=10)["median"]
r["median2d"] = timeit(lambda: cv2.medianBlur(im, 5), reps=10)["median"]
r["sobel2d"] = timeit(lambda: cv2.magnitude(cv2.Sobel(im, cv2.CV_32F, 1, 0, ksize=3),
                                            cv2.Sobel(im, cv2.CV_32F, 0, 1, ksize=3)), reps=10)["median"]

r["canny2d"] = timeit(lambda: cv2.Canny(im, 50, 150), reps=10)["median"]
r["canny2d_blur"] = timeit(lambda: cv2.Canny(cv2.GaussianBlur(im, (0, 0), 1.0), 50, 150), reps=10)["median"]

# The 2D boundary-map watershed of bench_watershed.py: the inverted, smoothed image flooded from
# the eroded cell interiors, densely; cv2.watershed takes it as a 3-channel image.
interior = ndi.gaussian_filter(im, 1.5) > 120
elev = 255 - cv2.GaussianBlur(im, (0, 0), 1.5)
seeds = measure.label(ndi.binary_erosion(interior, iterations=2), connectivity=1).astype(np.int32)
tifffile.imwrite(os.path.join(out, "ws2d_landscape.tif"), elev)
tifffile.imwrite(os.path.join(out, "ws2d_seeds.tif"), seeds.astype(np.uint32))
im3 = cv2.cvtColor(255 - elev, cv2.COLOR_GRAY2BGR)
r["watershed2d"] = timeit(lambda: cv2.watershed(im3, seeds.copy()), reps=5)["median"]
r["watershed2d_seeds"] = int(seeds.max())

f = smooth_field((256, 256, 256), 3.0, 0)
vol_f32 = f + np.random.default_rng(5).standard_normal(f.shape, dtype=np.float32) * 0.5
vol_u8 = np.clip(128 + 40 * vol_f32, 0, 255).astype(np.uint8)
tifffile.imwrite(os.path.join(out, "vol256.tif"), vol_u8)
vol_f32 = vol_u8.astype(np.float32)
r["gaussian3d"] = timeit(lambda: ndi.gaussian_filter(vol_f32, 2.0), reps=3)["median"]
r["median3d_3"] = timeit(lambda: rank.median(vol_u8, np.ones((3, 3, 3), np.uint8)), reps=3)["median"]
r["median3d_5"] = timeit(lambda: rank.median(vol_u8, np.ones((5, 5, 5), np.uint8)), reps=1)["median"]

fg = blob_mask(256)
dist = ndi.distance_transform_edt(fg)
coords = feature.peak_local_max(dist, min_distance=4, labels=measure.label(fg, connectivity=1), exclude_border=False)
markers = np.zeros(dist.shape, np.uint32)
markers[tuple(coords.T)] = np.arange(1, len(coords) + 1, dtype=np.uint32)
tifffile.imwrite(os.path.join(out, "ws_mask.tif"), fg.astype(np.uint8))
tifffile.imwrite(os.path.join(out, "ws_markers.tif"), markers)
tifffile.imwrite(os.path.join(out, "ws_landscape.tif"), (-dist).astype(np.float32))
neg = -dist
res = timeit(lambda: segmentation.watershed(neg, markers, mask=fg, connectivity=1), reps=3)
r["watershed3d"] = res["median"]
r["watershed3d_labels"] = int(res["out"].max())
print(json.dumps(r))
