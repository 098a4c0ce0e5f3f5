"""Resume by content and crash safety of `bioembed run`."""
import json
import re
import random
import signal
import subprocess
import time

import h5py
import numpy as np

from conftest import REPO
from test_pipeline import make_corpus, write_pipeline


def collection(path):
    with h5py.File(path, "r") as f:
        data = {name: f["files"][name][()] for name in f["files"]}
        if "errors" in f:
            data["errors"] = sorted(f["errors/ids"].asstr()[()])
        return data


def assert_same(a, b):
    assert a.keys() == b.keys()
    for name in a:
        if isinstance(a[name], list):
            assert a[name] == b[name], name
        else:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_resume_redoes_only_what_changed(run, tmp_path):
    make_corpus(tmp_path, 30)
    pipeline = write_pipeline(tmp_path, "manifest.tsv")
    first = run("run", pipeline)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "out/files.h5"
    record = json.loads((tmp_path / "out/files.h5.done.json").read_text())
    assert [i["id"] for i in record["items"]] == [f"file{k:05d}.bin" for k in range(30)]
    assert all(i["status"] == "done" and len(i["key"]) == 64 for i in record["items"])
    before = collection(out)

    again = run("run", pipeline, "--resume")
    assert again.returncode == 0 and "checksum: 0 done, 30 cached, 0 failed" in again.stderr
    assert_same(collection(out), before)

    # Touching a file without changing it (new mtime, same content) is not a change.
    data = tmp_path / "data/file00003.bin"
    data.write_bytes(data.read_bytes())
    assert "checksum: 0 done, 30 cached, 0 failed" in run("run", pipeline, "--resume").stderr

    # A changed file and a new row: only those two are done.
    data.write_bytes(b"new content")
    (tmp_path / "data/extra.bin").write_bytes(b"extra")
    with open(tmp_path / "manifest.tsv", "a") as m:
        m.write("extra.bin\tdata/extra.bin\n")
    changed = run("run", pipeline, "--resume")
    assert changed.returncode == 0
    assert "30 of 31 inputs already done, 2 to do" not in changed.stderr  # one of the 30 changed
    assert "29 of 31 inputs already done, 2 to do" in changed.stderr
    assert "checksum: 2 done, 29 cached, 0 failed" in changed.stderr
    after = collection(out)
    assert list(after["ids"]) == list(before["ids"]) + [b"extra.bin"]
    assert after["content_size"][3] == len(b"new content")

    # Changing a parameter changes every key.
    pipeline.write_text(pipeline.read_text().replace("block_size: 1000", "block_size: 500"))
    assert "checksum: 31 done, 0 cached, 0 failed" in run("run", pipeline, "--resume").stderr


def test_failed_inputs_are_retried_on_resume(run, tmp_path):
    make_corpus(tmp_path, 5)
    with open(tmp_path / "manifest.tsv", "a") as m:
        m.write("late.bin\tdata/late.bin\n")
    pipeline = write_pipeline(tmp_path, "manifest.tsv")
    assert run("run", pipeline).returncode == 2
    (tmp_path / "data/late.bin").write_bytes(b"arrived")
    r = run("run", pipeline, "--resume")
    assert r.returncode == 0 and "5 of 6 inputs already done, 1 to do" in r.stderr
    data = collection(tmp_path / "out/files.h5")
    assert "errors" not in data and list(data["ids"])[-1] == b"late.bin"


