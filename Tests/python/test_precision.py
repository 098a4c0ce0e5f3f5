"""`--precision bf16`: bfloat16 Linear weights and GEMMs with float32 accumulation. Accuracy against
the float32 run (pooled cosine ≥ 0.999 per item, per-token cosine ≥ 0.99) on CPUs with AVX-512 BF16
(oneDNN), and through `BIOEMBED_BF16=emulate` (the same roundings, float32 sgemm) on every CPU; on
CPUs without bf16 the run falls back to float32, says so once and records it in `precision`."""
import subprocess
import sys

import h5py
import numpy as np
import pytest

from conftest import REPO
from test_encode import FIX, write_proteins


def _cos(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


def _native_bf16():
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
    return " avx512_bf16" in flags or " amx_bf16" in flags


def _encode(run, model, inp, out, *extra, env=None):
    r = run("encode", model, "--weights", FIX / f"{model}/weights.safetensors", "--config", FIX / f"{model}/config.json",
            "--input", inp, "--output", out, *extra, env=env)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        e = f[f"embeddings/{model}"]
        return e["pooled"][()], e["per_token"][()], e.attrs["precision"], r.stderr


def _molecules(path):
    with h5py.File(FIX / "molt5/encoder_io.h5", "r") as io, h5py.File(path, "w") as f:
        names = sorted(io["single"].keys())
        ids = [io["single"][n]["input_ids"][0] for n in names]
        fps = [io["single"][n]["molecule_fp_ids"][0] for n in names]
        g = f.create_group("molecules")
        g.create_dataset("ids", data=names, dtype=h5py.string_dtype())
        g.create_dataset("token_offsets", data=np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64))
        g.create_dataset("input_ids", data=np.concatenate(ids).astype(np.int32))
        g.create_dataset("fp_tokens", data=np.concatenate(fps).astype(np.int32))


@pytest.mark.parametrize("model", ["pst", "molt5"])
def test_bf16_is_within_the_stated_accuracy_of_fp32(run, tmp_path, model):
    inp = tmp_path / "in.h5"
    write_proteins(inp) if model == "pst" else _molecules(inp)
    pooled32, tokens32, attr32, _ = _encode(run, model, inp, tmp_path / "fp32.h5")
    assert attr32 == "fp32"
    runs = [("emulate", {"BIOEMBED_BF16": "emulate"})] + ([("native", None)] if _native_bf16() else [])
    for name, env in runs:
        pooled, tokens, attr, _ = _encode(run, model, inp, tmp_path / f"{name}.h5", "--precision", "bf16", env=env)
        assert attr.startswith("bf16"), attr
        assert ("(wo), kept in float32" in attr) == (model == "molt5"), attr  # T5's wo stays fp32
        assert _cos(pooled, pooled32).min() >= 0.999, (name, _cos(pooled, pooled32))
        assert _cos(tokens, tokens32).min() >= 0.99, (name, _cos(tokens, tokens32).min())
        assert not np.array_equal(pooled, pooled32)  # the products really were rounded


def test_bf16_without_support_falls_back_to_fp32_and_says_so(run, tmp_path):
    if _native_bf16():
        pytest.skip("this CPU has AVX-512 BF16: the bf16 path runs (test above)")
    inp = tmp_path / "in.h5"
    write_proteins(inp)
    pooled32, tokens32, _, _ = _encode(run, "pst", inp, tmp_path / "fp32.h5")
    pooled, tokens, attr, stderr = _encode(run, "pst", inp, tmp_path / "bf16.h5", "--precision", "bf16")
    assert attr.startswith("fp32 (bf16 requested") and stderr.count("running in float32") == 1
    np.testing.assert_array_equal(pooled, pooled32)


def test_bad_precision_is_refused(run, tmp_path):
    r = run("encode", "pst", "--weights", FIX / "pst/weights.safetensors", "--config", FIX / "pst/config.json",
            "--input", tmp_path / "x.h5", "--output", tmp_path / "y.h5", "--precision", "fp16")
    assert r.returncode != 0 and "fp16" in r.stderr and "bf16" in r.stderr


def test_items_side_by_side_give_the_same_bf16_embeddings_as_one_thread(run, tmp_path):
    """Two threads embed items of the same shape at once, so both run one oneDNN primitive together:
    each must use its own scratchpad (with oneDNN's shared one the products of the two mixed and
    pooled embeddings moved by whole units). BrainMAE at its paper width, 12 runs of 300 frames."""
    subprocess.run([sys.executable, REPO / "scripts/peers/torch_encoders.py", "prepare", "brainmae", tmp_path, "small"], check=True)
    with h5py.File(tmp_path / "input.h5", "a") as f:  # 12 of the 32 runs: enough for both threads, quick
        g = f["fmri"]
        frames = int(g["timeseries_offsets"][1])
        series, ids = g["timeseries"][: 12 * frames], g["ids"][:12]
        for name in ("timeseries", "ids", "timeseries_offsets", "t_r"):
            del g[name]
        g.create_dataset("timeseries", data=series)
        g.create_dataset("ids", data=ids, dtype=h5py.string_dtype())
        g.create_dataset("timeseries_offsets", data=np.arange(13, dtype=np.int64) * frames)
        g.create_dataset("t_r", data=np.full(12, 0.72))
    modes = [("emulate", {"BIOEMBED_BF16": "emulate"})] + ([("native", None)] if _native_bf16() else [])
    for name, env in modes:
        outputs = []
        for threads in ("1", "2"):
            out = tmp_path / f"{name}-{threads}.h5"
            r = run("encode", "brainmae", "--weights", tmp_path / "weights.safetensors", "--config", tmp_path / "config.json",
                    "--input", tmp_path / "input.h5", "--output", out, "--precision", "bf16", "--threads", threads, env=env)
            assert r.returncode == 0, r.stderr
            with h5py.File(out, "r") as f:
                outputs.append((f["embeddings/brainmae/pooled"][()], f["embeddings/brainmae/per_token"][()]))
        np.testing.assert_array_equal(outputs[0][0], outputs[1][0], err_msg=name)
        np.testing.assert_array_equal(outputs[0][1], outputs[1][1], err_msg=name)
