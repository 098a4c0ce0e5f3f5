"""Cluster runs on a real SLURM (munged + slurmctld + slurmd on localhost, started here)."""
import os
import shutil
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import REPO
from test_resume import assert_same, collection


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if shutil.which("slurmctld") is None:
        pytest.fail("SLURM is not installed: make test installs slurm-wlm and munge")
    folder = tmp_path_factory.mktemp("slurm")
    start = subprocess.run([REPO / "scripts/slurm-local.sh", "start", folder], capture_output=True, text=True)
    assert start.returncode == 0, start.stderr
    conf = start.stdout.strip().split("=", 1)[1]
    os.environ["SLURM_CONF"] = conf
    yield conf
    subprocess.run([REPO / "scripts/slurm-local.sh", "stop", folder], capture_output=True)
    os.environ.pop("SLURM_CONF", None)


def wait_for(run, run_dir, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = run("status", run_dir)
        if "merge: done" in status.stdout and " running" in status.stdout:
            lines = [l for l in status.stdout.splitlines() if l.startswith("stage ")]
            if all(", 0 running, 0 pending" in l for l in lines):
                return status.stdout
        time.sleep(1)
    raise AssertionError(f"the run did not finish in {timeout} s:\n{run('status', run_dir).stdout}")


def make_dataset(folder, count=24):
    data = folder / "in put 'quoted' $dir"
    data.mkdir(parents=True)
    rows = ["id\tpath"]
    rng = np.random.default_rng(1)
    for k in range(count):
        name = f"item {k:02d}.bin"
        (data / name).write_bytes(rng.bytes(2000 + 17 * k))
        rows.append(f"{name}\t{data.name}/{name}")
    (folder / "manifest.tsv").write_text("\n".join(rows) + "\n")
    pipeline = folder / "pipe line.yaml"
    pipeline.write_text("name: cluster\nmanifest: manifest.tsv\noutput_dir: run 'one'\n"
                        "slurm: {time: '10:00', throttle: 3}\n"
                        "stages:\n  - stage: checksum\n    output: files.h5\n    with: {block_size: 700}\n"
                        "    resources: {cpus_per_task: 1}\n")
    return pipeline, data


def test_dry_run_prints_quoted_scripts(run, tmp_path):
    pipeline, _ = make_dataset(tmp_path)
    r = run("submit", pipeline, "--shards", 4, "--dry-run", "--partition", "debug", "--mem", "1G")
    assert r.returncode == 0, r.stderr
    assert "--array=0-3%3" in r.stdout and "#SBATCH --time=10:00" in r.stdout and "#SBATCH --partition=debug" in r.stdout
    assert "#SBATCH --mem=1G" in r.stdout and "#SBATCH --cpus-per-task=1" in r.stdout
    assert "'" + str(tmp_path / "run '\\''one'\\''") + "'" in r.stdout  # a quote inside a path survives
    assert "HDF5_USE_FILE_LOCKING=FALSE" in r.stdout and 'OPENBLAS_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"' in r.stdout
    assert "--dependency=afterany:" in r.stdout
    assert not list((tmp_path / "run 'one'").glob("*.h5"))


def test_submit_merge_equals_local_run_then_fix_and_resume(slurm, run, tmp_path):
    pipeline, data = make_dataset(tmp_path)
    local = run("run", pipeline, "--output-dir", tmp_path / "local", "--quiet")
    assert local.returncode == 0, local.stderr
    run_dir = tmp_path / "run 'one'"

    # A bad input in one shard: item 05 is shard 1 of 4.
    broken = data / "item 05.bin"
    original = broken.read_bytes()
    broken.unlink()
    r = run("submit", pipeline, "--shards", 4)
    assert r.returncode == 0, r.stderr
    status = wait_for(run, run_dir)
    assert "shards 3 done, 1 with failed items" in status
    assert "shards with failed items: 1" in status
    assert "failed item 05.bin (shard 1):" in status and "no such file" in status
    merged = collection(run_dir / "files.h5")
    assert len(merged["ids"]) == 23 and merged["errors"] == ["item 05.bin"]
    assert "to rerun shards 1" in status

    # Fix the input; only shard 1 runs again, then the merge.
    broken.write_bytes(original)
    before = {i: (run_dir / f"files.shard-{i}-of-4.h5").stat().st_mtime_ns for i in range(4)}
    again = run("submit", "--resume", run_dir)
    assert again.returncode == 0, again.stderr
    assert "resubmitted shards 1 " in again.stderr
    status = wait_for(run, run_dir)
    assert "shards 4 done, 0 with failed items" in status
    after = {i: (run_dir / f"files.shard-{i}-of-4.h5").stat().st_mtime_ns for i in range(4)}
    assert [i for i in range(4) if before[i] != after[i]] == [1]
    assert_same(collection(run_dir / "files.h5"), collection(tmp_path / "local/files.h5"))
    with h5py.File(run_dir / "files.h5", "r") as f:
        assert f.attrs["merged_shards"] == 4 and list(f.attrs["missing_shards"]) == []
    assert run("validate", run_dir / "files.h5").returncode == 0
    nothing = run("submit", "--resume", run_dir)
    assert "nothing to resubmit" in nothing.stderr


def test_merge_reports_missing_shards(run, tmp_path):
    pipeline, _ = make_dataset(tmp_path)
    for shard in (0, 2):
        assert run("run", pipeline, "--shard", f"{shard}/3", "--quiet").returncode == 0
    r = run("merge", pipeline, "--shards", 3)
    assert r.returncode == 2 and "missing shards 1" in r.stderr
    with h5py.File(tmp_path / "run 'one'/files.h5", "r") as f:
        assert list(f.attrs["missing_shards"]) == [1] and len(f["files/ids"]) == 16
    # a shard file that exists but is not HDF5 is corrupt, not missing, and says why
    (tmp_path / "run 'one'/files.shard-2-of-3.h5").write_bytes(b"not an HDF5 file" * 100)
    r = run("merge", pipeline, "--shards", 3)
    assert r.returncode == 2 and "missing shards 1" in r.stderr and "corrupt shards 2" in r.stderr
    assert "shard 2 of" in r.stderr and "is corrupt" in r.stderr
    with h5py.File(tmp_path / "run 'one'/files.h5", "r") as f:
        assert list(f.attrs["missing_shards"]) == [1] and list(f.attrs["corrupt_shards"]) == [2]


def all_collections(path):
    """Every dataset below every collection group (and /errors ids), for equality checks."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.startswith("provenance"):
                data = obj[()]
                out[name] = list(obj.asstr()[()]) if h5py.check_string_dtype(obj.dtype) else data
        f.visititems(visit)
    return out


@pytest.mark.parametrize("modality", ["proteins", "molecules"])
def test_protein_and_molecule_pipelines_on_slurm_equal_a_local_run(slurm, run, tmp_path, modality):
    fixtures = REPO / "Tests/Fixtures/encoders"
    stages = {
        "proteins": ("protein_tokenize", "proteins.h5", "encode_pst", fixtures / "pst/weights.safetensors", fixtures / "pst/config.json"),
        "molecules": ("molecule_tokenize", "molecules.h5", "encode_molt5", fixtures / "molt5/weights.safetensors", fixtures / "molt5/config.json"),
    }[modality]
    tokenize, output, encode, weights, config = stages
    pipeline = tmp_path / f"{modality}.yaml"
    pipeline.write_text(
        f"name: {modality}\nmanifest: {REPO / 'examples' / modality / 'manifest.tsv'}\noutput_dir: cluster run\n"
        f"stages:\n  - stage: {tokenize}\n    output: {output}\n"
        f"  - stage: {encode}\n    with: {{weights: '{weights}', config: '{config}'}}\n")
    local = run("run", pipeline, "--output-dir", tmp_path / "local", "--quiet")
    assert local.returncode == 0, local.stderr
    r = run("submit", pipeline, "--shards", 4)
    assert r.returncode == 0, r.stderr
    status = wait_for(run, tmp_path / "cluster run")
    assert f"stage {tokenize}: shards 4 done" in status and f"stage {encode}: shards 4 done" in status
    merged, reference = all_collections(tmp_path / "cluster run" / output), all_collections(tmp_path / "local" / output)
    assert merged.keys() == reference.keys()
    for name in reference:
        if isinstance(reference[name], list):
            assert merged[name] == reference[name], name
        elif name.startswith("embeddings/") and reference[name].dtype == np.float32:
            # Encoder outputs depend on the batch a chain lands in (BLAS blocking): float32 rounding.
            np.testing.assert_allclose(merged[name], reference[name], rtol=1e-4, atol=1e-5, err_msg=name)
        else:
            np.testing.assert_array_equal(merged[name], reference[name], err_msg=name)
    assert run("validate", tmp_path / "cluster run" / output).returncode == 0


def test_virtual_index_over_shards_reads_like_the_merged_file(run, tmp_path):
    """merge --virtual: HDF5 virtual datasets over the shard files, readable from anywhere by h5py."""
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(f"name: v\nmanifest: {REPO / 'examples/proteins/manifest.tsv'}\noutput_dir: run\n"
                        "stages:\n  - stage: protein_tokenize\n    output: proteins.h5\n")
    for shard in range(3):
        assert run("run", pipeline, "--shard", f"{shard}/3", "--quiet").returncode == 0
    assert run("merge", pipeline, "--shards", 3).returncode == 0
    r = run("merge", pipeline, "--shards", 3, "--virtual")
    assert r.returncode == 0, r.stderr
    index, merged = tmp_path / "run/proteins.virtual.h5", tmp_path / "run/proteins.h5"
    moved = tmp_path / "elsewhere"
    (tmp_path / "run").rename(moved)  # the index finds its shards next to itself
    with h5py.File(moved / "proteins.virtual.h5", "r") as v, h5py.File(moved / "proteins.h5", "r") as m:
        assert v["proteins/ca"].is_virtual and v.attrs["virtual_shards"] == 3
        v_ids, m_ids = list(v["proteins/ids"].asstr()[()]), list(m["proteins/ids"].asstr()[()])
        assert sorted(v_ids) == sorted(m_ids)
        v_off, m_off = v["proteins/residue_offsets"][()], m["proteins/residue_offsets"][()]
        for k, chain in enumerate(m_ids):
            j = v_ids.index(chain)
            np.testing.assert_array_equal(v["proteins/ca"][v_off[j]:v_off[j + 1]], m["proteins/ca"][m_off[k]:m_off[k + 1]])
            np.testing.assert_array_equal(v["proteins/residue_number"][v_off[j]:v_off[j + 1]],
                                          m["proteins/residue_number"][m_off[k]:m_off[k + 1]])
            assert v["proteins/tokens_3di"].asstr()[j] == m["proteins/tokens_3di"].asstr()[k]
    assert run("validate", moved / "proteins.virtual.h5").returncode == 0


def assert_same_outputs(merged_dir, local_dir, names):
    """Integers and strings exactly; floats to 1e-5 of each array's scale (an encoder's batches differ by shard)."""
    for output in names:
        merged, reference = all_collections(merged_dir / output), all_collections(local_dir / output)
        assert merged.keys() == reference.keys(), (output, sorted(set(merged) ^ set(reference)))
        for name in reference:
            if isinstance(reference[name], list):
                assert merged[name] == reference[name], (output, name)
            elif reference[name].dtype.kind == "f":
                scale = max(1.0, float(np.nanmax(np.abs(reference[name])))) if reference[name].size else 1.0
                np.testing.assert_allclose(merged[name], reference[name], rtol=0, atol=1e-5 * scale, err_msg=f"{output}:{name}")
            else:
                np.testing.assert_array_equal(merged[name], reference[name], err_msg=f"{output}:{name}")


@pytest.mark.parametrize("shards", [3, 5])
def test_demo_pipeline_on_slurm_equals_a_local_run(slurm, run, tmp_path, shards):
    """Three independent branches, a reduce stage (training) run once, more shards than some
    modalities have items: the merged files equal a local run's, every stage complete."""
    pipeline = REPO / "pipelines/demo.yaml"
    local = run("run", pipeline, "--output-dir", tmp_path / "local", "--quiet")
    assert local.returncode == 0, local.stderr
    run_dir = tmp_path / "cluster"
    r = run("submit", pipeline, "--shards", shards, "--output-dir", run_dir)
    assert r.returncode == 0, r.stderr
    status = wait_for(run, run_dir, timeout=240)
    assert "missing" not in status.replace(", 0 missing", "") and "failed" not in status.replace(" 0 failed", "").replace("0 with failed", "")
    assert "stage train_brainmae: reduce, one job over all shards: done" in status
    assert len(list((run_dir / "logs/train_brainmae").glob("*.out"))) == 1  # trained once
    for stage in ("checksum", "protein_tokenize", "encode_pst", "molecule_tokenize", "encode_molt5", "fmri_extract", "encode_brainmae"):
        assert f"stage {stage}: shards {shards} done, 0 with failed items" in status, status
    outputs = ["files.h5", "fmri.h5", "proteins.h5", "molecules.h5"]
    assert_same_outputs(run_dir, tmp_path / "local", outputs)
    for output in outputs:
        assert run("validate", run_dir / output).returncode == 0


