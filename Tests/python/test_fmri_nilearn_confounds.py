"""Confounds, sample masks and cleaning against nilearn 0.14.1 itself (in the test venv), on the real
fMRIPrep confounds files nilearn ships (copied to Tests/Fixtures/fmri/confounds): fMRIPrep 1.x with
126 aCompCor components and one non-steady-state volume, the same file without its sidecar and
without non-steady-state volumes, and fMRIPrep 21 with three. BOLD is synthetic, with as many
volumes as the confounds file has rows; the reference is `load_confounds` + `NiftiLabelsMasker`.
Tolerance: 1e-9 (float64 BOLD; the series are z-scored) and 5e-5 of each region's spread (float32
BOLD, where nilearn averages the voxels in float32)."""
import shutil

import h5py
import nibabel as nib
import numpy as np
import pytest
from nilearn.interfaces.fmriprep import load_confounds
from nilearn.maskers import NiftiLabelsMasker

from conftest import REPO

FIX = REPO / "Tests/Fixtures/fmri/confounds"
TR = 2.0

CASES = {
    # name: (load_confounds kwargs, masker kwargs, bioembed flags)
    "motion_nss_lowpass": (dict(strategy=["motion"], motion="basic"), dict(low_pass=0.1),
                           ["--strategy", "motion", "--motion", "basic", "--low-pass", "0.1"]),
    "motion_nss_cosine": (dict(strategy=["motion", "high_pass"], motion="basic"), dict(high_pass=0.01, clean_args={"filter": "cosine"}),
                          ["--strategy", "motion,high_pass", "--motion", "basic", "--high-pass", "0.01", "--filter", "cosine"]),
    "scrub_lowpass": (dict(strategy=["motion", "scrub"], motion="basic", fd_threshold="{fd}", std_dvars_threshold="{dvars}", scrub=3),
                      dict(low_pass=0.1),
                      ["--strategy", "motion,scrub", "--motion", "basic", "--fd-threshold", "{fd}", "--std-dvars-threshold", "{dvars}",
                       "--scrub", "3", "--low-pass", "0.1"]),
    "scrub0_nofilter": (dict(strategy=["wm_csf", "scrub"], wm_csf="derivatives", fd_threshold="{fd}", std_dvars_threshold="{dvars}", scrub=0),
                        dict(), ["--strategy", "wm_csf,scrub", "--wm-csf", "derivatives", "--fd-threshold", "{fd}",
                                 "--std-dvars-threshold", "{dvars}", "--scrub", "0"]),
    "scrub_default_cosine": (dict(strategy=["high_pass", "motion", "scrub"], motion="basic", fd_threshold="{loose}",
                                  std_dvars_threshold="{dvars}"),
                             dict(high_pass=0.01, clean_args={"filter": "cosine"}),
                             ["--strategy", "high_pass,motion,scrub", "--motion", "basic", "--fd-threshold", "{loose}", "--std-dvars-threshold", "{dvars}",
                              "--high-pass", "0.01", "--filter", "cosine"]),
    "compcor_separated": (dict(strategy=["high_pass", "compcor"], compcor="anat_separated", n_compcor=2), dict(),
                          ["--strategy", "high_pass,compcor", "--compcor", "anat_separated", "--n-compcor", "2"]),
    "compcor_temporal_anat": (dict(strategy=["high_pass", "compcor", "motion"], motion="basic", compcor="temporal_anat_separated",
                                   n_compcor=1, demean=False), dict(),
                              ["--strategy", "high_pass,compcor,motion", "--motion", "basic", "--compcor", "temporal_anat_separated",
                               "--n-compcor", "1", "--no-demean"]),
    # ICA-AROMA basic: the aroma_motion_* noise components (fMRIPrep 1.x files; fMRIPrep 21 has none: refused)
    "aroma_basic": (dict(strategy=["high_pass", "wm_csf", "ica_aroma"], ica_aroma="basic"), dict(),
                    ["--strategy", "high_pass,wm_csf,ica_aroma", "--ica-aroma", "basic"]),
}
FILES = ["fmriprep1", "fmriprep1_no_nonsteady", "fmriprep21"]
# scrub thresholds that censor a few of the 30 volumes of each file (their FD and DVARS scales differ)
# (fd, std_dvars, a looser fd for nilearn's default segment rule, which censors more)
THRESHOLDS = {"fmriprep1": (0.15, 1.2, 0.19), "fmriprep1_no_nonsteady": (0.15, 1.2, 0.19), "fmriprep21": (3.3, 3.5, 5.0)}


