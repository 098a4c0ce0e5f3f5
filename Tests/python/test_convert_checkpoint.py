"""scripts/convert_checkpoint.py on tiny checkpoints made here from the fixture weights (needs torch;
skipped when it is not installed, as in `make test`)."""
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from conftest import REPO

FIX = REPO / "Tests/Fixtures/encoders"
sys.path.insert(0, str(REPO / "scripts"))


def read_safetensors(path):
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I64": np.int64}[e["dtype"]]
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=dtype).reshape(e["shape"]).copy()
    return out


def test_convert_pst_checkpoint_round_trip(run, tmp_path):
    torch = pytest.importorskip("torch")
    state = {k: torch.from_numpy(v) for k, v in read_safetensors(FIX / "pst/weights.safetensors").items()}
    state.pop("lm_head.weight")  # tied in the real checkpoints
    ckpt = tmp_path / "pst_tiny.pt"
    torch.save({"cfg": {"model": {"name": "tiny", "k_hop": 2, "gnn_type": "gin", "edge_dim": None}, "data": {"graph_eps": 8.0}},
                "state_dict": {"model." + k: v for k, v in state.items()}}, ckpt)
    r = subprocess.run([sys.executable, REPO / "scripts/convert_checkpoint.py", "pst", ckpt, "--output", tmp_path / "pst"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    config = json.loads((tmp_path / "pst.json").read_text())
    ref = json.loads((FIX / "pst/config.json").read_text())
    keys = ("embed_dim", "num_heads", "num_layers", "k_hop", "ffn_dim")
    assert [config[k] for k in keys] == [ref[k] for k in keys]
    from test_encode import write_proteins
    path = tmp_path / "p.h5"
    names = write_proteins(path)
    r = run("encode", "pst", "--weights", tmp_path / "pst.safetensors", "--config", tmp_path / "pst.json",
            "--input", path, "--output", tmp_path / "e.h5")
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "e.h5", "r") as f, h5py.File(FIX / "pst/pst_reference.h5", "r") as ref:
        for i, n in enumerate(names):
            np.testing.assert_allclose(f["embeddings/pst/pooled"][i], ref["proteins"][n]["protein_embedding"][()], atol=5e-5)


def test_convert_molt5_checkpoint_round_trip(run, tmp_path):
    torch = pytest.importorskip("torch")
    weights = read_safetensors(FIX / "molt5/weights.safetensors")
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    state["encoder.embed_tokens.weight"] = state["shared.weight"]
    state["decoder.block.0.layer.0.SelfAttention.q.weight"] = torch.zeros(3, 3)
    state["lm_head.weight"] = torch.zeros_like(state["shared.weight"])
    torch.save(state, tmp_path / "pytorch_model.bin")
    hf = json.loads((FIX / "molt5/config.json").read_text())
    for key in ("fp_bits", "emb_setting", "bom_id", "eom_id"):
        hf.pop(key)
    (tmp_path / "config.json").write_text(json.dumps(hf))
    r = subprocess.run([sys.executable, REPO / "scripts/convert_checkpoint.py", "molt5", tmp_path / "pytorch_model.bin",
                        "--hf-config", tmp_path / "config.json", "--output", tmp_path / "m"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    converted = read_safetensors(tmp_path / "m.safetensors")
    assert set(converted) == set(weights)
    assert json.loads((tmp_path / "m.json").read_text())["fp_bits"] == weights["encoder.molecule_fp_embed_tokens.weight"].shape[0] - 1
