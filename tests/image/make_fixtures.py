#!/usr/bin/python3
"""Fixtures for tests/image: inputs as small TIFFs and what SciPy / scikit-image compute on them.

Run from the project root (Debian's python3-scipy, python3-skimage, python3-tifffile):
    /usr/bin/python3 tests/image/make_fixtures.py
Writes tests/image/fixtures/*.tif and tests/image/fixtures/expected.json.

- label_mask.tif: a thresholded smooth random field; scipy.ndimage.label with 6/18/26 (3D) and
  4/8 (2D, per section) connectivity -> label_<c>.tif (uint32) and the counts.
- label_multi.tif: small multi-label volume; skimage.measure.label(connectivity=1/3) -> counts.
- dist_mask.tif: random mask; scipy.ndimage.distance_transform_edt with sampling (3, 1, 1.5)
  -> dist.tif (float32), and the 2D transform of each section -> dist2d.tif.
- filter_*.tif: an 8-bit image and what scipy.ndimage gives for Gaussian, median, mean, grey
  erosion/dilation and Sobel (2D per section and 3D, mode "reflect"), skimage's Otsu threshold,
  binary dilation/erosion with a disk (erosion with border_value=1: the outside does not erode),
  binary_fill_holes and remove_small_objects; cv2.bilateralFilter(d=-1, sigmaColor=30, sigmaSpace=2).
- ws_*.tif: skimage.segmentation.watershed on a smooth 8-bit and float landscape with 25 random
  markers, 6- and 26-connected, with and without a mask.
- canny_*.tif: cv2.Canny on an 8-bit image of discs, bars and noise, per section, with the
  Euclidean (thresholds 40, 100) and the L1 (50, 150) gradient norm.
- hmax_*.tif: skimage.morphology.h_maxima(h=1.5) of a smooth float field with 26- and
  6-connected footprints in 3D and 8-connected per section.
- seg_<k>.tif / gt_<k>.tif: random label pairs; skimage adapted_rand_error and
  variation_of_information (GT 0 ignored), the SNEMI3D script's adapted Rand error and the
  Arganda-Carreras V_rand / V_info (as ../shared/bench-peers/bench_metrics.py defines them).
"""
import json
import os

import numpy as np
import scipy
import skimage
import tifffile
from scipy import ndimage as ndi
from scipy import sparse
from skimage import measure, metrics

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(2026)
expected = {"versions": {"scipy": scipy.__version__, "skimage": skimage.__version__}}


def save(name, array):
    tifffile.imwrite(os.path.join(OUT, name), array, compression="zlib")


# Connected components ------------------------------------------------------------------------
field = ndi.gaussian_filter(rng.standard_normal((12, 40, 48)), 1.5)
mask = (field > np.quantile(field, 0.6)).astype(np.uint8)
save("label_mask.tif", mask)
structures = {
    "6": ndi.generate_binary_structure(3, 1),
    "18": ndi.generate_binary_structure(3, 2),
    "26": ndi.generate_binary_structure(3, 3),
    "4": np.stack([np.zeros((3, 3), bool), ndi.generate_binary_structure(2, 1), np.zeros((3, 3), bool)]),
    "8": np.stack([np.zeros((3, 3), bool), np.ones((3, 3), bool), np.zeros((3, 3), bool)]),
}
expected["label"] = {}
for name, structure in structures.items():
    lab, count = ndi.label(mask, structure=structure)
    save(f"label_{name}.tif", lab.astype(np.uint32))
    expected["label"][name] = int(count)

multi = (rng.integers(0, 4, (6, 10, 12)) * (rng.random((6, 10, 12)) > 0.2)).astype(np.uint16)
save("label_multi.tif", multi)
expected["label_multi"] = {
    "6": int(measure.label(multi, background=0, connectivity=1).max()),
    "26": int(measure.label(multi, background=0, connectivity=3).max()),
}

# Distance transform --------------------------------------------------------------------------
dmask = (rng.random((9, 30, 34)) > 0.03).astype(np.uint8)
save("dist_mask.tif", dmask)
save("dist.tif", ndi.distance_transform_edt(dmask, sampling=(3.0, 1.0, 1.5)).astype(np.float32))
save("dist2d.tif", np.stack([ndi.distance_transform_edt(s, sampling=(1.0, 1.5)) for s in dmask]).astype(np.float32))


