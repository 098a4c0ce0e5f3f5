"""`bioembed fmri factorize` against tensorly 0.10.0's `non_negative_parafac_hals` from the same
initial factors (SplitMix64, re-implemented below): factors within 1e-6 relative after the same
iterations, per subject and over the group, and the same stopping iteration with tensorly's default
tolerance; the windows come from `bioembed fmri connectivity --window`."""
import h5py
import numpy as np
import pytest

tensorly = pytest.importorskip("tensorly")
from tensorly.cp_tensor import CPTensor  # noqa: E402
from tensorly.decomposition import non_negative_parafac_hals  # noqa: E402

MASK = (1 << 64) - 1


def initial_factors(sizes, rank, seed):
    """The stage's initialisation: SplitMix64 from `seed`, u = (next >> 11) · 2⁻⁵³, mode by mode."""
    state = seed
    out = []
    for size in sizes:
        values = []
        for _ in range(size * rank):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            z ^= z >> 31
            values.append((z >> 11) * 2.0 ** -53)
        out.append(np.array(values).reshape(size, rank))
    return out


@pytest.fixture(scope="module")
def windows(tmp_path_factory, bioembed):
    import subprocess
    path = tmp_path_factory.mktemp("cp") / "fmri.h5"
    rng = np.random.default_rng(5)
    subjects, regions, lengths = ["sub-01", "sub-02", "sub-03"], 12, [80, 64, 72]
    with h5py.File(path, "w") as f:
        f.attrs.update({"bioembed_version": "0.1.0", "schema": "bioembed/fmri/2", "created_utc": "2026-12-05T00:00:00Z", "command": "test"})
        g = f.create_group("fmri")
        g.create_dataset("ids", data=np.array(subjects, dtype=object), dtype=h5py.string_dtype())
        g["t_r"] = np.full(3, 2.0)
        g["region_ids"] = np.arange(1, regions + 1, dtype=np.int64)
        g["timeseries_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        # slowly drifting mixtures, so the windows differ and the components are not trivial
        series = []
        for n in lengths:
            mix = rng.standard_normal((4, regions))
            drive = np.cumsum(rng.standard_normal((n, 4)), axis=0) + rng.standard_normal((n, 4))
            series.append(drive @ mix + 0.5 * rng.standard_normal((n, regions)))
        g["timeseries"] = np.concatenate(series)
    r = subprocess.run([bioembed, "fmri", "connectivity", "--input", path, "--window", "16", "--step", "4", "--estimator", "empirical",
                        "--output", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return path


def _tensorly(tensor, rank, init, n_iter, tol):
    cp, errors = non_negative_parafac_hals(tensor, rank, n_iter_max=n_iter, init=CPTensor((np.ones(rank), init)), tol=tol, return_errors=True)
    return cp.factors, errors


def _prepared(x):
    x = np.where(x < 0, 0.0, x.astype(np.float64))  # values: positive
    for w in x:
        np.fill_diagonal(w, 0.0)  # diagonal: zero
    return x


def _relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("scope", ["subject", "group"])
def test_factors_equal_tensorly_after_the_same_iterations(run, windows, tmp_path, scope):
    out = tmp_path / "cp.h5"
    rank, iters, seed = 4, 40, 11
    r = run("fmri", "factorize", "--input", windows, "--rank", rank, "--scope", scope, "--max-iterations", iters, "--tolerance", 0,
            "--seed", seed, "--output", out)
    assert r.returncode == 0, r.stderr
    with h5py.File(windows) as f, h5py.File(out) as o:
        x, off = f["fmri/dynamic/correlation"][()], f["fmri/dynamic/correlation_offsets"][()]
        cp = o["fmri/dynamic/cp"]
        fits = [(0, len(x))] if scope == "group" else list(zip(off[:-1], off[1:]))
        assert cp["row_factors"].shape == (len(fits), x.shape[1], rank)
        expected_ids = ["group"] if scope == "group" else ["sub-01", "sub-02", "sub-03"]
        assert [i.decode() for i in cp["ids"][()]] == expected_ids
        assert list(cp["window_offsets"][()]) == [0] + list(np.cumsum([b - a for a, b in fits]))
        for k, (a, b) in enumerate(fits):
            tensor = _prepared(x[a:b])
            init = initial_factors(tensor.shape, rank, seed + k)
            factors, errors = _tensorly(tensor, rank, init, iters, 0)
            w = cp["window_offsets"][k:k + 2]
            ours = [cp["window_factors"][w[0]:w[1]], cp["row_factors"][k], cp["column_factors"][k]]
            for mine, ref in zip(ours, factors):
                assert _relative(mine, ref) <= 1e-6, (scope, k)
            assert cp["iterations"][k] == iters
            # tensorly records errors only with a tolerance; ours is its formula on the final factors
            full = np.einsum("ir,jr,kr->ijk", *factors)
            assert cp["reconstruction_error"][k] == pytest.approx(np.linalg.norm(tensor - full) / np.linalg.norm(tensor), rel=1e-6)
        assert cp.attrs["scope"] == scope and cp.attrs["rank"] == rank
    assert run("validate", out).returncode == 0


def test_default_tolerance_stops_where_tensorly_stops(run, windows, tmp_path):
    out = tmp_path / "cp.h5"
    r = run("fmri", "factorize", "--input", windows, "--rank", 3, "--output", out)
    assert r.returncode == 0, r.stderr
    with h5py.File(windows) as f, h5py.File(out) as o:
        x, off = f["fmri/dynamic/correlation"][()], f["fmri/dynamic/correlation_offsets"][()]
        cp = o["fmri/dynamic/cp"]
        for k in range(len(off) - 1):
            tensor = _prepared(x[off[k]:off[k + 1]])
            factors, errors = _tensorly(tensor, 3, initial_factors(tensor.shape, 3, k), 100, 1e-7)
            assert cp["iterations"][k] == len(errors)
            assert cp["reconstruction_error"][k] == pytest.approx(errors[-1], rel=1e-6)
            assert _relative(cp["row_factors"][k], factors[1]) <= 1e-6


def test_missing_windows_and_bad_rank_are_clear_errors(run, windows, tmp_path):
    with h5py.File(windows) as f, h5py.File(tmp_path / "plain.h5", "w") as o:
        f.copy("fmri", o)
        o.attrs.update(dict(f.attrs))
        del o["fmri/dynamic"]
    r = run("fmri", "factorize", "--input", tmp_path / "plain.h5", "--output", tmp_path / "x.h5")
    assert r.returncode != 0 and "dynamic/correlation" in r.stderr and "--window" in r.stderr
    r = run("fmri", "factorize", "--input", windows, "--rank", 0, "--output", tmp_path / "y.h5")
    assert r.returncode != 0 and "rank" in r.stderr


def test_a_subject_with_nan_windows_fails_alone(run, windows, tmp_path):
    bad = tmp_path / "bad.h5"
    with h5py.File(windows) as f, h5py.File(bad, "w") as o:
        for k, v in f.attrs.items():
            o.attrs[k] = v
        f.copy("fmri", o)
        off = o["fmri/dynamic/correlation_offsets"][()]
        x = o["fmri/dynamic/correlation"]
        x[off[1]] = np.full(x.shape[1:], np.nan, dtype=np.float32)  # sub-02's first window
    out = tmp_path / "cp.h5"
    r = run("fmri", "factorize", "--input", bad, "--rank", 3, "--output", out)
    assert r.returncode == 2, r.stderr
    with h5py.File(out) as o:
        cp = o["fmri/dynamic/cp"]
        assert [m.decode() for m in o["errors/ids"][()]] == ["sub-02"] and "NaN" in o["errors/message"][0].decode()
        # one failure model: the failed subject is absent from the factorization, listed once in /errors
        assert [i.decode() for i in cp["ids"][()]] == ["sub-01", "sub-03"]
        assert [i.decode() for i in o["fmri/ids"][()]] == ["sub-01", "sub-02", "sub-03"]
        assert cp["row_factors"].shape[0] == 2 and np.isfinite(cp["row_factors"][()]).all()
        windows_per = np.diff(off)
        assert list(cp["window_offsets"][()]) == [0, windows_per[0], windows_per[0] + windows_per[2]]
        assert cp["window_factors"].shape[0] == windows_per[0] + windows_per[2]
    assert run("validate", out).returncode == 0


@pytest.mark.parametrize("symmetric", [True, False])
def test_wider_tensors_and_ranks_over_one_register_tile(run, windows, tmp_path, symmetric):
    """45 regions (column tiles of 16, 8 and single columns) and rank 13 (factor tiles of 12 and 1),
    on symmetric slices (the transposed kernel serves every mode) and on asymmetric ones (the row
    kernel serves the window and row modes)."""
    rng = np.random.default_rng(9)
    regions, counts, rank, iters = 45, [7, 5], 13, 25
    x = rng.random((sum(counts), regions, regions)).astype(np.float32)
    if symmetric:
        x = (x + x.transpose(0, 2, 1)) / 2
    path = tmp_path / "wide.h5"
    with h5py.File(windows) as f, h5py.File(path, "w") as o:
        for k, v in f.attrs.items():
            o.attrs[k] = v
        g = o.create_group("fmri")
        g.create_dataset("ids", data=np.array(["sub-a", "sub-b"], dtype=object), dtype=h5py.string_dtype())
        g["t_r"] = np.full(2, 2.0)
        g["region_ids"] = np.arange(1, regions + 1, dtype=np.int64)
        g["timeseries_offsets"] = np.array([0, 30, 60], dtype=np.int64)
        g["timeseries"] = rng.standard_normal((60, regions))
        d = g.create_group("dynamic")
        d.attrs.update({"window": 10, "step": 4})
        d.create_dataset("ids", data=np.array(["sub-a", "sub-b"], dtype=object), dtype=h5py.string_dtype())
        d["correlation"] = x
        d["correlation"].attrs.update({"window": 10, "step": 4})
        d["correlation_offsets"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out = tmp_path / "cp.h5"
    r = run("fmri", "factorize", "--input", path, "--rank", rank, "--max-iterations", iters, "--tolerance", 0, "--seed", 3, "--output", out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as o:
        cp = o["fmri/dynamic/cp"]
        for k, (a, b) in enumerate(zip([0, counts[0]], [counts[0], sum(counts)])):
            tensor = _prepared(x[a:b])
            factors, _ = _tensorly(tensor, rank, initial_factors(tensor.shape, rank, 3 + k), iters, 0)
            ours = [cp["window_factors"][a:b], cp["row_factors"][k], cp["column_factors"][k]]
            for mine, ref in zip(ours, factors):
                assert _relative(mine, ref) <= 1e-6, (symmetric, k)


def test_one_thread_or_two_give_the_same_factors(run, windows, tmp_path):
    """The passes over the tensor are cut into a fixed number of parts whatever --threads says, and
    the weighted sums are added part by part: one core or two, the same factors bit for bit."""
    outputs = []
    for threads in (1, 2):
        out = tmp_path / f"cp-{threads}.h5"
        r = run("fmri", "factorize", "--input", windows, "--rank", 4, "--scope", "group", "--max-iterations", 30, "--tolerance", 0,
                "--threads", threads, "--output", out)
        assert r.returncode == 0, r.stderr
        outputs.append(out)
    with h5py.File(outputs[0]) as a, h5py.File(outputs[1]) as b:
        for name in ("window_factors", "row_factors", "column_factors", "reconstruction_error"):
            assert np.array_equal(a["fmri/dynamic/cp"][name][()], b["fmri/dynamic/cp"][name][()]), name
