"""Molecules found outside the fixtures: SDF aromatic bonds (order 4) kept as `:` by RDKit's kekulé
SMILES and kekulized by selfies 2.2.0 (oddt's PDBbind ligands), RDKit-private `_` data items, and a
0-atom record. The reference is RDKit + selfies in the test venv."""
import json
import pathlib

import h5py
import selfies as sf
from rdkit import Chem, RDLogger

REPO = pathlib.Path(__file__).resolve().parents[2]
OUTSIDE = REPO / "Tests/Fixtures/molecules-outside"
RDLogger.DisableLog("rdApp.*")


def _molecules(path):
    with h5py.File(path) as f:
        g = f["molecules"]
        return {i: {"smiles": s, "selfies": e, "fields": json.loads(d)}
                for i, s, e, d in zip(g["ids"].asstr()[()], g["smiles"].asstr()[()], g["selfies"].asstr()[()],
                                      g["sdf_fields"].asstr()[()])}


def test_aromatic_sdf_bonds_are_kekulized_as_selfies_does(run, tmp_path):
    out = tmp_path / "m.h5"
    r = run("molecule", "tokenize", "--input", OUTSIDE, "--output", out)
    assert r.returncode == 0, r.stderr
    rows = _molecules(out)
    assert len(rows) == 3
    for path in sorted(OUTSIDE.glob("*.sdf")):
        mol = next(Chem.SDMolSupplier(str(path)))
        smiles = Chem.MolToSmiles(mol, kekuleSmiles=True)
        assert ":" in smiles   # the case: aromatic bonds RDKit could not kekulize
        row = rows[path.name]
        assert row["smiles"] == smiles
        assert row["selfies"] == sf.encoder(smiles)
        # and the SELFIES decodes to the same molecule as the SMILES, not a saturated ring
        assert Chem.CanonSmiles(sf.decoder(row["selfies"])) == Chem.CanonSmiles(sf.decoder(sf.encoder(smiles)))


def test_private_data_items_hidden_and_empty_record_named(run, tmp_path):
    from rdkit.Chem import AllChem
    mol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    AllChem.EmbedMolecule(mol, randomSeed=7)
    block = Chem.MolToMolBlock(mol)
    sdf = tmp_path / "items.sdf"
    empty = "empty\n  RDKit          3D\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n"
    sdf.write_text(block + "> <_Name>\nhidden\n\n> <activity>\n7.5\n\n$$$$\n" + empty)
    out = tmp_path / "i.h5"
    r = run("molecule", "tokenize", "--input", sdf, "--output", out)
    assert r.returncode == 2, r.stderr
    rows = _molecules(out)
    assert rows["items.sdf#0"]["fields"] == {"activity": "7.5"}
    with h5py.File(out) as f:
        errors = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
    assert "0 atoms" in errors["items.sdf#1"] and "_smilesAtomOutputOrder" not in errors["items.sdf#1"]


def test_missing_record_separator_is_reported(run, tmp_path):
    """A record whose `$$$$` line is missing: RDKit's SDMolSupplier reads the first MOL block and
    skips the second; so does BioEmbed (same record numbering), with a warning naming both lines."""
    from rdkit.Chem import AllChem
    blocks = []
    for smiles in ("CCO", "CCN"):
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        AllChem.EmbedMolecule(mol, randomSeed=3)
        blocks.append(Chem.MolToMolBlock(mol))
    sdf = tmp_path / "joined.sdf"
    sdf.write_text(blocks[0] + "> <p>\n1\n\n" + blocks[1] + "$$$$\n")
    assert len([m for m in Chem.SDMolSupplier(str(sdf))]) == 1
    second_end = blocks[0].count("\n") + 3 + blocks[1].count("\n")
    r = run("molecule", "tokenize", "--input", sdf, "--output", tmp_path / "j.h5")
    assert r.returncode == 0, r.stderr
    assert f"record 0 (line 1): another MOL block ends at line {second_end}" in r.stderr
    assert list(_molecules(tmp_path / "j.h5")) == ["joined.sdf"]