# Metrics -------------------------------------------------------------------------------------
def reference(gt, seg):
    g, s = gt.ravel(), seg.ravel()
    fg = g != 0
    cont = sparse.coo_matrix((np.ones(fg.sum()), (g[fg].astype(np.int64), s[fg].astype(np.int64)))).tocsr()
    pij = cont.data
    n = pij.sum()
    t = np.asarray(cont.sum(axis=1)).ravel()
    s_ = np.asarray(cont.sum(axis=0)).ravel()
    t, s_ = t[t > 0], s_[s_ > 0]
    sp2, st2, ss2 = pij @ pij, t @ t, s_ @ s_
    ent = lambda p: -np.sum(p * np.log2(p))
    h_st, h_t, h_s = ent(pij / n), ent(t / n), ent(s_ / n)
    mi = h_t + h_s - h_st
    return {"v_rand": sp2 / (0.5 * st2 + 0.5 * ss2), "rand_split": sp2 / st2, "rand_merge": sp2 / ss2,
            "v_info": mi / (0.5 * h_s + 0.5 * h_t), "info_split": mi / h_s, "info_merge": mi / h_t,
            "vi_split": h_st - h_t, "vi_merge": h_st - h_s}


def snemi_adapted_rand(seg, gt):
    segA, segB = np.ravel(gt), np.ravel(seg)
    n = segA.size
    p_ij = sparse.csr_matrix((np.ones(n), (segA, segB)), shape=(segA.max() + 1, segB.max() + 1))
    a = p_ij[1:, :]
    b = p_ij[1:, 1:]
    c = p_ij[1:, 0].todense()
    d = b.multiply(b)
    a_i = np.array(a.sum(1))
    b_i = np.array(b.sum(0))
    sumA = np.sum(a_i * a_i)
    sumB = np.sum(b_i * b_i) + (np.sum(c) / n)
    sumAB = np.sum(d) + (np.sum(c) / n)
    precision = sumAB / max(sumB, 1e-6)
    recall = sumAB / max(sumA, 1e-6)
    return 1.0 - 2.0 * precision * recall / max(precision + recall, 1e-6)


expected["metrics"] = []
for k, (shape, n_gt, n_seg) in enumerate((((7, 19, 23), 9, 12), ((5, 31, 17), 40, 25), ((11, 13, 29), 3, 60))):
    gt = rng.integers(0, n_gt + 1, shape).astype(np.uint16)
    gt = ndi.median_filter(gt, size=3)  # blocky objects, some ground truth 0
    seg = np.where(rng.random(shape) < 0.7, gt, rng.integers(0, n_seg + 1, shape)).astype(np.uint32)
    seg[rng.random(shape) < 0.05] = 0
    save(f"gt_{k}.tif", gt)
    save(f"seg_{k}.tif", seg)
    are, prec, rec = metrics.adapted_rand_error(gt, seg)
    split, merge = metrics.variation_of_information(gt, seg, ignore_labels=(0,))
    entry = reference(gt, seg)
    entry.update({"k": k, "adapted_rand_error": are, "adapted_rand_precision": prec, "adapted_rand_recall": rec,
                  "skimage_vi_split": split, "skimage_vi_merge": merge,
                  "snemi3d_adapted_rand_error": snemi_adapted_rand(seg, gt)})
    expected["metrics"].append({key: float(v) for key, v in entry.items()})

