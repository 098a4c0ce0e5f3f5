"""`fmri extract` on CIFTI-2 (.dtseries.nii + .dlabel.nii) and GIFTI (.func.gii + .label.gii per
hemisphere): parcel means against nibabel + numpy (CIFTI) and nilearn 0.14.1's SurfaceLabelsMasker
(GIFTI), cleaning against nilearn.signal.clean, the GIFTI reader against nibabel on the real files
nibabel ships, BIDS discovery of fMRIPrep's surface outputs, and bad input."""
import json
import pathlib
import shutil

import h5py
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn import signal

from surface_data import (cifti_parcel_means, hcp_models, parcel_keys, surface_masker_reference, write_dlabel,
                          write_dtseries, write_gifti)

TR = 0.72
CLEAN = dict(detrend=True, standardize="zscore_sample", high_pass=0.01, low_pass=0.1)


def fmri(path):
    with h5py.File(path) as f:
        g = f["fmri"]
        return {k: g[k][()] for k in ("ids", "t_r", "timeseries", "raw_timeseries", "region_ids", "timeseries_offsets")} | {"attrs": dict(g.attrs)}


def cifti_run(tmp_path, rng, volumes=80, dtype=np.float32, cortex_only_atlas=True, atlas_seed=7):
    models = hcp_models(rng, scale=0.03)
    t = np.arange(volumes) * TR
    data = 1000 + 20 * rng.normal(size=(volumes, len(models))) + 5 * np.sin(2 * np.pi * 0.05 * t)[:, None]
    bold = tmp_path / "sub-01_task-rest_space-fsLR_den-91k_bold.dtseries.nii"
    write_dtseries(bold, data.astype(dtype), models, TR)
    # the atlas: another medial wall, cortex only (as Glasser/Schaefer dlabels), its own grayordinates
    atlas_models = hcp_models(np.random.default_rng(atlas_seed), scale=0.03, cortex_only=cortex_only_atlas)
    atlas = tmp_path / "parcels.dlabel.nii"
    write_dlabel(atlas, parcel_keys(atlas_models, 30, rng), atlas_models)
    return bold, atlas


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cifti_parcel_means_and_cleaning_match_the_references(run, tmp_path, dtype):
    rng = np.random.default_rng(11)
    bold, atlas = cifti_run(tmp_path, rng, dtype=dtype)
    out = tmp_path / "cifti.h5"
    r = run("fmri", "extract", "--bold", bold, "--atlas", atlas, "--high-pass", "0.01", "--low-pass", "0.1", "--output", out)
    assert r.returncode == 0, r.stderr
    got = fmri(out)
    expected, ids = cifti_parcel_means(bold, atlas)
    assert got["attrs"]["masker"] == "cifti-labels"
    assert list(got["ids"].astype(str)) == ["sub-01_task-rest"]
    np.testing.assert_array_equal(got["region_ids"], ids)
    assert got["t_r"][0] == pytest.approx(TR)  # from the SeriesStep
    assert np.max(np.abs(got["raw_timeseries"] - expected) / np.abs(expected)) <= 1e-6
    cleaned = signal.clean(expected, t_r=TR, **CLEAN)
    assert np.max(np.abs(got["timeseries"] - cleaned)) <= 1e-6


def test_cifti_with_confounds_and_subcortical_labels(run, tmp_path):
    rng = np.random.default_rng(12)
    bold, atlas = cifti_run(tmp_path, rng, cortex_only_atlas=False, atlas_seed=0)
    volumes = 80
    confounds = pd.DataFrame({c: rng.normal(size=volumes) for c in ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]})
    tsv = tmp_path / "sub-01_task-rest_desc-confounds_timeseries.tsv"
    confounds.to_csv(tsv, sep="\t", index=False)
    out = tmp_path / "c.h5"
    r = run("fmri", "extract", "--bold", bold, "--atlas", atlas, "--strategy", "motion", "--motion", "basic", "--output", out)
    assert r.returncode == 0, r.stderr
    got = fmri(out)
    expected, _ = cifti_parcel_means(bold, atlas)
    assert np.max(np.abs(got["raw_timeseries"] - expected) / np.abs(expected)) <= 1e-6
    cleaned = signal.clean(expected, t_r=TR, detrend=True, standardize="zscore_sample", confounds=confounds.values)
    assert np.max(np.abs(got["timeseries"] - cleaned)) <= 1e-6


