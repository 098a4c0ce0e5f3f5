"""`bioembed train brainmae` end to end: train, checkpoint files, encode with the result, resume,
bad input (one-line errors, exit 1, no checkpoint overwritten), and the pipeline stage."""
import json
import math

import h5py
import numpy as np

from conftest import REPO

CONFIG = json.loads((REPO / "examples/brainmae/tiny.json").read_text())


def write_fmri(path, subjects=8, frames=60, rois=16, nan_at=None):
    rng = np.random.default_rng(0)
    series = [1000 + 10 * rng.standard_normal((frames, rois)) for _ in range(subjects)]
    if nan_at is not None:
        series[nan_at[0]][nan_at[1], nan_at[2]] = np.nan
    with h5py.File(path, "w") as f:
        g = f.create_group("fmri")
        g.create_dataset("ids", data=[f"sub-{i}" for i in range(subjects)], dtype=h5py.string_dtype())
        g.create_dataset("timeseries_offsets", data=np.arange(subjects + 1, dtype=np.int64) * frames)
        g.create_dataset("timeseries", data=np.concatenate(series))


def write_config(path, **changes):
    path.write_text(json.dumps({**CONFIG, "epochs": 2, "batch_size": 4, **changes}))
    return path


def test_train_then_encode_and_resume(run, tmp_path):
    data, config, weights = tmp_path / "fmri.h5", write_config(tmp_path / "bm.json"), tmp_path / "bm.safetensors"
    write_fmri(data)
    r = run("train", "brainmae", "--input", data, "--config", config, "--output", weights, "--epochs", "2", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "held-out loss" in r.stderr and "segments/s" in r.stderr
    assert weights.exists() and (tmp_path / "bm.config.json").exists() and (tmp_path / "bm.safetensors.state.safetensors").exists()
    e = run("encode", "brainmae", "--weights", weights, "--config", tmp_path / "bm.config.json", "--input", data, "--output", tmp_path / "emb.h5")
    assert e.returncode == 0, e.stderr
    with h5py.File(tmp_path / "emb.h5", "r") as f:
        pooled = f["embeddings/brainmae/pooled"][()]
        assert pooled.shape == (8, CONFIG["enc_dim"]) and np.isfinite(pooled).all()
    # With a constant rate, 2 epochs + --resume to 3 is the same run as 3 epochs: identical bytes
    # (the CLI splits per-segment attention across threads; results must not depend on it).
    constant = write_config(tmp_path / "constant.json", schedule="constant")
    full, part = tmp_path / "full.safetensors", tmp_path / "part.safetensors"
    assert run("train", "brainmae", "--input", data, "--config", constant, "--output", full, "--epochs", "3", "--seed", "3").returncode == 0
    assert run("train", "brainmae", "--input", data, "--config", constant, "--output", part, "--epochs", "2", "--seed", "3").returncode == 0
    assert part.read_bytes() != full.read_bytes()
    r = run("train", "brainmae", "--input", data, "--config", constant, "--output", part, "--epochs", "3", "--seed", "3", "--resume")
    assert r.returncode == 0 and "resuming at step" in r.stderr, r.stderr
    assert part.read_bytes() == full.read_bytes()


def test_train_bad_input_is_a_clear_error(run, tmp_path):
    config, weights = write_config(tmp_path / "bm.json"), tmp_path / "bm.safetensors"
    good = tmp_path / "good.h5"
    write_fmri(good)
    assert run("train", "brainmae", "--input", good, "--config", config, "--output", weights, "--epochs", "1").returncode == 0
    before = weights.read_bytes()
    short = tmp_path / "short.h5"
    write_fmri(short, frames=20)
    r = run("train", "brainmae", "--input", short, "--config", config, "--output", weights, "--epochs", "1")
    assert r.returncode == 1 and "short.h5" in r.stderr and "20 frames" in r.stderr and len(r.stderr.strip().splitlines()) <= 2
    nan = tmp_path / "nan.h5"
    write_fmri(nan, nan_at=(2, 7, 3))
    r = run("train", "brainmae", "--input", nan, "--config", config, "--output", weights, "--epochs", "1")
    assert r.returncode == 1 and "sub-2" in r.stderr and "frame 7" in r.stderr
    other = write_config(tmp_path / "other.json", enc_dim=48)
    r = run("train", "brainmae", "--input", good, "--config", other, "--output", weights, "--epochs", "2", "--resume")
    assert r.returncode == 1 and "bm.safetensors" in r.stderr and "shape" in r.stderr
    assert weights.read_bytes() == before


def test_train_help_has_examples(run):
    r = run("train", "brainmae", "--help")
    assert r.returncode == 0 and "bioembed train brainmae --input" in r.stdout and "--resume" in r.stdout


def test_train_stage_in_a_pipeline(run, tmp_path):
    write_fmri(tmp_path / "fmri.h5")
    config = write_config(tmp_path / "bm.json")
    pipeline = tmp_path / "train.yaml"
    pipeline.write_text(f"""name: t
manifest: {REPO / 'examples/manifest.tsv'}
output_dir: {tmp_path}
stages:
  - stage: train_brainmae
    input: fmri.h5
    output: training.h5
    with: {{config: {config}, weights: {tmp_path / 'w.safetensors'}, epochs: 2, seed: 1}}
  - stage: encode_brainmae
    input: fmri.h5
    output: emb.h5
    with: {{weights: {tmp_path / 'w.safetensors'}, config: {tmp_path / 'w.config.json'}}}
""")
    r = run("run", pipeline)
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "training.h5", "r") as f:
        loss = f["training/brainmae/train_loss"][()]
        assert len(loss) == f["training/brainmae"].attrs["steps"] and all(math.isfinite(x) for x in loss)
    v = run("validate", tmp_path / "training.h5")
    assert v.returncode == 0, v.stdout + v.stderr
    with h5py.File(tmp_path / "emb.h5", "r") as f:
        assert f["embeddings/brainmae/pooled"].shape == (8, CONFIG["enc_dim"])
