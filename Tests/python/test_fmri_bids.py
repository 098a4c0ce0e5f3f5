"""`fmri extract --bids`: an fMRIPrep-shaped folder (10 subjects × 2 sessions, a few runs missing a
companion file) through the CLI and a pipeline; one run compared with nilearn (load_confounds +
NiftiLabelsMasker with the run's brain mask)."""
import json

import h5py
import nibabel as nib
import numpy as np
import pandas as pd
from nilearn.interfaces.fmriprep import load_confounds
from nilearn.maskers import NiftiLabelsMasker

SPACE = "MNI152NLin2009cAsym"
TR = 2.0
VOLUMES = 40
SHAPE = (6, 5, 4)
AFFINE = np.diag([3.0, 3.0, 3.0, 1.0])
MISSING = {("03", "2"): "confounds", ("05", "1"): "mask", ("07", "2"): "sidecar"}


def atlas_image():
    atlas = np.zeros(SHAPE, dtype=np.int16)
    atlas[:3, :, :2], atlas[3:, :, :2], atlas[:3, :, 2:], atlas[3:, :, 2:] = 1, 2, 3, 4
    return nib.Nifti1Image(atlas, AFFINE)


def make_fmriprep(root, rng):
    for s in range(1, 11):
        for ses in ("1", "2"):
            sub = f"{s:02d}"
            func = root / f"sub-{sub}" / f"ses-{ses}" / "func"
            func.mkdir(parents=True)
            stem = f"sub-{sub}_ses-{ses}_task-rest_run-1"
            t = np.arange(VOLUMES) * TR
            data = 100 + rng.normal(size=SHAPE + (VOLUMES,)) + np.sin(2 * np.pi * 0.05 * t)
            img = nib.Nifti1Image(data.astype("float32"), AFFINE)
            img.header.set_xyzt_units("mm", "sec")
            img.header["pixdim"][4] = TR
            nib.save(img, func / f"{stem}_space-{SPACE}_desc-preproc_bold.nii.gz")
            (func / f"{stem}_space-{SPACE}_desc-preproc_bold.json").write_text(json.dumps({"RepetitionTime": TR}))
            mask = np.ones(SHAPE, dtype=np.uint8)
            mask[0, 0, :] = 0  # a few label voxels outside the brain
            if MISSING.get((sub, ses)) != "mask":
                nib.save(nib.Nifti1Image(mask, AFFINE), func / f"{stem}_space-{SPACE}_desc-brain_mask.nii.gz")
            motion = {name: rng.normal(scale=0.1, size=VOLUMES) for name in ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]}
            motion["framewise_displacement"] = np.r_[np.nan, np.abs(rng.normal(scale=0.2, size=VOLUMES - 1))]
            motion["std_dvars"] = np.r_[np.nan, np.abs(rng.normal(scale=1, size=VOLUMES - 1))]
            motion["non_steady_state_outlier00"] = np.eye(VOLUMES)[0]
            if MISSING.get((sub, ses)) != "confounds":
                pd.DataFrame(motion).to_csv(func / f"{stem}_desc-confounds_timeseries.tsv", sep="\t", index=False, na_rep="n/a")
            if MISSING.get((sub, ses)) != "sidecar":
                (func / f"{stem}_desc-confounds_timeseries.json").write_text("{}")