def gifti_run(tmp_path, rng, dtype, volumes=60, vertices=(400, 420), parcels=9):
    func = tmp_path / "func"
    func.mkdir(exist_ok=True)
    paths = {}
    t = np.arange(volumes) * 2.0
    for hemi, v, encoding in (("L", vertices[0], "GZipBase64Binary"), ("R", vertices[1], "Base64Binary")):
        data = 100 + rng.normal(size=(v, volumes)) + np.sin(2 * np.pi * 0.04 * t)[None, :]
        paths[hemi] = func / f"sub-01_task-rest_hemi-{hemi}_space-fsaverage5_bold.func.gii"
        write_gifti(paths[hemi], data, encoding=encoding, dtype=dtype, structure=f"Cortex{'Left' if hemi == 'L' else 'Right'}")
        labels = rng.integers(0, parcels + 1, size=(v, 1))
        write_gifti(tmp_path / f"{hemi.lower()}h.parcels.label.gii", labels, intent="NIFTI_INTENT_LABEL", dtype="int32",
                    encoding="ASCII" if hemi == "R" else "GZipBase64Binary")
    return paths, (tmp_path / "lh.parcels.label.gii", tmp_path / "rh.parcels.label.gii"), vertices


def test_gifti_matches_nilearn_surface_labels_masker_float64(run, tmp_path):
    rng = np.random.default_rng(21)
    bold, labels, vertices = gifti_run(tmp_path, rng, "float64")
    out = tmp_path / "g.h5"
    r = run("fmri", "extract", "--bold", bold["L"], "--atlas", labels[0], "--t-r", "2", "--high-pass", "0.01",
            "--low-pass", "0.1", "--output", out)
    assert r.returncode == 0, r.stderr
    got = fmri(out)
    assert got["attrs"]["masker"] == "surface-labels"
    raw, ids = surface_masker_reference(bold["L"], bold["R"], *labels, vertices, rng, standardize=None, detrend=False)
    np.testing.assert_array_equal(got["region_ids"], ids[ids != 0])
    assert np.max(np.abs(got["raw_timeseries"] - raw)) <= 1e-10
    cleaned, _ = surface_masker_reference(bold["L"], bold["R"], *labels, vertices, rng, t_r=2.0, **CLEAN)
    assert np.max(np.abs(got["timeseries"] - cleaned)) <= 1e-10


def test_gifti_float32_and_right_hemisphere_name(run, tmp_path):
    """float32 data: nilearn keeps float32 results; the means agree to float32 rounding. Naming the
    right hemisphere's file finds the left one."""
    rng = np.random.default_rng(22)
    bold, labels, vertices = gifti_run(tmp_path, rng, "float32")
    (tmp_path / "func" / "sub-01_task-rest_hemi-L_space-fsaverage5_bold.json").write_text(json.dumps({"RepetitionTime": 2.0}))
    out = tmp_path / "g.h5"
    r = run("fmri", "extract", "--bold", bold["R"], "--atlas", labels[1], "--output", out)
    assert r.returncode != 0 and "repetition time" in r.stderr  # the sidecar belongs to the left file's name
    (tmp_path / "func" / "sub-01_task-rest_hemi-R_space-fsaverage5_bold.func.json").write_text(json.dumps({"RepetitionTime": 2.0}))  # the other spelling
    r = run("fmri", "extract", "--bold", bold["R"], "--atlas", labels[1], "--output", out)
    assert r.returncode == 0, r.stderr
    got = fmri(out)
    assert got["t_r"][0] == 2.0
    raw, _ = surface_masker_reference(bold["L"], bold["R"], *labels, vertices, rng, standardize=None, detrend=False)
    assert raw.dtype == np.float32
    assert np.max(np.abs(got["raw_timeseries"] - raw) / np.abs(raw)) <= 1e-6
    # a folder holding both hemispheres is one run
    r = run("fmri", "extract", "--bold", tmp_path / "func", "--atlas", labels[0], "--t-r", "2", "--output", tmp_path / "d.h5")
    assert r.returncode == 0, r.stderr
    assert list(fmri(tmp_path / "d.h5")["ids"].astype(str)) == ["sub-01_task-rest"]


