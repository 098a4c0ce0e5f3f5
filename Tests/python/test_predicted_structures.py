"""Predicted structures: per-residue pLDDT from ModelCIF `_ma_qa_metric_local` (written by
python-modelcif, with B-factors that disagree) and from an AlphaFold-style PDB's B-factors; the
`--plddt-mask` 3Di string (SaProt's `#`); and PDB records that gemmi reads leniently (a GROMACS
water line shifted by a 5-digit residue number, a residue number `271a`) no longer costing the
file's chains. Fixtures: Tests/Fixtures/proteins/predicted (scripts/protein/make-predicted-fixtures.py)."""
import gzip
import json
import pathlib

import h5py
import numpy as np

from conftest import protein_pipeline, proteins_by_id

REPO = pathlib.Path(__file__).resolve().parents[2]
PREDICTED = REPO / "Tests/Fixtures/proteins/predicted"
EXPERIMENTAL = REPO / "Tests/Fixtures/proteins/structures/5PTI.cif.gz"
REFERENCE = json.loads((PREDICTED / "plddt.json").read_text())


def _items(path):
    rows, attrs = proteins_by_id(path, strings=("plddt_source", "tokens_3di", "tokens_3di_masked"), ragged=("plddt",))
    return {i: {"plddt": r["plddt"], "source": r["plddt_source"], "tdi": r["tokens_3di"], "masked": r["tokens_3di_masked"]}
            for i, r in rows.items()}, attrs


def test_plddt_from_modelcif_and_pdb_b_factors(run, tmp_path):
    out = tmp_path / "p.h5"
    r = run("protein", "tokenize", "--input", PREDICTED, EXPERIMENTAL, "--output", out)
    assert r.returncode == 0, r.stderr
    items, attrs = _items(out)
    want = np.array(REFERENCE["plddt"], dtype=np.float32)
    cif, pdb, experimental = items["af_model.cif.gz:A"], items["af_model.pdb.gz:A"], items["5PTI.cif.gz:A"]
    # ModelCIF: the metric, not the B_iso_or_equiv column (all 50 in the fixture)
    assert cif["source"] == "_ma_qa_metric_local" and np.array_equal(cif["plddt"], want)
    assert pdb["source"] == "b_factor" and np.array_equal(pdb["plddt"], want)
    # an experimental structure is not predicted: no pLDDT, and no masked tokens without the option
    assert experimental["source"] == "none" and np.isnan(experimental["plddt"]).all()
    assert cif["masked"] is None and "plddt_mask" not in attrs


def test_plddt_mask_replaces_low_confidence_letters(run, tmp_path):
    out = tmp_path / "m.h5"
    r = run("protein", "tokenize", "--input", PREDICTED, EXPERIMENTAL, "--output", out, "--plddt-mask", "70")
    assert r.returncode == 0, r.stderr
    items, attrs = _items(out)
    assert attrs["plddt_mask"] == 70.0
    want = np.array(REFERENCE["plddt"], dtype=np.float32)
    for key in ("af_model.cif.gz:A", "af_model.pdb.gz:A"):
        item = items[key]
        expect = "".join(c if p >= 70 else "#" for c, p in zip(item["tdi"], want))
        assert item["masked"] == expect and len(expect) == len(item["tdi"])
        assert 0 < expect.count("#") < len(expect)
    # forced: the experimental file's CA B-factors are read as its pLDDT
    experimental = items["5PTI.cif.gz:A"]
    assert experimental["source"] == "b_factor" and np.isfinite(experimental["plddt"]).all()


def test_plddt_mask_as_pipeline_key_and_refusals(run, tmp_path):
    pipeline = protein_pipeline(tmp_path, [("af", PREDICTED / "af_model.pdb.gz")], "plddt_mask: 50")
    r = run("run", pipeline)
    assert r.returncode == 0, r.stderr
    items, attrs = _items(tmp_path / "out/proteins.h5")
    assert attrs["plddt_mask"] == 50.0 and "#" in items["af:A"]["masked"]
    r = run("protein", "tokenize", "--input", PREDICTED, "--output", tmp_path / "x.h5", "--plddt-mask", "120")
    assert r.returncode != 0 and "--plddt-mask" in r.stderr and "120" in r.stderr
    pipeline.write_text(pipeline.read_text().replace("plddt_mask: 50", "plddt_mask: -1"))
    r = run("run", pipeline)
    assert r.returncode != 0 and "plddt_mask" in r.stderr


def test_gemmi_lenient_records_keep_the_chains(run, tmp_path):
    """A water line shifted by a 5-digit residue number and a residue number `271a`: gemmi reads on,
    and so do we (the water skipped with one warning naming its line); a broken protein atom line
    still fails the file, naming the line."""
    lines = gzip.open(PREDICTED / "af_model.pdb.gz", "rt").read().splitlines()
    atoms = [l for l in lines if l.startswith("ATOM")]
    protein = "\n".join(atoms)
    water = ("HETATM 9001  O   HOH W271a      1.000   2.000   3.000  1.00  0.00           O\n"
             "HETATM 9002  OW  SOL W10000      12.345  23.456  34.567  1.00  0.00           O\n"
             "HETATM 9003  OW  SOL W10001     2.345   3.456   4.567  1.00  0.00           O\n")
    path = tmp_path / "gromacs.pdb"
    path.write_text(protein + "\nTER\n" + water + "END\n")
    out = tmp_path / "g.h5"
    r = run("protein", "tokenize", "--input", path, "--output", out)
    assert r.returncode == 0, r.stderr
    assert f"{path}: skipped 1 water/ligand atom record" in r.stderr and f"line {len(atoms) + 3}" in r.stderr
    assert "271a" in r.stderr
    items, _ = _items(out)
    assert list(items) == ["gromacs.pdb:A"] and len(items["gromacs.pdb:A"]["tdi"]) == len(REFERENCE["plddt"])
    broken = atoms[:]
    broken[5] = broken[5][:30] + "   1.2x3" + broken[5][38:]
    path.write_text("\n".join(broken) + "\nEND\n")
    r = run("protein", "tokenize", "--input", path, "--output", tmp_path / "b.h5")
    assert r.returncode != 0 and f"{path}:6: expected x, y, z numbers" in r.stderr