def synthetic_run(folder, volumes, dtype):
    rng = np.random.default_rng(volumes)
    shape = (6, 5, 4)
    atlas = np.zeros(shape, dtype=np.int16)
    atlas[:3, :, :2], atlas[3:, :, :2], atlas[:3, :, 2:], atlas[3:, :3, 2:] = 1, 2, 3, 7
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    t = np.arange(volumes) * TR
    data = 100 + rng.normal(size=shape + (volumes,))
    for label, f in [(1, 0.02), (2, 0.05), (3, 0.08), (7, 0.11)]:
        data[atlas == label] += 5 * np.sin(2 * np.pi * f * t) + 0.05 * t
    img = nib.Nifti1Image(data.astype(dtype), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = TR
    bold = folder / "sub-01_task-rest_desc-preproc_bold.nii.gz"
    nib.save(img, bold)
    atlas_path = folder / "atlas.nii.gz"
    nib.save(nib.Nifti1Image(atlas, affine), atlas_path)
    return bold, atlas_path


@pytest.fixture(scope="module", params=["float64", "float32"])
def runs(request, tmp_path_factory):
    made = {}
    for name in FILES:
        folder = tmp_path_factory.mktemp(f"{name}_{request.param}")
        tsv = folder / "sub-01_task-rest_desc-confounds_timeseries.tsv"
        shutil.copy(FIX / f"{name}.tsv", tsv)
        if (FIX / f"{name}.json").exists():
            shutil.copy(FIX / f"{name}.json", tsv.with_suffix(".json"))
        volumes = sum(1 for _ in open(tsv)) - 1
        bold, atlas = synthetic_run(folder, volumes, request.param)
        made[name] = (bold, atlas, tsv)
    return request.param, made


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", FILES)
def test_cleaned_time_series_equal_nilearns(run, runs, case, name, tmp_path):
    dtype, made = runs
    bold, atlas, tsv = made[name]
    conf_kwargs, masker_kwargs, flags = CASES[case]
    fd, dvars, loose = THRESHOLDS[name]
    conf_kwargs = {k: float(v.format(fd=fd, dvars=dvars, loose=loose)) if isinstance(v, str) and "{" in v else v
                   for k, v in conf_kwargs.items()}
    flags = [f.format(fd=fd, dvars=dvars, loose=loose) for f in flags]
    try:
        confounds, sample_mask = load_confounds(str(bold), **conf_kwargs)
    except Exception as error:  # nilearn refuses: so must we (the run fails, naming the file)
        r = run("fmri", "extract", "--bold", bold, "--atlas", atlas, "--confounds", tsv, *flags, "--output", tmp_path / "o.h5")
        assert r.returncode in (1, 2, 3), (error, r.stderr)
        assert str(tsv) in r.stderr, r.stderr
        return
    out = tmp_path / "o.h5"
    r = run("fmri", "extract", "--bold", bold, "--atlas", atlas, "--confounds", tsv, *flags, "--output", out)
    assert sample_mask is None or len(sample_mask) > confounds.shape[1] + 5, "a case without degrees of freedom compares noise"
    masker = NiftiLabelsMasker(labels_img=str(atlas), standardize="zscore_sample", detrend=True, t_r=TR, **masker_kwargs)
    expected = masker.fit_transform(str(bold), confounds=confounds, sample_mask=sample_mask)
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f:
        got = f["fmri/timeseries"][()]
        kept = f["fmri/volume_index"][()]
    volumes = len(confounds)
    np.testing.assert_array_equal(kept, np.arange(volumes) if sample_mask is None else sample_mask)
    assert got.shape == expected.shape
    if dtype == "float64":
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    else:  # nilearn averages float32 voxels in float32; BioEmbed in float64
        scale = np.maximum(expected.std(axis=0), 1e-12)
        assert np.max(np.abs(got - expected) / scale) < 5e-5


@pytest.mark.parametrize("name", ["fmriprep1", "fmriprep21"])
def test_ica_aroma_full_reads_the_denoised_image_and_refuses_others(run, runs, name, tmp_path):
    """ica_aroma full (nilearn's default for the strategy): no AROMA regressors, and the input must be
    fMRIPrep's *_desc-smoothAROMAnonaggr_bold image; any other image is refused, as nilearn refuses it."""
    dtype, made = runs
    bold, atlas, tsv = made[name]
    aroma = bold.with_name("sub-01_task-rest_desc-smoothAROMAnonaggr_bold.nii.gz")
    if not aroma.exists():
        shutil.copy(bold, aroma)
    kwargs = dict(strategy=["high_pass", "wm_csf", "ica_aroma"], ica_aroma="full")
    flags = ["--strategy", "high_pass,wm_csf,ica_aroma", "--ica-aroma", "full"]
    with pytest.raises(ValueError, match="smoothAROMAnonaggr"):
        load_confounds(str(bold), **kwargs)
    r = run("fmri", "extract", "--bold", bold, "--atlas", atlas, "--confounds", tsv, *flags, "--output", tmp_path / "refused.h5")
    assert r.returncode != 0 and "smoothAROMAnonaggr" in r.stderr and str(bold) in r.stderr, r.stderr
    confounds, sample_mask = load_confounds(str(aroma), **kwargs)
    assert not any("aroma" in c for c in confounds.columns)
    out = tmp_path / "o.h5"
    r = run("fmri", "extract", "--bold", aroma, "--atlas", atlas, "--confounds", tsv, *flags, "--output", out)
    assert r.returncode == 0, r.stderr
    masker = NiftiLabelsMasker(labels_img=str(atlas), standardize="zscore_sample", detrend=True, t_r=TR)
    expected = masker.fit_transform(str(aroma), confounds=confounds, sample_mask=sample_mask)
    with h5py.File(out) as f:
        got = f["fmri/timeseries"][()]
    assert got.shape == expected.shape
    if dtype == "float64":
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    else:
        assert np.max(np.abs(got - expected) / np.maximum(expected.std(axis=0), 1e-12)) < 5e-5
