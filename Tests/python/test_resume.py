"""Resume by content and crash safety of `bioembed run`."""
import json
import random
import signal
import subprocess
import time

import h5py
import numpy as np

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