def test_gifti_reader_matches_nibabel_on_its_own_files(run, tmp_path):
    """The real GIFTI files nibabel ships: Workbench's task.func.gii (gzip-base64 time series) as a
    run, the FreeSurfer/Workbench label files (ASCII and gzip-base64) as atlases, compared with what
    nibabel reads; data in an external file is refused by name."""
    data = pathlib.Path(nib.__file__).parent / "gifti/tests/data"
    rng = np.random.default_rng(5)
    # a real functional file as the run: parcel means of nibabel's arrays
    func = tmp_path / "task_bold.func.gii"
    shutil.copy(data / "task.func.gii", func)
    series = np.stack([np.asarray(a.data, dtype=np.float64) for a in nib.load(str(func)).darrays], axis=1)
    labels = rng.integers(0, 6, size=(series.shape[0], 1))
    write_gifti(tmp_path / "task.label.gii", labels, intent="NIFTI_INTENT_LABEL", dtype="int32")
    r = run("fmri", "extract", "--bold", func, "--atlas", tmp_path / "task.label.gii", "--t-r", "1", "--output", tmp_path / "f.h5")
    assert r.returncode == 0, r.stderr
    got = fmri(tmp_path / "f.h5")
    ids = np.unique(labels[labels != 0])
    expected = np.stack([series[labels[:, 0] == k].mean(axis=0) for k in ids], axis=1)
    np.testing.assert_array_equal(got["region_ids"], ids)
    assert np.max(np.abs(got["raw_timeseries"] - expected) / np.abs(expected)) <= 1e-12
    # real label files as atlases: each region's mean of its own label value is that value
    for name in ("label.gii", "rh.aparc.annot.gii"):
        target = tmp_path / name.replace("rh.", "").replace(".gii", ".label.gii")  # one part: no hemisphere pairing
        shutil.copy(data / name, target)
        values = np.asarray(nib.load(str(target)).darrays[0].data, dtype=np.float64)
        bold = tmp_path / f"{target.name}_bold.func.gii"
        write_gifti(bold, np.stack([values, 2 * values], axis=1))
        out = tmp_path / f"{name}.h5"
        r = run("fmri", "extract", "--bold", bold, "--atlas", target, "--t-r", "1", "--output", out)
        assert r.returncode == 0, (name, r.stderr)
        got = fmri(out)
        ids = np.array(sorted(set(np.unique(values).astype(np.int64)) - {0}))
        np.testing.assert_array_equal(got["region_ids"], ids)
        np.testing.assert_array_equal(got["raw_timeseries"], np.stack([ids, 2 * ids]).astype(np.float64))
    shutil.copy(data / "external.gii", tmp_path / "external.label.gii")
    r = run("fmri", "extract", "--bold", func, "--atlas", tmp_path / "external.label.gii", "--output", tmp_path / "x.h5")
    assert r.returncode == 1 and "external.label.gii" in r.stderr and "ExternalFileBinary" in r.stderr, r.stderr


def test_bids_surface_outputs(run, tmp_path):
    rng = np.random.default_rng(31)
    root = tmp_path / "fmriprep"
    volumes = 40
    models = hcp_models(rng, scale=0.01)
    atlas = tmp_path / "parcels.dlabel.nii"
    write_dlabel(atlas, parcel_keys(models, 12, rng), models)
    for s in range(1, 4):
        func = root / f"sub-0{s}" / "func"
        func.mkdir(parents=True)
        stem = f"sub-0{s}_task-rest"
        write_dtseries(func / f"{stem}_space-fsLR_den-91k_bold.dtseries.nii",
                       (100 + rng.normal(size=(volumes, len(models)))).astype(np.float32), models, 2.0)
        for hemi in ("L", "R") if s != 2 else ("L",):
            write_gifti(func / f"{stem}_hemi-{hemi}_space-fsaverage5_bold.func.gii", 100 + rng.normal(size=(30, volumes)))
        motion = pd.DataFrame({c: rng.normal(size=volumes) for c in ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]})
        motion.to_csv(func / f"{stem}_desc-confounds_timeseries.tsv", sep="\t", index=False)
        (func / f"{stem}_desc-confounds_timeseries.json").write_text("{}")
    r = run("fmri", "extract", "--bids", root, "--atlas", atlas, "--output", tmp_path / "x.h5")
    assert r.returncode == 1 and "fsLR" in r.stderr and "fsaverage5" in r.stderr, r.stderr
    out = tmp_path / "cifti.h5"
    r = run("fmri", "extract", "--bids", root, "--space", "fsLR", "--atlas", atlas, "--strategy", "motion", "--motion", "basic", "--output", out)
    assert r.returncode == 0, r.stderr
    got = fmri(out)
    assert list(got["ids"].astype(str)) == ["sub-01_task-rest", "sub-02_task-rest", "sub-03_task-rest"]
    assert np.allclose(got["t_r"], 2.0)
    # GIFTI: sub-02 has no right hemisphere: listed in /errors, the others written
    labels = tmp_path / "hemi-L_parcels.label.gii"
    for hemi in ("L", "R"):
        write_gifti(tmp_path / f"hemi-{hemi}_parcels.label.gii", rng.integers(1, 5, size=(30, 1)), intent="NIFTI_INTENT_LABEL", dtype="int32")
    out = tmp_path / "gifti.h5"
    r = run("fmri", "extract", "--bids", root, "--space", "fsaverage5", "--atlas", labels, "--t-r", "2",
            "--strategy", "motion", "--motion", "basic", "--output", out)
    assert r.returncode == 2, r.stderr
    with h5py.File(out) as f:
        assert list(f["fmri/ids"].asstr()[()]) == ["sub-01_task-rest", "sub-03_task-rest"]
        failed = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
    assert "hemi-R" in failed["sub-02_task-rest"], failed