def test_independent_branches_do_not_fail_together(run, tmp_path):
    """A stage that fails as a whole stops its own branch only, locally."""
    examples = REPO / "examples"
    pipeline = tmp_path / "two.yaml"
    pipeline.write_text(
        f"manifest: {examples / 'manifest.tsv'}\noutput_dir: {tmp_path / 'out'}\nstages:\n"
        f"  - stage: molecule_tokenize\n    manifest: {examples / 'molecules/manifest.tsv'}\n    output: molecules.h5\n"
        f"  - stage: encode_molt5\n    with: {{weights: {tmp_path / 'missing.safetensors'}, config: {tmp_path / 'missing.json'}}}\n"
        f"  - stage: protein_tokenize\n    manifest: {examples / 'proteins/manifest.tsv'}\n    output: proteins.h5\n"
        f"  - stage: encode_pst\n    with: {{weights: {REPO / 'Tests/Fixtures/encoders/pst/weights.safetensors'}, "
        f"config: {REPO / 'Tests/Fixtures/encoders/pst/config.json'}}}\n")
    r = run("run", pipeline)
    assert r.returncode == 2, r.stderr
    assert "encode_molt5: failed, nothing written:" in r.stderr and "missing." in r.stderr
    assert "encode_pst: 4 done, 0 cached, 0 failed" in r.stderr
    with h5py.File(tmp_path / "out/proteins.h5", "r") as f:
        assert len(f["embeddings/pst/ids"]) == 4


