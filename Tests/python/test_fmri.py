"""fmri extract / connectivity / graph / spectral through the CLI, read back with h5py and compared
with the nilearn reference file (Tests/Fixtures/fmri) and numpy; the bad inputs of the fMRI issue."""
import gzip
import json
import pathlib
import shutil
import struct

import h5py
import numpy as np
import pytest

from synthetic import write_fmri_series

REPO = pathlib.Path(__file__).resolve().parents[2]
FIX = REPO / "Tests/Fixtures/fmri"
REF = FIX / "nilearn_reference.h5"
BOLD = FIX / "sub-01/func/sub-01_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"
CONF = FIX / "sub-01/func/sub-01_task-rest_desc-confounds_timeseries.tsv"
ATLAS = FIX / "atlas_labels.nii.gz"


def params():
    with h5py.File(REF) as f:
        clean = json.loads(f["meta"].attrs["clean_params"])
        config = json.loads(f["meta"].attrs["config"])
    return clean, config


def rel_to_std(a, b):
    sd = np.maximum(b.std(axis=0, ddof=1), 1e-12)
    return float(np.max(np.abs(a - b) / sd))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, bioembed):
    import subprocess
    clean, config = params()
    model = config["confound_model"]
    out = tmp_path_factory.mktemp("fmri") / "fmri.h5"
    r = subprocess.run([bioembed, "fmri", "extract", "--bold", str(BOLD), "--atlas", str(ATLAS),
                        "--strategy", ",".join(model["strategy"]), "--motion", model["motion"],
                        "--wm-csf", model["wm_csf"], "--global-signal", model["global_signal"],
                        "--high-pass", str(clean["high_pass"]), "--low-pass", str(clean["low_pass"]),
                        "--output", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def test_extract_matches_nilearn(extracted):
    with h5py.File(extracted) as f, h5py.File(REF) as ref:
        g = f["fmri"]
        assert list(g["ids"].asstr()[()]) == ["sub-01_task-rest"]
        assert np.array_equal(g["region_ids"][()], ref["sub-01/region_ids"][()])
        off = g["timeseries_offsets"][()]
        assert rel_to_std(g["raw_timeseries"][off[0]:off[1]], ref["sub-01/raw_timeseries"][()]) <= 1e-9
        assert rel_to_std(g["timeseries"][off[0]:off[1]], ref["sub-01/clean_timeseries"][()]) <= 1e-9
        assert g["t_r"][0] == pytest.approx(params()[0]["t_r"])


def test_connectivity_graph_spectral_from_the_cli(run, extracted):
    r = run("fmri", "connectivity", "--input", extracted, "--kind", "correlation,partial-correlation",
            "--window", "30", "--step", "5", "--vectorize", "--output", extracted)
    assert r.returncode == 0, r.stderr
    r = run("fmri", "graph", "--input", extracted, "--output", extracted)
    assert r.returncode == 0, r.stderr
    r = run("fmri", "spectral", "--input", extracted, "--output", extracted)
    assert r.returncode == 0, r.stderr
    assert run("validate", extracted).returncode == 0
    with h5py.File(extracted) as f, h5py.File(REF) as ref:
        g = f["fmri"]
        assert np.max(np.abs(g["connectivity/correlation"][0] - ref["fc/correlation"][0])) <= 1e-9
        assert np.max(np.abs(g["connectivity/partial_correlation"][0] - ref["fc/partial_correlation"][0])) <= 1e-9
        assert np.max(np.abs(g["connectivity/correlation_vectorized"][0] - ref["fc/correlation_vectorized_withdiag"][0])) <= 1e-9
        assert np.max(np.abs(g["dynamic/correlation"][()] - ref["dfc/sub-01_window_correlation"][()])) <= 1e-6  # float32
        assert np.array_equal(g["graph/correlation/degree"][0], ref["graph/sub-01/degree"][()].astype(np.int64))
        assert np.array_equal(g["graph/correlation/triangles"][0], ref["graph/sub-01/triangles"][()])
        # ALFF / fALFF against numpy's FFT of the same (linearly detrended) raw series.
        x = g["raw_timeseries"][()]
        t = np.arange(len(x)) - (len(x) - 1) / 2
        x = x - x.mean(0)
        x = x - np.outer(t, t @ x) / (t @ t)
        amp = 2 * np.abs(np.fft.rfft(x, axis=0)) / len(x)
        freq = np.fft.rfftfreq(len(x), d=g["t_r"][0])
        band = (freq >= 0.01) & (freq <= 0.08)
        alff = amp[band].sum(0)
        falff = alff / amp[1:].sum(0)
        assert np.max(np.abs(g["spectral/alff"][0] - alff) / alff) <= 1e-10
        assert np.max(np.abs(g["spectral/falff"][0] - falff)) <= 1e-12


def test_help_has_examples(run):
    for sub in ["extract", "connectivity", "graph", "spectral"]:
        r = run("fmri", sub, "--help")
        assert r.returncode == 0 and "Example" in r.stdout and "bioembed fmri" in r.stdout


# ---- bad inputs: each fails alone with one clear message naming the file; the rest is written ----

def nifti_parts():
    raw = gzip.decompress(BOLD.read_bytes())
    offset = int(struct.unpack("<f", raw[108:112])[0])
    return bytearray(raw[:offset]), raw[offset:]


def write_nii(path, header, data, compress=True):
    blob = bytes(header) + bytes(data)
    path.write_bytes(gzip.compress(blob, 1) if compress else blob)


def test_bad_inputs_fail_alone_with_exit_2(run, tmp_path):
    header, data = nifti_parts()
    dims = struct.unpack("<8h", header[40:56])
    nvox = dims[1] * dims[2] * dims[3]
    d = tmp_path / "bids"
    d.mkdir()
    names = {}

    def bold(name):
        p = d / f"sub-{name}_task-rest_bold.nii.gz"
        names[name] = p
        return p

    shutil.copy(BOLD, bold("good"))
    blob = gzip.compress(bytes(header) + data[: len(data) // 2])
    bold("truncated").write_bytes(blob[: len(blob) - 100])
    h = bytearray(header); h[48:50] = struct.pack("<h", dims[4] * 2)          # header says 400 volumes
    p = d / "sub-sizes_task-rest_bold.nii"; names["sizes"] = p
    write_nii(p, h, data, compress=False)
    h = bytearray(header); h[40:42] = struct.pack("<h", 3); h[48:50] = struct.pack("<h", 1)
    write_nii(bold("threed"), h, data[: nvox * 2])
    h = bytearray(header)                                                  # moved 10 m away: no overlap
    for row in range(3):
        o = 280 + 16 * row + 12
        h[o:o + 4] = struct.pack("<f", struct.unpack("<f", h[o:o + 4])[0] + 10000)
    h[268:280] = struct.pack("<3f", 1e4, 1e4, 1e4)
    write_nii(bold("faraway"), h, data)
    h = bytearray(header); h[92:96] = struct.pack("<f", 0.0)                  # pixdim[4] = 0: no TR
    write_nii(bold("notr"), h, data)
    shutil.copy(BOLD, bold("shortconf"))
    shutil.copy(BOLD, bold("missingcol"))

    lines = CONF.read_text().splitlines()
    conf = {}
    for name in names:
        c = d / f"{name}.tsv"
        if name == "shortconf":
            c.write_text("\n".join(lines[:-5]) + "\n")
        elif name == "missingcol":
            cols = lines[0].split("\t")
            keep = [i for i, n in enumerate(cols) if n != "trans_x"]
            c.write_text("\n".join("\t".join(l.split("\t")[i] for i in keep) for l in lines) + "\n")
        else:
            c.write_text("\n".join(lines) + "\n")
        conf[name] = c
    order = list(names)
    out = tmp_path / "bad.h5"
    r = run("fmri", "extract", "--bold", *[names[n] for n in order], "--confounds", *[conf[n] for n in order],
            "--atlas", ATLAS, "--strategy", "motion", "--motion", "basic", "--high-pass", "0.01", "--output", out)
    assert r.returncode == 2, r.stderr
    with h5py.File(out) as f:
        ids = list(f["fmri/ids"].asstr()[()])
        assert ids == ["sub-good_task-rest"]
        failed = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
    assert len(failed) == len(order) - 1
    expect = {
        "truncated": "truncated", "sizes": "truncated", "threed": "4D", "faraway": "overlaps the atlas",
        "notr": "repetition time", "shortconf": "rows", "missingcol": "trans_x",
    }
    for name, word in expect.items():
        message = failed[f"sub-{name}_task-rest"]
        assert word in message, message
        assert "\n" not in message
        assert str(names[name]) in message or str(conf[name]) in message, message


def test_non_finite_voxels_count_as_zero_as_nilearn_does(run, tmp_path):
    """nilearn's maskers replace NaN and ±Inf voxels (BOLD, label image, map weights) with 0 before
    averaging (`ensure_finite`); so does fmri extract, with one warning per file, and the region
    signals equal NiftiLabelsMasker's and NiftiMapsMasker's."""
    import warnings
    import nibabel as nib
    from nilearn.maskers import NiftiLabelsMasker, NiftiMapsMasker
    rng = np.random.default_rng(1)
    affine = np.diag([2.5, 2.5, 3.0, 1.0])
    labels = rng.integers(0, 6, size=(9, 10, 8)).astype(np.float32)
    labels[0] = np.nan                                          # NaN labels: background
    maps = np.abs(rng.normal(size=(9, 10, 8, 4)))
    maps[0, 0, 0, 1] = np.nan                                   # a NaN map weight
    bold = rng.normal(100, 10, size=(9, 10, 8, 30))
    bold[2, 3, 4, :] = np.nan                                   # a voxel NaN in every volume
    bold[1, 1, 1, 5], bold[5, 5, 5, 7] = np.nan, -np.inf        # single volumes
    paths = {}
    for name, data in (("labels", labels), ("maps", maps), ("bold", bold)):
        img = nib.Nifti1Image(data, affine)
        img.header["pixdim"][4] = 2.0
        paths[name] = tmp_path / f"{name}.nii.gz"
        img.to_filename(paths[name])
    for kind, masker in (("atlas", NiftiLabelsMasker(paths["labels"], t_r=2)), ("maps", NiftiMapsMasker(paths["maps"], t_r=2))):
        out = tmp_path / f"{kind}.h5"
        r = run("fmri", "extract", "--bold", paths["bold"], f"--{kind}", paths["labels" if kind == "atlas" else "maps"],
                "--standardize", "none", "--no-detrend", "--output", out)
        assert r.returncode == 0, r.stderr
        bad = ~np.isfinite(bold)
        expected = int(bad[np.nan_to_num(labels) > 0].sum()) if kind == "atlas" else int(bad.sum())
        assert f"{paths['bold']}: {expected} non-finite voxel values" in r.stderr, r.stderr
        assert "replaced with 0, as nilearn" in r.stderr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = masker.fit_transform(paths["bold"])
        with h5py.File(out) as f:
            ours = f["fmri/timeseries"][()]
        assert ours.shape == reference.shape and np.isfinite(ours).all()
        assert rel_to_std(ours, reference) <= 1e-9, kind


def test_bad_configuration_is_exit_1_and_one_line(run, tmp_path):
    r = run("fmri", "extract", "--bold", BOLD, "--atlas", ATLAS, "--strategy", "motion,bogus", "--output", tmp_path / "x.h5")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: parameter 'strategy': expected names from motion, high_pass")
    assert "scrub" in lines[0] and lines[0].endswith("found 'bogus'")
    assert not (tmp_path / "x.h5").exists()


def test_collection_stages_into_a_new_file_write_a_valid_collection(run, extracted, tmp_path):
    out = tmp_path / "fc.h5"
    r = run("fmri", "connectivity", "--input", extracted, "--kind", "covariance", "--output", out)
    assert r.returncode == 0, r.stderr
    assert run("validate", out).returncode == 0
    with h5py.File(out) as f, h5py.File(extracted) as src:
        assert list(f["fmri/ids"].asstr()[()]) == list(src["fmri/ids"].asstr()[()])
        assert f["fmri/connectivity/covariance"].shape[0] == 1
    r = run("fmri", "graph", "--input", out, "--kind", "precision", "--output", out)
    assert r.returncode == 1 and "connectivity/precision" in r.stderr


def test_a_collection_stage_that_fails_early_always_exits_1(run, extracted, tmp_path):
    # The input's SHA-256 runs on a thread of its own; a process leaving while that thread was still
    # inside libcrypto crashed (SIGSEGV/SIGABRT) in about one run of three. Exit codes must be exact.
    out = tmp_path / "fc.h5"
    assert run("fmri", "connectivity", "--input", extracted, "--kind", "covariance", "--output", out).returncode == 0
    codes = [run("fmri", "graph", "--input", out, "--kind", "precision", "--output", out).returncode for _ in range(25)]
    assert codes == [1] * 25


def test_missing_atlas_is_a_usage_error(run, tmp_path):
    missing = tmp_path / "atlas.nii.gz"
    r = run("fmri", "extract", "--bold", BOLD, "--atlas", missing, "--output", tmp_path / "x.h5")
    assert r.returncode == 1 and str(missing) in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.h5").exists()


def test_fmri_pipeline_runs_every_stage_into_one_valid_file(run, tmp_path):
    r = run("run", REPO / "pipelines/fmri.yaml", "--output-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "fmri.h5"
    assert run("validate", out).returncode == 0
    with h5py.File(out) as f, h5py.File(REF) as ref:
        g = f["fmri"]
        assert list(g["ids"].asstr()[()]) == ["sub-01"]
        for name in ["connectivity/correlation", "connectivity/partial_correlation", "dynamic/correlation",
                     "graph/correlation/degree", "spectral/alff"]:
            assert name in g, name
        assert rel_to_std(g["timeseries"][()], ref["sub-01/clean_timeseries"][()]) <= 1e-9
        assert list(f["provenance"]) == ["encode_brainmae", "fmri_connectivity", "fmri_extract", "fmri_graph", "fmri_spectral", "train_brainmae"]
        assert f["embeddings/brainmae/pooled"].shape[0] == 1


def test_a_subject_failing_in_connectivity_is_absent_from_every_later_stage(run, tmp_path):
    """One failure model: sub-02 is too short for the sliding window, so connectivity fails it; it is
    listed once in /errors and absent from connectivity, dynamic, graph and factorize (which read
    connectivity's results), whose nested ids hold the other subjects in /fmri order; spectral reads
    the time series, so it keeps sub-02; the file validates."""
    path = tmp_path / "fmri.h5"
    subjects = ["sub-01", "sub-02", "sub-03"]
    series = write_fmri_series(path, subjects, [90, 20, 70], regions=8, seed=3)
    r = run("fmri", "connectivity", "--input", path, "--kind", "correlation,covariance", "--estimator", "empirical", "--window", 30, "--step", 10, "--output", path)
    assert r.returncode == 2 and "sub-02" in r.stderr, r.stderr
    for stage in (["fmri", "graph", "--density", 0.2], ["fmri", "spectral"], ["fmri", "factorize", "--rank", 2, "--max-iterations", 5]):
        r = run(*stage, "--input", path, "--output", path)
        assert r.returncode == 0, (stage, r.stderr)
    r = run("validate", path)
    assert r.returncode == 0 and "/fmri: 3 items" in r.stdout and "/fmri/connectivity: 2 items" in r.stdout, r.stdout
    kept = ["sub-01", "sub-03"]
    with h5py.File(path) as f:
        g = f["fmri"]
        assert list(g["ids"].asstr()[()]) == subjects
        errors = list(zip(f["errors/ids"].asstr()[()], f["errors/stage"].asstr()[()]))
        assert errors == [("sub-02", "fmri_connectivity")]
        assert "30" in f["errors/message"].asstr()[0]
        for nested in ("connectivity", "dynamic", "graph/correlation", "dynamic/cp"):
            assert list(g[nested]["ids"].asstr()[()]) == kept, nested
        assert list(g["spectral/ids"].asstr()[()]) == subjects
        for k, (subject, x) in enumerate((s, series[i]) for i, s in enumerate(subjects) if s in kept):
            np.testing.assert_allclose(g["connectivity/correlation"][k], np.corrcoef(x.T), atol=1e-12)
            assert np.isfinite(g["graph/correlation/strength"][k]).all()
        off = g["dynamic/correlation_offsets"][()]
        assert list(np.diff(off)) == [(90 - 30) // 10 + 1, (70 - 30) // 10 + 1]
        np.testing.assert_allclose(g["dynamic/correlation"][off[1]], np.corrcoef(series[2][:30].T), atol=1e-6)
        assert g["graph/correlation/degree"].shape[0] == 2 and g["dynamic/cp/row_factors"].shape[0] == 2
        assert not np.isnan(g["connectivity/covariance"][()]).any()

    # validate checks the nested rules: ids in the parent's order, N counted inside the nested collection
    bad = tmp_path / "bad.h5"
    shutil.copy(path, bad)
    with h5py.File(bad, "r+") as f:
        f["fmri/connectivity/ids"][...] = np.array(["sub-03", "sub-01"], dtype=object)
        del f["fmri/graph/correlation/ids"]
        f["fmri/graph/correlation"].create_dataset("ids", data=np.array(subjects, dtype=object), dtype=h5py.string_dtype())
    r = run("validate", bad)
    assert r.returncode != 0
    assert "/fmri/connectivity: 'ids': expected the parent collection's ids in its order, found 'sub-01'" in r.stdout + r.stderr
    assert "/fmri/graph/correlation/degree: axis 0: expected N = 3, found 2" in r.stdout + r.stderr


def test_a_layout_1_file_is_upgraded_by_the_stages_that_rewrite_its_groups(run, tmp_path):
    """A bioembed/fmri/1 file (NaN-row connectivity without nested ids): rerunning connectivity and
    graph on it rewrites their groups as nested collections and the root schema says layout 2;
    graph on the old connectivity is refused, naming what to rerun."""
    path = tmp_path / "old.h5"
    write_fmri_series(path, ["sub-01", "sub-02"], [50, 50], regions=6, seed=4, schema="bioembed/fmri/1")
    with h5py.File(path, "r+") as f:
        f["fmri/connectivity/correlation"] = np.stack([np.eye(6), np.full((6, 6), np.nan)])  # layout 1: a NaN row
    r = run("fmri", "graph", "--input", path, "--output", tmp_path / "g.h5")
    assert r.returncode == 1 and "/fmri/connectivity/ids" in r.stderr and "rerun" in r.stderr, r.stderr
    for stage in (["fmri", "connectivity", "--estimator", "empirical"], ["fmri", "graph"]):
        r = run(*stage, "--input", path, "--output", path)
        assert r.returncode == 0, (stage, r.stderr)
    r = run("validate", path)
    assert r.returncode == 0 and "bioembed/fmri/2" in r.stdout, r.stdout + r.stderr
    with h5py.File(path) as f:
        assert f.attrs["schema"] == "bioembed/fmri/2"
        assert list(f["fmri/connectivity/ids"].asstr()[()]) == ["sub-01", "sub-02"]
        assert np.isfinite(f["fmri/connectivity/correlation"][()]).all()