# Filters --------------------------------------------------------------------------------------
# An 8-bit image with structure; 2D results are computed section by section.
img = ndi.gaussian_filter(rng.standard_normal((6, 40, 44)), (0, 2, 2))
img = np.clip((img - img.min()) / (img.max() - img.min()) * 255, 0, 255).round().astype(np.uint8)
save("filter_image.tif", img)
f = img.astype(np.float32)
per_section = lambda fn: np.stack([fn(s) for s in f]).astype(np.float32)
save("filter_gaussian2d.tif", ndi.gaussian_filter(f, (0, 1.5, 1.5)))
save("filter_gaussian3d.tif", ndi.gaussian_filter(f, (0.75, 1.5, 1.5)))
save("filter_median2d.tif", ndi.median_filter(img, size=(1, 5, 5)))
save("filter_median3d.tif", ndi.median_filter(img, size=(3, 3, 3)))
save("filter_mean2d.tif", ndi.uniform_filter(f, size=(1, 5, 5)))
save("filter_min2d.tif", ndi.grey_erosion(img, size=(1, 3, 3)))
save("filter_max3d.tif", ndi.grey_dilation(img, size=(3, 3, 3)))
save("filter_sobel2d.tif", per_section(lambda s: np.hypot(ndi.sobel(s, axis=0), ndi.sobel(s, axis=1))))
from skimage.filters import threshold_otsu
from skimage.morphology import disk, remove_small_objects
otsu = threshold_otsu(img)
mask = img > otsu
save("filter_mask.tif", (mask * 255).astype(np.uint8))
save("filter_dilate2d.tif", (np.stack([ndi.binary_dilation(s, structure=disk(2)) for s in mask]) * 255).astype(np.uint8))
save("filter_erode2d.tif", (np.stack([ndi.binary_erosion(s, structure=disk(2), border_value=1) for s in mask]) * 255).astype(np.uint8))
save("filter_fill2d.tif", (np.stack([ndi.binary_fill_holes(s) for s in mask]) * 255).astype(np.uint8))
save("filter_small3d.tif", (remove_small_objects(mask, min_size=40, connectivity=1) * 255).astype(np.uint8))
import cv2
save("filter_bilateral2d.tif", np.stack([cv2.bilateralFilter(s, -1, 30.0, 2.0) for s in img]))
fimg = ndi.gaussian_filter(rng.random((2, 20, 24)), 1.0).astype(np.float32)
save("filter_float.tif", fimg)
expected["otsu"] = {"uint8": float(otsu), "float32": float(threshold_otsu(fimg))}

# Watershed -------------------------------------------------------------------------------------
from skimage.segmentation import watershed
land = ndi.gaussian_filter(rng.random((8, 36, 40)), (1, 2, 2))
land8 = np.round((land - land.min()) / (land.max() - land.min()) * 255).astype(np.uint8)
seeds = np.zeros(land.shape, np.uint32)
idx = rng.choice(land.size, 25, replace=False)
seeds.flat[idx] = np.arange(1, 26)
wmask = (ndi.gaussian_filter(rng.random(land.shape), 2) > 0.47).astype(np.uint8)
save("ws_landscape.tif", land8)
save("ws_landscape_float.tif", land.astype(np.float32))
save("ws_markers.tif", seeds)
save("ws_mask.tif", wmask)
save("ws_6.tif", watershed(land8, seeds, connectivity=1).astype(np.uint32))
save("ws_26_mask.tif", watershed(land8, seeds, connectivity=3, mask=wmask.astype(bool)).astype(np.uint32))
save("ws_float_6.tif", watershed(land.astype(np.float32), seeds, connectivity=1).astype(np.uint32))

# Canny and h-maxima (added later: drawn after everything above, so the older fixtures stay) ------
# An 8-bit image with edges: discs and bars of different grey levels, smoothed a little, noise.
yy, xx = np.mgrid[0:64, 0:72]
scene = np.full((2, 64, 72), 60.0)
for z in range(2):
    for _ in range(6):
        cy, cx, r = rng.integers(8, 56), rng.integers(8, 64), rng.integers(4, 12)
        scene[z][(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(90, 230)
    scene[z, rng.integers(0, 50):, rng.integers(0, 60):][:10, :8] = 20
scene = ndi.gaussian_filter(scene, (0, 1, 1)) + rng.normal(0, 6, scene.shape)
scene = np.clip(scene, 0, 255).round().astype(np.uint8)
save("canny_image.tif", scene)
save("canny_l2.tif", np.stack([cv2.Canny(s, 40, 100, L2gradient=True) for s in scene]))
save("canny_l1.tif", np.stack([cv2.Canny(s, 50, 150) for s in scene]))

from skimage.morphology import h_maxima
hfield = ndi.gaussian_filter(rng.random((10, 30, 34)), 2).astype(np.float32)
hfield = (hfield - hfield.min()) / (hfield.max() - hfield.min()) * 20
save("hmax_field.tif", hfield.astype(np.float32))
save("hmax_26.tif", h_maxima(hfield, 1.5).astype(np.uint8))
save("hmax_6.tif", h_maxima(hfield, 1.5, footprint=ndi.generate_binary_structure(3, 1)).astype(np.uint8))
save("hmax_8.tif", np.stack([h_maxima(s, 1.5) for s in hfield]).astype(np.uint8))

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print("wrote", OUT)
