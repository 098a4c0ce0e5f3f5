#!/usr/bin/env python3
"""Differential check of `bioembed molecule tokenize` against the 3D-MolT5 reference pipeline
(rdkit-pypi 2022.9.3 = the C++ release BioEmbed links, selfies 2.2.0, e3fp 1.2.7) on SDF files
that other packages ship. Per record: RDKit's verdict (unreadable, 2D), the kekulé SMILES, the
SELFIES, the input ids, the per-token E3FP table and the folded E3FP bits; a record the reference
drops (token outside the vocabulary, alignment failure) must be an error on our side too.

usage: differential.py FILES_DIR OUTPUT.h5 VOCAB     (OUTPUT.h5 written by `bioembed molecule tokenize
--input FILES_DIR`); prints one line per difference and a summary; exit 1 on any difference.
       differential.py --embed FILES_DIR OUT_DIR     writes the 2D records of FILES_DIR with an RDKit
ETKDGv3 conformer (AddHs, seed 42) as OUT_DIR/embedded-<file>.sdf: more real chemistry in 3D.
"""
import json
import pathlib
import sys
from collections import Counter

import h5py
import numpy as np
from rdkit import Chem, RDLogger

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "peers"))
from molt5_reference import load_vocab, tokenize  # noqa: E402

RDLogger.DisableLog("rdApp.*")


def structure_files(folder):
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".sdf", ".mol"))


def embed(source, target):
    from rdkit.Chem import AllChem
    n = 0
    for path in structure_files(source):
        writer = None
        for mol in Chem.SDMolSupplier(str(path)):
            if mol is None or mol.GetNumAtoms() == 0 or mol.GetConformer().Is3D():
                continue
            mol = Chem.AddHs(mol)
            params = AllChem.ETKDGv3()
            params.randomSeed, params.maxIterations = 42, 200
            if AllChem.EmbedMolecule(mol, params) != 0:
                continue
            writer = writer or Chem.SDWriter(str(target / f"embedded-{path.stem}.sdf"))
            writer.write(mol)
            n += 1
        if writer is not None:
            writer.close()
    print(f"{n} 2D records embedded in 3D", file=sys.stderr)


if sys.argv[1] == "--embed":
    embed(pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]))
    sys.exit(0)
files, output, vocab_path = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
vocab = load_vocab(vocab_path)


def reference(mol):
    """The reference's tokens, or (reason, None) where it rejects or drops the record."""
    if mol is None:
        return ("unreadable", None)
    if mol.GetNumAtoms() == 0:
        return ("0 atoms", None)
    if not mol.GetConformer(0).Is3D():
        return ("2D", None)
    result = tokenize(mol, vocab)
    return result if isinstance(result, tuple) else (result, None)


with h5py.File(output) as f:
    g = f["molecules"]
    ids = g["ids"].asstr()[()]
    off, eoff = g["token_offsets"][()], g["e3fp_offsets"][()]
    ours = {}
    for k, name in enumerate(ids):
        a, b = off[k], off[k + 1]
        ours[name] = (g["smiles"].asstr()[k], g["selfies"].asstr()[k], g["input_ids"][a:b], g["fp_tokens"][a:b],
                      g["e3fp_bits"][eoff[k]:eoff[k + 1]])
    errors = {}
    if "errors" in f:
        errors = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))

counts, shown = Counter(), 0


def differ(name, what):
    global shown
    counts["differ"] += 1
    if shown < 40:
        print(f"DIFFER {name}: {what}")
        shown += 1


for path in structure_files(files):
    supplier = Chem.SDMolSupplier(str(path))
    for k in range(len(supplier)):
        # a one-record file's id is the file name alone
        name = f"{path.name}#{k}"
        if name not in ours and name not in errors and len(supplier) == 1:
            name = path.name
        ref = reference(supplier[k])
        if len(ref) == 2:   # the reference drops or rejects it
            counts[f"reference {ref[0]}"] += 1
            if name in ours:
                differ(name, f"reference: {ref[0]}, ours tokenized")
            elif name not in errors:
                differ(name, f"reference: {ref[0]}, ours: neither a row nor an error")
            continue
        if name not in ours:
            differ(name, f"reference tokenized, ours: {errors.get(name, 'missing')}")
            continue
        smi, s, rid, rfp, rbits = ref
        osmi, os_, oid, ofp, obits = ours[name]
        if osmi != smi:
            differ(name, f"smiles {osmi!r} vs {smi!r}")
        elif os_ != s:
            differ(name, f"selfies {os_!r} vs {s!r}")
        elif not np.array_equal(oid, rid):
            differ(name, "input_ids")
        elif not np.array_equal(ofp, rfp):
            differ(name, f"fp_tokens at rows {np.nonzero((ofp != rfp).any(1))[0][:8].tolist()}")
        elif not np.array_equal(np.sort(obits), rbits):
            differ(name, "e3fp_bits")
        else:
            counts["equal"] += 1
print(json.dumps(dict(sorted(counts.items()))))
sys.exit(1 if counts["differ"] else 0)
