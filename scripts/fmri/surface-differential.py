#!/usr/bin/env python3
"""Surface extraction on real parcellations and meshes, against the references: the conte69 32k
(fsLR) meshes and the parcellations that BrainSpace ships on them (PyPI `brainspace`: Schaefer
100–1000, Vos de Wael 100–400, Mesulam; 64,984 vertices, 0 = medial wall), each through

- GIFTI: a `.label.gii` per hemisphere and random `.func.gii` series, `bioembed fmri extract`
  against nilearn's `SurfaceLabelsMasker` on the real meshes (raw means and cleaned series);
- CIFTI-2: the parcellation as a `.dlabel.nii` over the cortex vertices it labels, a `.dtseries.nii`
  over every vertex with the medial wall of the HCP 91k files left out, against nibabel + numpy.

usage: scripts/fmri/surface-differential.py [WORK_DIR]   (PY: the test venv; downloads brainspace's wheel)
Prints one line per parcellation and exits 1 when a difference exceeds its tolerance (raw means
1e-12 relative, cleaned series 1e-9, CIFTI means 1e-6 relative)."""
import glob
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import nibabel as nib
import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tests/python"))
from surface_data import cifti_parcel_means, write_dlabel, write_dtseries, write_gifti  # noqa: E402

from nibabel import cifti2 as ci  # noqa: E402
from nilearn.maskers import SurfaceLabelsMasker  # noqa: E402
from nilearn.surface import PolyMesh, SurfaceImage, load_surf_mesh  # noqa: E402

work = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
work.mkdir(parents=True, exist_ok=True)
binary = os.environ.get("BIOEMBED_BIN", str(REPO / ".build/release/bioembed"))
wheels = glob.glob(str(work / "brainspace-*.whl"))
if not wheels:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work), "brainspace==0.3.0"], check=True)
    wheels = glob.glob(str(work / "brainspace-*.whl"))
with zipfile.ZipFile(wheels[0]) as z:
    members = [m for m in z.namelist() if "/parcellations/" in m or "surfaces/conte69_32k_lh.gii" in m or "surfaces/conte69_32k_rh.gii" in m]
    z.extractall(work, members)
data = work / "brainspace/datasets"
mesh = PolyMesh(left=load_surf_mesh(str(data / "surfaces/conte69_32k_lh.gii")),
                right=load_surf_mesh(str(data / "surfaces/conte69_32k_rh.gii")))
half = mesh.parts["left"].n_vertices
rng = np.random.default_rng(0)
T, TR = 60, 0.72
clean = dict(detrend=True, standardize="zscore_sample", high_pass=0.01, low_pass=0.1, t_r=TR)
worst = 0.0
for csv in sorted((data / "parcellations").glob("*.csv")):
    labels = np.loadtxt(csv, dtype=np.int64)
    name = csv.stem
    folder = work / name
    folder.mkdir(exist_ok=True)
    # GIFTI
    series = {}
    for hemi, part in (("L", labels[:half]), ("R", labels[half:])):
        write_gifti(folder / f"hemi-{hemi}_atlas.label.gii", part[:, None], intent="NIFTI_INTENT_LABEL", dtype="int32")
        series[hemi] = 100 + rng.standard_normal((len(part), T))
        write_gifti(folder / f"sub-01_hemi-{hemi}_bold.func.gii", series[hemi], dtype="float64")
    out = folder / "gifti.h5"
    r = subprocess.run([binary, "fmri", "extract", "--bold", folder / "sub-01_hemi-L_bold.func.gii", "--atlas",
                        folder / "hemi-L_atlas.label.gii", "--t-r", str(TR), "--high-pass", "0.01", "--low-pass", "0.1",
                        "--output", out, "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import h5py
    with h5py.File(out) as f:
        raw, cleaned = f["fmri/raw_timeseries"][()], f["fmri/timeseries"][()]
    img = SurfaceImage(mesh=mesh, data={"left": str(folder / "sub-01_hemi-L_bold.func.gii"), "right": str(folder / "sub-01_hemi-R_bold.func.gii")})
    atlas = SurfaceImage(mesh=mesh, data={"left": str(folder / "hemi-L_atlas.label.gii"), "right": str(folder / "hemi-R_atlas.label.gii")})
    ref_raw = SurfaceLabelsMasker(labels_img=atlas, standardize=None, detrend=False).fit_transform(img)
    ref_clean = SurfaceLabelsMasker(labels_img=atlas, **clean).fit_transform(img)
    g_raw, g_clean = (np.abs(raw - ref_raw) / np.abs(ref_raw)).max(), np.abs(cleaned - ref_clean).max()
    # CIFTI: the dlabel over the labelled vertices, the series over every vertex outside the medial wall
    axes = []
    for structure, part in (("CortexLeft", labels[:half]), ("CortexRight", labels[half:])):
        axes.append(ci.BrainModelAxis.from_mask(part != 0, name=structure))
    atlas_models = axes[0] + axes[1]
    write_dlabel(folder / "atlas.dlabel.nii", labels[labels != 0], atlas_models)
    wall = rng.random(len(labels)) < 0.05  # a medial wall of its own: some labelled vertices have no data
    series_models = ci.BrainModelAxis.from_mask(~wall[:half], name="CortexLeft") + ci.BrainModelAxis.from_mask(~wall[half:], name="CortexRight")
    write_dtseries(folder / "sub-01_bold.dtseries.nii", (1000 + 20 * rng.standard_normal((T, len(series_models)))).astype(np.float32),
                   series_models, TR)
    out = folder / "cifti.h5"
    r = subprocess.run([binary, "fmri", "extract", "--bold", folder / "sub-01_bold.dtseries.nii", "--atlas", folder / "atlas.dlabel.nii",
                        "--output", out, "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f:
        raw = f["fmri/raw_timeseries"][()]
    expected, _ = cifti_parcel_means(folder / "sub-01_bold.dtseries.nii", folder / "atlas.dlabel.nii")
    c_raw = np.nanmax(np.abs(raw - expected) / np.abs(expected))
    # raw means: summation order only (1e-14 relative); cleaned: standardizing a mean over thousands
    # of vertices divides by its small spread and amplifies that by mean/std (up to 1e4 here)
    worst = max(worst, g_raw / 1e-12, g_clean / 1e-9, c_raw / 1e-6)
    print(f"{name}: {len(np.unique(labels)) - 1} regions; GIFTI vs SurfaceLabelsMasker raw {g_raw:.1e} (relative), cleaned {g_clean:.1e}; "
          f"CIFTI vs nibabel+numpy {c_raw:.1e} (relative)")
print("all within tolerance" if worst <= 1 else "TOLERANCE EXCEEDED")
sys.exit(0 if worst <= 1 else 1)
