"""Molecules from SMILES: seeded RDKit ETKDGv3 conformers through the shim equal RDKit 2022.9.3's
Python `AllChem.EmbedMultipleConfs` (same C++ release) for 200 drug-like ChEMBL molecules and
several seeds, conformer counts and MMFF94 (≤ 1e-4 Å on the stored heavy-atom coordinates, equal
kekulé SMILES, the same molecules without a conformer); CSV input with id and extra columns; errors.
The reference runs in `.venv-rdkit2022` (rdkit-pypi 2022.9.3, made by `make test`)."""
import json
import os
import pathlib
import subprocess

import h5py
import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DRUGS = REPO / "Tests/Fixtures/molecules-smiles/drugs.smi"
REFERENCE_PY = os.environ.get("BIOEMBED_RDKIT2022_PY", str(REPO / ".venv-rdkit2022/bin/python"))
SCRIPT = REPO / "scripts/molecule/smiles-conformers-reference.py"


def _reference(path, seed, count, mmff=False):
    args = [REFERENCE_PY, str(SCRIPT), str(path), str(seed), str(count)] + (["--mmff"] if mmff else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=900)
    data = json.loads(out.stdout)
    assert data["rdkit"] == "2022.09.3"
    return data["molecules"]


def _ours(path):
    with h5py.File(path) as f:
        g = f["molecules"]
        off = g["atom_offsets"][()]
        return {i: (s, g["coordinates"][off[k]:off[k + 1]])
                for k, (i, s) in enumerate(zip(g["ids"].asstr()[()], g["smiles"].asstr()[()]))}, \
            set(f["errors/ids"].asstr()[()]) if "errors" in f else set()


@pytest.mark.parametrize("seed,count,mmff,subset", [(42, 1, False, None), (7, 1, False, None), (2024, 3, False, 60), (11, 2, True, 40)])
def test_conformers_equal_rdkit_python(run, tmp_path, seed, count, mmff, subset):
    source = DRUGS
    if subset:
        source = tmp_path / "subset.smi"
        source.write_text("".join(DRUGS.read_text().splitlines(keepends=True)[:subset]))
    out = tmp_path / "c.h5"
    args = ["molecule", "tokenize", "--input", source, "--output", out, "--seed", seed, "--conformers", count, "--jobs", "2"]
    r = run(*(args + (["--mmff"] if mmff else [])), timeout=900)
    assert r.returncode in (0, 2), r.stderr
    ours, failed = _ours(out)
    reference = _reference(source, seed, count, mmff)
    compared = 0
    for molecule in reference:
        if not molecule["conformers"]:
            assert molecule["id"] in failed   # no conformer there either: an item error here
            continue
        for k, conformer in enumerate(molecule["conformers"]):
            smiles, xyz = ours[f"{molecule['id']}#c{k}"]
            assert smiles == conformer["smiles"]
            assert np.max(np.abs(xyz - np.array(conformer["coordinates"]))) <= 1e-4, molecule["id"]
            compared += 1
        assert f"{molecule['id']}#c{len(molecule['conformers'])}" not in ours
    assert compared >= 0.95 * len(reference) * count


def test_csv_columns_ids_and_errors(run, tmp_path):
    table = tmp_path / "lib.csv"
    table.write_text('chembl_id,canonical_smiles,activity\nCHEMBL25,CC(=O)Oc1ccccc1C(=O)O,"5.1"\n'
                     'CHEMBL1,C1CC1C(,7\nCHEMBL2,c1ccccc1O,"a, b"\n')
    out = tmp_path / "t.h5"
    r = run("molecule", "tokenize", "--input", table, "--output", out, "--id-column", "chembl_id")
    assert r.returncode == 2, r.stderr
    with h5py.File(out) as f:
        g = f["molecules"]
        ids = list(g["ids"].asstr()[()])
        fields = [json.loads(x) for x in g["sdf_fields"].asstr()[()]]
        errors = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
    assert ids == ["CHEMBL25#c0", "CHEMBL2#c0"] and fields[1] == {"activity": "a, b"}
    assert f"{table}: line 3" in errors["CHEMBL1"] and "SMILES" in errors["CHEMBL1"]
    r = run("molecule", "tokenize", "--input", table, "--output", out, "--conformers", "0")
    assert r.returncode != 0 and "--conformers" in r.stderr
    r = run("molecule", "tokenize", "--input", table, "--output", out, "--smiles-column", "nope")
    assert r.returncode != 0 and "nope" in r.stderr


def test_attempt_and_time_limits(run, tmp_path):
    """A time limit that has passed stops the embedding at its first attempt (an item error saying
    so, the other settings' molecules unaffected); the attempt limit reaches RDKit's maxIterations."""
    smi = tmp_path / "two.smi"
    smi.write_text("CC(=O)Oc1ccccc1C(=O)O aspirin\nc1ccccc1O phenol\n")
    out = tmp_path / "t.h5"
    r = run("molecule", "tokenize", "--input", smi, "--output", out, "--embed-timeout", "0.000000001")
    assert r.returncode == 3 or r.returncode == 2, r.stderr
    with h5py.File(out) as f:
        errors = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
    assert set(errors) == {"aspirin", "phenol"} and all("time limit" in m for m in errors.values())
    r = run("molecule", "tokenize", "--input", smi, "--output", out, "--embed-attempts", "5", "--seed", "3")
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f:
        assert list(f["molecules/ids"].asstr()[()]) == ["aspirin#c0", "phenol#c0"]
        assert f["molecules"].attrs["conformer_seed"] == 3
