"""`bioembed encode`: fixture parity through the CLI, same-file output, and bad input (exit codes, messages)."""
import json
import shutil

import h5py
import numpy as np

from conftest import REPO

FIX = REPO / "Tests/Fixtures/encoders"


def write_proteins(path, names=None):
    with h5py.File(FIX / "pst/pst_reference.h5", "r") as ref, h5py.File(path, "w") as out:
        names = names or sorted(ref["proteins"].keys())
        g = out.create_group("proteins")
        seqs = [ref["proteins"][n].attrs["sequence"] for n in names]
        seqs = [s.decode() if isinstance(s, bytes) else str(s) for s in seqs]
        g.create_dataset("ids", data=names, dtype=h5py.string_dtype())
        g.create_dataset("sequence", data=seqs, dtype=h5py.string_dtype())
        g.create_dataset("residue_offsets", data=np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64))
        g.create_dataset("ca", data=np.concatenate([ref["proteins"][n]["ca_coords"][()] for n in names]).astype(np.float32))
    return names


def test_encode_pst_matches_fixture_and_adds_to_same_file(run, tmp_path):
    path = tmp_path / "proteins.h5"
    names = write_proteins(path)
    r = run("encode", "pst", "--weights", FIX / "pst/weights.safetensors", "--config", FIX / "pst/config.json",
            "--input", path, "--output", path, "--threads", "1")
    assert r.returncode == 0, r.stderr
    with h5py.File(path, "r") as f, h5py.File(FIX / "pst/pst_reference.h5", "r") as ref:
        assert "proteins" in f  # the source collection is kept
        e = f["embeddings/pst"]
        assert [x.decode() for x in e["ids"][()]] == names
        for i, n in enumerate(names):
            np.testing.assert_allclose(e["pooled"][i], ref["proteins"][n]["protein_embedding"][()], atol=5e-5)
            o = e["per_token_offsets"][()]
            np.testing.assert_allclose(e["per_token"][o[i]:o[i + 1]], ref["proteins"][n]["residue_embeddings"][()], atol=2e-4)
        assert e.attrs["model"] == "pst" and len(e.attrs["weights_sha256"]) == 64
        assert json.loads(e.attrs["config"])["embed_dim"] == json.loads((FIX / "pst/config.json").read_text())["embed_dim"]


def test_encode_bad_weights_are_one_line_errors(run, tmp_path):
    path = tmp_path / "proteins.h5"
    write_proteins(path)
    out = tmp_path / "out.h5"
    # Weights of another model.
    r = run("encode", "pst", "--weights", FIX / "brainmae/sg/model.safetensors", "--config", FIX / "pst/config.json",
            "--input", path, "--output", out)
    assert r.returncode == 1 and "missing tensor 'embed_tokens.weight'" in r.stderr, r.stderr
    assert not out.exists()
    # Truncated safetensors.
    truncated = tmp_path / "truncated.safetensors"
    data = (FIX / "pst/weights.safetensors").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    r = run("encode", "pst", "--weights", truncated, "--config", FIX / "pst/config.json", "--input", path, "--output", out)
    assert r.returncode == 1 and "truncated" in r.stderr and str(truncated) in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2, r.stderr
    # Header claiming more bytes than the file has.
    claims = tmp_path / "claims.safetensors"
    claims.write_bytes((10**9).to_bytes(8, "little") + data[8:200])
    r = run("encode", "pst", "--weights", claims, "--config", FIX / "pst/config.json", "--input", path, "--output", out)
    assert r.returncode == 1 and "header claims" in r.stderr, r.stderr


def test_encode_long_protein_fails_alone(run, tmp_path):
    path = tmp_path / "proteins.h5"
    names = write_proteins(path)
    with h5py.File(path, "r") as f:
        lengths = np.diff(f["proteins/residue_offsets"][()])
    longest = int(np.argmax(lengths))
    config = json.loads((FIX / "pst/config.json").read_text())
    config["max_residues"] = int(lengths[longest]) - 1
    (tmp_path / "c.json").write_text(json.dumps(config))
    out = tmp_path / "out.h5"
    r = run("encode", "pst", "--weights", FIX / "pst/weights.safetensors", "--config", tmp_path / "c.json",
            "--input", path, "--output", out)
    assert r.returncode == 2, r.stderr
    with h5py.File(out, "r") as f:
        assert [x.decode() for x in f["errors/ids"][()]] == [names[longest]]
        assert f"at most {lengths[longest] - 1}" in f["errors/message"][0].decode()
        assert f["embeddings/pst/pooled"].shape == (len(names) - 1, config["embed_dim"])


def test_encode_molt5_out_of_vocabulary(run, tmp_path):
    path = tmp_path / "mols.h5"
    with h5py.File(FIX / "molt5/encoder_io.h5", "r") as io, h5py.File(path, "w") as f:
        names = sorted(io["single"].keys())[:2]
        cfg = json.loads((FIX / "molt5/config.json").read_text())
        ids = [io["single"][n]["input_ids"][0] for n in names] + [np.array([cfg["bom_id"], cfg["vocab_size"] + 5, cfg["eom_id"], 1])]
        fps = [io["single"][n]["molecule_fp_ids"][0] for n in names] + [np.full((4, 4), -1)]
        g = f.create_group("molecules")
        g.create_dataset("ids", data=names + ["oov"], dtype=h5py.string_dtype())
        g.create_dataset("token_offsets", data=np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64))
        g.create_dataset("input_ids", data=np.concatenate(ids).astype(np.int32))
        g.create_dataset("fp_tokens", data=np.concatenate(fps).astype(np.int32))
    out = tmp_path / "out.h5"
    r = run("encode", "molt5", "--weights", FIX / "molt5/weights.safetensors", "--config", FIX / "molt5/config.json",
            "--input", path, "--output", out)
    assert r.returncode == 2, r.stderr
    with h5py.File(out, "r") as f, h5py.File(FIX / "molt5/encoder_io.h5", "r") as io:
        assert "outside the vocabulary" in f["errors/message"][0].decode()
        for i, n in enumerate(names):
            np.testing.assert_allclose(f["embeddings/molt5/pooled"][i], io["single"][n]["pooled_mean_selfies_f64"][0], atol=1e-4)


def test_encode_help_has_example(run):
    r = run("encode", "brainmae", "--help")
    assert r.returncode == 0 and "bioembed encode brainmae --weights" in r.stdout
