"""The local runner end to end: the demo, bad rows, configuration errors, kills, jobs and shards."""
import gzip
import hashlib
import json
import os
import random
import signal
import subprocess
import time
import zlib

import h5py
import numpy as np
import pytest

from conftest import REPO


def write_pipeline(folder, manifest, output="files.h5", extra=""):
    path = folder / "pipeline.yaml"
    path.write_text(
        f"name: test\nmanifest: {manifest}\noutput_dir: out\nstages:\n"
        f"  - stage: checksum\n    output: {output}\n    with:\n      block_size: 1000\n{extra}"
    )
    return path


def expected_fingerprint(path, block_size):
    raw = path.read_bytes()
    content = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    histogram = np.bincount(np.frombuffer(content, dtype=np.uint8), minlength=256)
    blocks = [zlib.crc32(content[i:i + block_size]) for i in range(0, len(content), block_size)]
    return len(raw), len(content), hashlib.sha256(raw).hexdigest(), histogram, blocks


def test_demo_pipeline_writes_a_valid_file(run, tmp_path):
    r = run("run", REPO / "pipelines/demo.yaml", "--output-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "files.h5"
    assert str(out) in r.stderr  # the summary says where the HDF5 went
    v = run("validate", out)
    assert v.returncode == 0 and "valid" in v.stdout
    manifest = [l.split("\t") for l in (REPO / "examples/manifest.tsv").read_text().splitlines()[1:]]
    with h5py.File(out, "r") as f:
        assert f.attrs["schema"] == "bioembed/files/1" and isinstance(f.attrs["created_utc"], str)
        g = f["files"]
        assert list(g["ids"].asstr()[()]) == [row[0] for row in manifest]
        assert g["size"].dtype == np.int64 and g["byte_histogram"].shape == (len(manifest), 256)
        offsets = g["block_offsets"][()]
        for k, row in enumerate(manifest):
            size, content_size, sha, histogram, blocks = expected_fingerprint(REPO / "examples" / row[1], 65536)
            assert g["size"][k] == size and g["content_size"][k] == content_size
            assert g["sha256"].asstr()[k] == sha
            np.testing.assert_array_equal(g["byte_histogram"][k], histogram)
            assert list(g["block_crc32"][offsets[k]:offsets[k + 1]]) == blocks
        prov = f["provenance/checksum"]
        assert json.loads(prov.attrs["parameters"]) == {"block_size": 65536, "decompress": True}
        inputs = json.loads(prov.attrs["inputs"])
        assert len(inputs) == len(manifest) and all(len(i["sha256"]) == 64 for i in inputs)
        assert prov.attrs["version"] == 1 and prov.attrs["seconds"] >= 0
        assert "errors" not in f


def make_corpus(folder, count, size=2000, seed=0):
    rng = random.Random(seed)
    (folder / "data").mkdir()
    rows = ["id\tpath"]
    for k in range(count):
        name = f"file{k:05d}.bin"
        (folder / "data" / name).write_bytes(rng.randbytes(size + k % 7))
        rows.append(f"{name}\tdata/{name}")
    (folder / "manifest.tsv").write_text("\n".join(rows) + "\n")


def test_bad_rows_are_recorded_and_the_rest_written(run, tmp_path):
    make_corpus(tmp_path, 18)
    whole = gzip.compress(random.Random(1).randbytes(5000))
    (tmp_path / "data/broken.gz").write_bytes(whole[: len(whole) // 2])  # truncated gzip
    with open(tmp_path / "manifest.tsv", "a") as m:
        m.write("missing.bin\tdata/missing.bin\nbroken.gz\tdata/broken.gz\n")
    pipeline = write_pipeline(tmp_path, "manifest.tsv")
    r = run("run", pipeline)
    assert r.returncode == 2, r.stderr
    out = tmp_path / "out/files.h5"
    with h5py.File(out, "r") as f:
        assert len(f["files/ids"]) == 18
        errors = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
        assert set(errors) == {"missing.bin", "broken.gz"}
        assert str(tmp_path / "data/missing.bin") in errors["missing.bin"] and "no such file" in errors["missing.bin"]
        assert str(tmp_path / "data/broken.gz") in errors["broken.gz"] and "gzip" in errors["broken.gz"]
        assert set(f["errors/category"].asstr()[()]) == {"bad_input"}
        assert set(f["errors/stage"].asstr()[()]) == {"checksum"}
    assert run("validate", out).returncode == 0


def test_nothing_done_exits_3(run, tmp_path):
    (tmp_path / "manifest.tsv").write_text("id\tpath\na\tnope1\nb\tnope2\n")
    r = run("run", write_pipeline(tmp_path, "manifest.tsv"))
    assert r.returncode == 3


def test_unknown_key_names_the_key_and_line_and_writes_nothing(run, tmp_path):
    make_corpus(tmp_path, 2)
    pipeline = write_pipeline(tmp_path, "manifest.tsv", extra="      blok_size: 3\n")
    r = run("run", pipeline)
    assert r.returncode == 1
    assert r.stderr.strip() == f"error: {pipeline}:9: unknown key 'blok_size'; expected one of: block_size, decompress"
    assert not (tmp_path / "out").exists()


def test_bad_manifest_row_names_the_line(run, tmp_path):
    (tmp_path / "manifest.tsv").write_text("id\tpath\na\tx\tEXTRA\n")
    r = run("run", write_pipeline(tmp_path, "manifest.tsv"))
    assert r.returncode == 1
    assert r.stderr.strip() == f"error: {tmp_path / 'manifest.tsv'}:2: expected 2 fields (id, path), found 3"


def read_collection(path):
    with h5py.File(path, "r") as f:
        g = f["files"]
        return {name: g[name][()] for name in g}


def test_parallel_jobs_and_shards_give_the_same_items(run, tmp_path):
    make_corpus(tmp_path, 40)
    pipeline = write_pipeline(tmp_path, "manifest.tsv")
    assert run("run", pipeline, "--output-dir", tmp_path / "one").returncode == 0
    assert run("run", pipeline, "--output-dir", tmp_path / "two", "--jobs", 3).returncode == 0
    one, two = read_collection(tmp_path / "one/files.h5"), read_collection(tmp_path / "two/files.h5")
    assert one.keys() == two.keys()
    for name in one:
        np.testing.assert_array_equal(one[name], two[name])
    ids = list(one["ids"])
    for i in range(3):
        assert run("run", pipeline, "--output-dir", tmp_path / "sh", "--shard", f"{i}/3").returncode == 0
        shard = read_collection(tmp_path / f"sh/files.shard-{i}-of-3.h5")
        assert list(shard["ids"]) == ids[i::3]
    bad = run("run", pipeline, "--shard", "3/3")
    assert bad.returncode == 1 and "--shard" in bad.stderr


def test_paths_with_spaces_and_quotes(run, tmp_path):
    folder = tmp_path / "my data 'quoted'"
    folder.mkdir()
    (folder / "a file.txt").write_text("hello")
    (folder / "manifest.csv").write_text('id,path\n"one, two","a file.txt"\n')
    pipeline = write_pipeline(folder, "manifest.csv")
    r = run("run", pipeline)
    assert r.returncode == 0, r.stderr
    with h5py.File(folder / "out/files.h5", "r") as f:
        assert list(f["files/ids"].asstr()[()]) == ["one, two"]
        assert f["files/content_size"][0] == 5


def test_killed_writer_leaves_no_file_under_the_final_name(bioembed, tmp_path):
    make_corpus(tmp_path, 2500, size=40_000)
    pipeline = write_pipeline(tmp_path, "manifest.tsv")
    final = tmp_path / "out/files.h5"
    rng = random.Random(42)
    killed_mid_write = 0
    for attempt in range(6):
        proc = subprocess.Popen([bioembed, "run", str(pipeline), "--quiet"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode == -signal.SIGKILL:
            killed_mid_write += 1
            assert not final.exists(), f"attempt {attempt}: a killed run left {final}"
    assert killed_mid_write >= 3, "the runs finished before they could be killed; make the corpus larger"
    # A later run cleans the stale temporary files and writes the complete file.
    proc = subprocess.run([bioembed, "run", str(pipeline), "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert final.exists()
    assert not [p for p in final.parent.iterdir() if ".tmp-" in p.name]
    with h5py.File(final, "r") as f:
        assert len(f["files/ids"]) == 2500


@pytest.mark.parametrize("where", ["parameter", "stage", "top"])
def test_duplicate_keys_are_refused_with_their_line(run, tmp_path, where):
    make_corpus(tmp_path, 2)
    pipeline = write_pipeline(tmp_path, "manifest.tsv", extra="      block_size: 2000\n" if where == "parameter" else "")
    text = pipeline.read_text()
    if where == "stage":
        text = text.replace("    output: files.h5\n", "    output: files.h5\n    output: other.h5\n")
    elif where == "top":
        text = text.replace("output_dir: out\n", "output_dir: out\noutput_dir: elsewhere\n")
    pipeline.write_text(text)
    r = run("run", pipeline)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "duplicate key" in lines[0] and str(pipeline) in lines[0] and "first given on line" in lines[0], r.stderr
    assert not (tmp_path / "out").exists()
