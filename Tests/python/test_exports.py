"""export netcdf (read back with netCDF4 and xarray) and export notebook (executed headless)."""
import pytest
import json

import h5py
import nbformat
import numpy as np
from nbclient import NotebookClient

from conftest import REPO
from synthetic import write_all_collections


def test_synthetic_file_in_every_layout_validates(run, tmp_path):
    path = tmp_path / "all.h5"
    write_all_collections(path)
    r = run("validate", path)
    assert r.returncode == 0, r.stderr
    for collection in ("/fmri: 3 items", "/proteins: 2 items", "/molecules: 2 items", "/embeddings/pst: 2 items"):
        assert collection in r.stdout


def test_export_netcdf_named_dimensions(run, tmp_path):
    import netCDF4
    import xarray

    path = tmp_path / "all.h5"
    write_all_collections(path)
    out = tmp_path / "fmri.nc"
    r = run("export", "netcdf", path, "--output", out)
    assert r.returncode == 0, r.stderr
    with netCDF4.Dataset(out) as nc:
        assert {k: len(v) for k, v in nc.dimensions.items()} == {"subject": 3, "time": 25, "region": 6, "region_j": 6}
        assert nc.variables["timeseries"].dimensions == ("subject", "time", "region")
    ds = xarray.open_dataset(out)
    with h5py.File(path, "r") as f:
        offsets = f["fmri/timeseries_offsets"][()]
        series = f["fmri/timeseries"][()]
        np.testing.assert_array_equal(ds["timeseries"].sel(subject="sub-02").values[:25], series[offsets[1]:offsets[2]])
        assert np.isnan(ds["timeseries"].sel(subject="sub-01").values[20:]).all()
        # connectivity is a nested collection: sub-02 is absent there, so its matrices are NaN here
        conn = f["fmri/connectivity/correlation"][()]
        np.testing.assert_array_equal(ds["connectivity_correlation"].sel(subject="sub-01").values, conn[0])
        np.testing.assert_array_equal(ds["connectivity_correlation"].sel(subject="sub-03").values, conn[1])
        assert np.isnan(ds["connectivity_correlation"].sel(subject="sub-02").values).all()
        assert "connectivity_ids" not in ds
    assert list(ds["region"].values) == [1, 2, 3, 5, 8, 13]
    assert list(ds["n_time"].values) == [20, 25, 18]
    ds.close()
    no_fmri = run("export", "netcdf", REPO / "Tests/Fixtures/README.md", "--output", tmp_path / "x.nc")
    assert no_fmri.returncode == 1 and "not an HDF5 file" in no_fmri.stderr


def execute(notebook_path):
    nb = nbformat.read(notebook_path, as_version=4)
    nbformat.validate(nb)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    return nb, images


def test_export_notebook_runs_headless_and_draws_every_section(run, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_all_collections(run_dir / "all.h5")
    demo = run("run", REPO / "pipelines/demo.yaml", "--output-dir", run_dir, "--quiet")
    assert demo.returncode == 0, demo.stderr
    notebook = run_dir / "report.ipynb"
    r = run("export", "notebook", run_dir, "--output", notebook)
    assert r.returncode == 0, r.stderr
    sections = r.stderr.strip().rsplit("(", 1)[1].rstrip(")").split(", ")
    assert {"fMRI", "Proteins", "Molecules", "Embeddings", "Input files"} <= set(sections)
    raw = json.loads(notebook.read_text())
    assert raw["nbformat"] == 4 and raw["nbformat_minor"] == 5
    nb, images = execute(notebook)
    assert len(images) == len(sections)
    figures = sorted(p.name for p in (run_dir / "figures").iterdir())
    assert len(figures) == len(sections)
    assert {name.rsplit("_", 1)[0] for name in figures} == {"fmri", "proteins", "molecules", "embeddings", "files"}
    assert all((run_dir / "figures" / name).stat().st_size > 1000 for name in figures)


def test_export_notebook_errors(run, tmp_path):
    r = run("export", "notebook", tmp_path, "--output", tmp_path / "r.ipynb")
    assert r.returncode == 1 and "no .h5 files" in r.stderr


@pytest.mark.parametrize("name", ['two\nlines.h5', 'quote"back\\slash.h5', "tab\tand\u0085next.h5", "{{FILE}}.h5"])
def test_export_notebook_with_hostile_file_names_still_runs(run, tmp_path, name):
    folder = tmp_path / "run"
    folder.mkdir()
    r = run("run", REPO / "pipelines/proteins.yaml", "--output-dir", tmp_path / "p", "--quiet")
    assert r.returncode == 0, r.stderr
    (folder / name).write_bytes((tmp_path / "p/proteins.h5").read_bytes())
    notebook = folder / "report.ipynb"
    r = run("export", "notebook", folder, "--output", notebook)
    assert r.returncode == 0, r.stderr
    nb, images = execute(notebook)
    assert len(images) >= 1