def test_a_failed_stage_keeps_what_earlier_stages_added_to_the_same_file(run, tmp_path):
    """Stages adding to one file share one open copy of it; a failure discards only its own groups."""
    examples = REPO / "examples"
    pipeline = tmp_path / "fmri.yaml"
    pipeline.write_text(
        f"manifest: {examples / 'fmri/manifest.tsv'}\noutput_dir: {tmp_path / 'out'}\nstages:\n"
        f"  - stage: fmri_extract\n    output: fmri.h5\n    with: {{atlas: {examples / 'fmri/atlas_labels.nii.gz'}, preset: 36p}}\n"
        f"  - stage: fmri_connectivity\n    with: {{kind: [correlation]}}\n"
        f"  - stage: encode_brainmae\n    with: {{weights: {tmp_path / 'none.safetensors'}, config: {tmp_path / 'none.json'}}}\n")
    r = run("run", pipeline)
    assert r.returncode == 2, r.stderr
    assert "encode_brainmae: failed, nothing written" in r.stderr
    with h5py.File(tmp_path / "out/fmri.h5", "r") as f:
        assert "connectivity/correlation" in f["fmri"] and "embeddings" not in f
        assert "fmri_connectivity" in f["provenance"] and "encode_brainmae" not in f["provenance"]
    assert run("validate", tmp_path / "out/fmri.h5").returncode == 0


