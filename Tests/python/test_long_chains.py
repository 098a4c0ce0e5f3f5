"""PST on a chain longer than the model's context (2,568 residues, max_residues 1022): an item error
by default, the first 1022 residues with `--long-chains truncate`, overlapping windows averaged
per residue with `--long-chains windows`; the policy is recorded in the embedding attributes."""
import h5py
import numpy as np

from conftest import REPO

PST = REPO / "Tests/Fixtures/encoders/pst"
SOURCE = REPO / "Tests/Fixtures/proteins/structures/adk_open.pdb"


def long_chain_pdb(path, copies=12):
    atoms = [l for l in SOURCE.read_text().splitlines() if l.startswith("ATOM")]
    residues = sorted({int(l[22:26]) for l in atoms})
    lines, serial = [], 1
    for copy in range(copies):
        for line in atoms:
            number = copy * len(residues) + residues.index(int(line[22:26])) + 1
            x = float(line[30:38]) + 60.0 * copy
            lines.append(f"{line[:6]}{serial % 100000:5d}{line[11:21]}A{number:4d}{line[26:30]}{x:8.3f}{line[38:]}")
            serial += 1
    path.write_text("\n".join(lines) + "\nEND\n")
    return copies * len(residues)


def encode(run, proteins, out, *flags):
    return run("encode", "pst", "--weights", PST / "weights.safetensors", "--config", PST / "config.json",
               "--input", proteins, "--output", out, *flags)


def test_long_chain_policies(run, tmp_path):
    n = long_chain_pdb(tmp_path / "long.pdb")
    assert n > 2500
    proteins = tmp_path / "p.h5"
    assert run("protein", "tokenize", "--input", tmp_path / "long.pdb", SOURCE, "--output", proteins).returncode == 0

    r = encode(run, proteins, tmp_path / "fail.h5")
    assert r.returncode == 2 and "1022" in r.stderr and "long_chains" in r.stderr, r.stderr

    results = {}
    for policy in ["truncate", "windows"]:
        out = tmp_path / f"{policy}.h5"
        r = encode(run, proteins, out, "--long-chains", policy)
        assert r.returncode == 0, r.stderr
        with h5py.File(out) as f:
            g = f["embeddings/pst"]
            assert g.attrs["long_chains"].startswith(policy)
            ids = list(g["ids"].asstr()[()])
            offsets = g["per_token_offsets"][()]
            k = next(i for i, name in enumerate(ids) if name.startswith("long"))
            results[policy] = (g["per_token"][offsets[k]:offsets[k + 1]], g["pooled"][k],
                               g["per_token"][offsets[1 - k]:offsets[2 - k]])
    truncated, windowed = results["truncate"], results["windows"]
    assert truncated[0].shape == (1022, 64) and windowed[0].shape == (n, 64)
    assert np.isfinite(windowed[0]).all()
    np.testing.assert_allclose(windowed[1], windowed[0].mean(axis=0), rtol=0, atol=1e-5)
    # residues before the second window (1022 − 256 = 766) come from the first window alone,
    # which is what truncate encodes
    scale = float(np.abs(truncated[0]).max())
    np.testing.assert_allclose(windowed[0][:766], truncated[0][:766], rtol=0, atol=1e-5 * scale)
    # where windows overlap the output differs from a single window's
    assert not np.allclose(windowed[0][800:1000], truncated[0][800:1000], atol=1e-5 * scale)
    # a chain that fits is the same under every policy
    np.testing.assert_allclose(windowed[2], truncated[2], rtol=0, atol=1e-5 * scale)

    r = encode(run, proteins, tmp_path / "bad.h5", "--long-chains", "windows", "--window-overlap", "5000")
    assert r.returncode == 1 and "window_overlap" in r.stderr, r.stderr