def test_surface_bad_input_is_named(run, tmp_path):
    rng = np.random.default_rng(41)
    bold, atlas = cifti_run(tmp_path, rng, volumes=20)
    nifti_atlas = tmp_path / "atlas.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((2, 2, 2), np.int16), np.eye(4)), nifti_atlas)
    r = run("fmri", "extract", "--bold", bold, "--atlas", nifti_atlas, "--output", tmp_path / "a.h5")
    assert r.returncode != 0 and "CIFTI-2" in r.stderr and "NIfTI" in r.stderr, r.stderr
    # truncated data
    cut = tmp_path / "cut_bold.dtseries.nii"
    cut.write_bytes(bold.read_bytes()[:-1000])
    r = run("fmri", "extract", "--bold", cut, "--atlas", atlas, "--output", tmp_path / "b.h5")
    assert r.returncode != 0 and "truncated" in r.stderr, r.stderr
    # a label file as the time series, and a time series as the atlas
    r = run("fmri", "extract", "--bold", bold, "--atlas", bold, "--output", tmp_path / "c.h5")
    assert r.returncode != 0 and "label" in r.stderr, r.stderr
    # XML: entity declarations are refused, broken XML named
    evil = tmp_path / "evil_hemi-L.label.gii"
    evil.write_text('<?xml version="1.0"?><!DOCTYPE GIFTI [<!ENTITY a "aaaa">]><GIFTI>&a;</GIFTI>')
    (tmp_path / "evil_hemi-R.label.gii").write_text("<GIFTI")
    r = run("fmri", "extract", "--bold", bold, "--atlas", evil, "--output", tmp_path / "d.h5")
    assert r.returncode != 0 and "evil_hemi-L.label.gii" in r.stderr and "DOCTYPE" in r.stderr, r.stderr
    # a GIFTI array whose dimensions claim more than its data
    labels = tmp_path / "lh.x.label.gii"
    write_gifti(labels, rng.integers(1, 4, size=(10, 1)), intent="NIFTI_INTENT_LABEL", dtype="int32")
    text = labels.read_text().replace('Dim0="10"', 'Dim0="1000000000000"')
    labels.write_text(text)
    shutil.copy(labels, tmp_path / "rh.x.label.gii")
    r = run("fmri", "extract", "--bold", bold, "--atlas", labels, "--output", tmp_path / "e.h5")
    assert r.returncode != 0 and "lh.x.label.gii" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "Fatal error" not in r.stderr
    # a gzip-compressed dense file whose header claims 2^32 time points: refused before allocating
    import gzip
    import struct
    raw = bytearray(bold.read_bytes())
    raw[16 + 8 * 5:16 + 8 * 6] = struct.pack("<q", 1 << 32)  # dim[5]: 2^32 time points, 47 TB
    huge = tmp_path / "huge_bold.dtseries.nii.gz"
    huge.write_bytes(gzip.compress(bytes(raw)))
    r = run("fmri", "extract", "--bold", huge, "--atlas", atlas, "--output", tmp_path / "f.h5")
    assert r.returncode != 0 and "huge_bold" in r.stderr and "compressed bytes" in r.stderr, r.stderr