@pytest.mark.parametrize("where", ["partition", "extra", "stage_mem", "sbatch", "path"])
def test_control_characters_never_reach_a_batch_script(run, tmp_path, where):
    """A newline in any value written into an sbatch script is refused (exit 1, naming the key)."""
    pipeline, _ = make_dataset(tmp_path)
    text = pipeline.read_text()
    injected = 'debug\\ntouch PWNED'
    args = []
    if where == "partition":
        text = text.replace("slurm: {time: '10:00', throttle: 3}", f'slurm: {{time: "10:00", partition: "{injected}"}}')
        key = "slurm.partition"
    elif where == "extra":
        text = text.replace("slurm: {time: '10:00', throttle: 3}", f'slurm: {{time: "10:00", extra: ["--comment=a{injected}"]}}')
        key = "slurm.extra"
    elif where == "stage_mem":
        text = text.replace("resources: {cpus_per_task: 1}", f'resources: {{mem: "1G{injected}"}}')
        key = "resources.mem"
    elif where == "sbatch":
        args = ["--sbatch=--comment=x\ntouch PWNED"]
        key = "extra (or --sbatch)"
    else:
        moved = tmp_path / "pipe\nline.yaml"
        moved.write_text(text)
        pipeline = moved
        key = "pipeline path"
    if where != "path":
        pipeline.write_text(text)
    r = run("submit", pipeline, "--shards", 2, "--dry-run", *args)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "control characters" in lines[0], r.stderr
    assert "touch PWNED" not in r.stdout
    assert not list(tmp_path.rglob("*.sbatch")) and not list(tmp_path.rglob("PWNED"))