def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(bioembed, tmp_path):
    make_corpus(tmp_path, 2500, size=40_000)
    with open(tmp_path / "manifest.tsv", "a") as m:  # one bad row, so /errors is compared too
        m.write("missing.bin\tdata/missing.bin\n")
    pipeline = write_pipeline(tmp_path, "manifest.tsv")
    reference = subprocess.run([bioembed, "run", str(pipeline), "--quiet", "--output-dir", str(tmp_path / "reference")],
                               capture_output=True, text=True)
    assert reference.returncode == 2, reference.stderr
    expected = collection(tmp_path / "reference/files.h5")

    rng = random.Random(7)
    out = tmp_path / "out"
    kills = 0
    for attempt in range(40):
        proc = subprocess.Popen([bioembed, "run", str(pipeline), "--quiet", "--resume", "--checkpoint-every", "25"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.02, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        else:
            break  # it finished before the kill
        if kills >= 12:
            break
    assert kills >= 10, f"only {kills} runs could be killed"
    final = subprocess.run([bioembed, "run", str(pipeline), "--quiet", "--resume"], capture_output=True, text=True)
    assert final.returncode == 2, final.stderr
    result = collection(out / "files.h5")
    assert_same(result, expected)
    ids = list(result["ids"])
    assert len(ids) == len(set(ids)) == 2500  # nothing missing, nothing twice
    assert not list((out / ".bioembed/parts").glob("*/*")) if (out / ".bioembed/parts").exists() else True
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]


def groups(path, names):
    """Every dataset under the groups `names` of an HDF5 file, by path."""
    data = {}
    with h5py.File(path, "r") as f:
        for name in names:
            f[name].visititems(lambda key, obj: data.__setitem__(f"{name}/{key}", obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return data


def protein_corpus(root, count):
    """`count` structure files (the fixture structures, repeated under new names) and a manifest."""
    sources = sorted((REPO / "Tests/Fixtures/proteins/structures").iterdir())
    (root / "s").mkdir()
    rows = ["id\tpath"]
    for k in range(count):
        source = sources[k % len(sources)]
        target = root / "s" / f"p{k:02d}_{source.name}"
        target.write_bytes(source.read_bytes())
        rows.append(f"p{k:02d}\ts/{target.name}")
    (root / "manifest.tsv").write_text("\n".join(rows) + "\n")
    pipeline = root / "proteins.yaml"
    pipeline.write_text(
        "name: p\nmanifest: manifest.tsv\noutput_dir: out\nstages:\n"
        "  - stage: protein_tokenize\n    output: proteins.h5\n"
        "  - stage: encode_pst\n    with:\n"
        f"      weights: {REPO}/Tests/Fixtures/encoders/pst/weights.safetensors\n"
        f"      config: {REPO}/Tests/Fixtures/encoders/pst/config.json\n")
    return pipeline


def summary_line(stderr, stage):
    return next(line for line in stderr.splitlines() if line.startswith(stage + ": ") and " cached, " in line)


def test_one_changed_structure_is_tokenized_and_encoded_again_alone(run, tmp_path):
    pipeline = protein_corpus(tmp_path, 40)
    first = run("run", pipeline)
    assert first.returncode == 0, first.stderr
    chains = int(summary_line(first.stderr, "encode_pst").split(":")[1].split()[0])
    before = groups(tmp_path / "out/proteins.h5", ["embeddings"])["embeddings/pst/pooled"]
    # One single-chain file changes: one Cα moves by 0.5 Å.
    changed = next(p for p in (tmp_path / "s").iterdir() if p.name.endswith("adk_open.pdb"))
    lines = changed.read_text().split("\n")
    k = next(i for i, line in enumerate(lines) if line.startswith("ATOM") and line[12:16].strip() == "CA")
    lines[k] = lines[k][:30] + "%8.3f" % (float(lines[k][30:38]) + 0.5) + lines[k][38:]
    changed.write_text("\n".join(lines))

    again = run("run", pipeline, "--resume")
    assert again.returncode == 0, again.stderr
    assert summary_line(again.stderr, "protein_tokenize").startswith(f"protein_tokenize: 1 done, {chains - 1} cached, 0 failed")
    assert summary_line(again.stderr, "encode_pst").startswith(f"encode_pst: 1 done, {chains - 1} cached, 0 failed")

    fresh = run("run", pipeline, "--output-dir", tmp_path / "fresh")
    assert fresh.returncode == 0, fresh.stderr
    resumed, expected = (groups(p, ["proteins", "embeddings"]) for p in (tmp_path / "out/proteins.h5", tmp_path / "fresh/proteins.h5"))
    assert resumed.keys() == expected.keys()
    for name in expected:
        if expected[name].dtype.kind == "f":  # the changed chain was encoded in a batch of its own
            scale = float(np.nanmax(np.abs(expected[name]))) if expected[name].size else 1.0
            np.testing.assert_allclose(resumed[name], expected[name], rtol=0, atol=1e-5 * scale, err_msg=name)
        else:
            np.testing.assert_array_equal(resumed[name], expected[name], err_msg=name)
    # Exactly the changed chain's embedding changed.
    moved = np.flatnonzero(np.any(resumed["embeddings/pst/pooled"] != before, axis=1))
    with h5py.File(tmp_path / "out/proteins.h5", "r") as f:
        ids = list(f["embeddings/pst/ids"].asstr()[()])
        assert len(f["provenance/encode_pst/item_keys"]) == chains
    assert [ids[i].split(":")[0] for i in moved] == [changed.name.split("_")[0]]

    # Nothing changed: every stage reports every item cached.
    still = run("run", pipeline, "--resume")
    assert f"encode_pst: 0 done, {chains} cached, 0 failed" in still.stderr
    assert len(ids) == chains
    assert not (tmp_path / "out/.bioembed/earlier").exists()


def test_a_second_run_in_the_same_folder_is_refused_and_a_killed_runs_lock_taken_over(bioembed, run, tmp_path):
    make_corpus(tmp_path, 400, size=20_000)
    pipeline = write_pipeline(tmp_path, "manifest.tsv")
    lock = tmp_path / "out/.bioembed/locks/run.lock"
    first = subprocess.Popen([bioembed, "run", str(pipeline), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while not (lock.exists() and lock.read_text().startswith("pid")) and first.poll() is None and time.time() < deadline:
            time.sleep(0.001)
        first.send_signal(signal.SIGSTOP)  # holds the lock, mid-run
        if first.poll() is not None:
            import pytest
            pytest.skip("the first run finished before it could be paused")
        second = run("run", pipeline)
        assert second.returncode == 1, second.stderr
        assert f"pid {first.pid}" in second.stderr and "another output folder" in second.stderr, second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        again = run("run", pipeline, "--resume")  # --resume too: the folder is busy
        assert again.returncode == 1, again.stderr
    finally:
        first.kill()
        first.wait()
    # The killed run's lock is stale: the next run takes it over and completes.
    resumed = run("run", pipeline, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert collection(tmp_path / "out/files.h5")["ids"].shape == (400,)


def fmri_pipeline(folder, tail=""):
    """fmri_extract into fmri.h5, then connectivity adding to it (and `tail`, more stages)."""
    path = folder / "pipeline.yaml"
    path.write_text(
        f"name: t\nmanifest: {REPO}/examples/fmri/manifest.tsv\noutput_dir: out\nstages:\n"
        f"  - stage: fmri_extract\n    output: fmri.h5\n    with: {{atlas: {REPO}/examples/fmri/atlas_labels.nii.gz, preset: 36p}}\n"
        f"  - stage: fmri_connectivity\n    with: {{kind: [correlation]}}\n{tail}")
    return path


def test_a_stage_failing_into_the_item_stages_uncommitted_output_keeps_what_succeeded(run, tmp_path):
    """Connectivity adds to the extract stage's output while it is still open (no copy); the encoder
    after it fails there. The file is rebuilt from the extract stage's kept parts, connectivity is
    replayed into it, and what succeeded is committed with its resume keys: a --resume run of the
    two stages then finds both done."""
    failing = f"  - stage: encode_brainmae\n    with: {{weights: missing.safetensors, config: {REPO}/examples/brainmae/demo.json}}\n"
    r = run("run", fmri_pipeline(tmp_path, failing))
    assert r.returncode == 2, r.stderr
    assert "encode_brainmae: failed" in r.stderr and "missing.safetensors" in r.stderr, r.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [".bioembed", "fmri.h5", "fmri.h5.done.json"]  # no temporary left
    assert not (out / ".bioembed/parts/fmri.h5").exists()  # the parts went with the commit
    whole = tmp_path / "whole"
    whole.mkdir()
    assert run("run", fmri_pipeline(whole)).returncode == 0
    with h5py.File(out / "fmri.h5") as f, h5py.File(whole / "out/fmri.h5") as g:
        assert "brainmae" not in f["fmri"] and set(f["provenance"]) == set(g["provenance"]) == {"fmri_extract", "fmri_connectivity"}
        for name in ("timeseries", "connectivity/correlation"):
            np.testing.assert_array_equal(f["fmri"][name][()], g["fmri"][name][()], err_msg=name)
        assert list(f["provenance/fmri_connectivity/item_ids"].asstr()[()]) == ["sub-01"]
    again = run("run", fmri_pipeline(tmp_path), "--resume")
    assert again.returncode == 0, again.stderr
    for stage in ("fmri_extract", "fmri_connectivity"):
        assert re.search(rf"^{stage}: 0 done, 1 cached, 0 failed", again.stderr, re.M), again.stderr