def test_bids_folder_runs_every_complete_run_and_lists_the_others(run, tmp_path):
    root = tmp_path / "fmriprep"
    make_fmriprep(root, np.random.default_rng(3))
    atlas = tmp_path / "atlas.nii.gz"
    nib.save(atlas_image(), atlas)
    out = tmp_path / "fmri.h5"
    flags = ["--atlas", atlas, "--strategy", "motion,scrub", "--motion", "basic", "--fd-threshold", "0.35"]
    r = run("fmri", "extract", "--bids", root, "--space", SPACE, "--task", "rest", *flags, "--output", out)
    assert r.returncode == 2, r.stderr
    with h5py.File(out) as f:
        ids = list(f["fmri/ids"].asstr()[()])
        failed = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
        first = f["fmri/timeseries"][: f["fmri/timeseries_offsets"][1]]
        kept = f["fmri/volume_index"][: f["fmri/timeseries_offsets"][1]]
    assert len(ids) == 17 and ids[0] == "sub-01_ses-1_task-rest_run-1"
    assert sorted(failed) == sorted(f"sub-{s}_ses-{ses}_task-rest_run-1" for s, ses in MISSING)
    words = {"confounds": "confounds TSV", "mask": "brain mask", "sidecar": "JSON sidecar"}
    for (s, ses), what in MISSING.items():
        assert words[what] in failed[f"sub-{s}_ses-{ses}_task-rest_run-1"]

    # the first run against nilearn, with its brain mask
    func = root / "sub-01/ses-1/func"
    bold = func / f"sub-01_ses-1_task-rest_run-1_space-{SPACE}_desc-preproc_bold.nii.gz"
    confounds, sample_mask = load_confounds(str(bold), strategy=["motion", "scrub"], motion="basic", fd_threshold=0.35)
    masker = NiftiLabelsMasker(labels_img=str(atlas), mask_img=str(func / f"sub-01_ses-1_task-rest_run-1_space-{SPACE}_desc-brain_mask.nii.gz"),
                               standardize="zscore_sample", detrend=True, t_r=TR)
    expected = masker.fit_transform(str(bold), confounds=confounds, sample_mask=sample_mask)
    np.testing.assert_array_equal(kept, sample_mask)
    scale = np.maximum(expected.std(axis=0), 1e-12)
    assert np.max(np.abs(first - expected) / scale) < 5e-5

    # filters, and the same through a pipeline's `bids:` key
    r = run("fmri", "extract", "--bids", root, "--space", SPACE, "--participant", "01", "sub-02", "--session", "1",
            *flags, "--output", tmp_path / "few.h5")
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "few.h5") as f:
        assert list(f["fmri/ids"].asstr()[()]) == ["sub-01_ses-1_task-rest_run-1", "sub-02_ses-1_task-rest_run-1"]
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        f"name: b\noutput_dir: out\nstages:\n  - stage: fmri_extract\n    bids: {{root: fmriprep, space: {SPACE}, task: rest}}\n"
        f"    output: fmri.h5\n    with: {{atlas: {atlas}, strategy: [motion, scrub], motion: basic, fd_threshold: 0.35}}\n")
    r = run("run", pipeline)
    assert r.returncode == 2, r.stderr
    with h5py.File(tmp_path / "out/fmri.h5") as a, h5py.File(out) as b:
        assert list(a["fmri/ids"].asstr()[()]) == ids
        np.testing.assert_array_equal(a["fmri/timeseries"][()], b["fmri/timeseries"][()])


def test_bids_problems_are_named(run, tmp_path):
    root = tmp_path / "fmriprep"
    make_fmriprep(root, np.random.default_rng(4))
    atlas = tmp_path / "atlas.nii.gz"
    nib.save(atlas_image(), atlas)
    other = root / "sub-01/ses-1/func" / f"sub-01_ses-1_task-rest_run-1_space-T1w_desc-preproc_bold.nii.gz"
    other.write_bytes((root / "sub-01/ses-1/func" / f"sub-01_ses-1_task-rest_run-1_space-{SPACE}_desc-preproc_bold.nii.gz").read_bytes())
    r = run("fmri", "extract", "--bids", root, "--atlas", atlas, "--output", tmp_path / "x.h5")
    assert r.returncode == 1 and "space" in r.stderr and "T1w" in r.stderr, r.stderr
    r = run("fmri", "extract", "--bids", tmp_path / "nowhere", "--atlas", atlas, "--output", tmp_path / "x.h5")
    assert r.returncode == 1 and "nowhere" in r.stderr, r.stderr
    r = run("fmri", "extract", "--bids", root, "--space", SPACE, "--task", "motor", "--atlas", atlas, "--output", tmp_path / "x.h5")
    assert r.returncode == 1 and "motor" in r.stderr, r.stderr
    r = run("fmri", "extract", "--bids", root, "--bold", "x.nii.gz", "--atlas", atlas, "--output", tmp_path / "x.h5")
    assert r.returncode == 1 and "exactly one" in r.stderr, r.stderr
