#!/usr/bin/env python3
"""The reference Python side of the molecule benchmark: the 3D-MolT5 tokenization as the authors'
pipeline does it (RDKit SDMolSupplier defaults, kekulé SMILES, renumbering, selfies 2.x with
attribution, e3fp Fingerprinter with 3D-MolT5's parameters and the duplicate re-pointing, ids in
the <bom> SELFIES <eom> </s> layout), or E3FP alone.

usage: molt5_tokenize.py molt5|e3fp|smiles INPUT LIMIT VOCAB     (one JSON line)
smiles: INPUT is a .smi file; each molecule gets an ETKDGv3 conformer first (AddHs, randomSeed 42,
EmbedMultipleConfs), written as a MOL block and read back with SDMolSupplier's defaults, then the
3D-MolT5 tokenization: the reference of `bioembed molecule tokenize --input FILE.smi`.
"""
import json
import sys
import time

import numpy as np
import selfies as sf
from rdkit import Chem, RDLogger
from e3fp.fingerprint.fprinter import Fingerprinter, signed_to_unsigned_int

RDLogger.DisableLog("rdApp.*")
PARAMS = dict(bits=4096, level=3, radius_multiplier=1.718, stereo=True, counts=False,
              include_disconnected=True, rdkit_invariants=True, exclude_floating=False,
              remove_duplicate_substructs=True)
mode, path, limit, vocab_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
vocab = {t.strip(): 32100 + i for i, t in enumerate(open(vocab_path))}
BOM, EOM, EOS = 35045, 35044, 1


def e3fp_table(mol):
    fpr = Fingerprinter(**PARAMS)
    fpr.run(mol.GetConformer(0), mol)
    on = set(int(i) for i in fpr.get_fingerprint_at_level(3).indices)
    shells = fpr.all_shells
    bit = lambda ident: int(signed_to_unsigned_int(ident) % 4096)
    idents = []
    for si in shells:
        ident = si.identifier
        if bit(ident) not in on:
            for sj in shells:
                if si.substruct == sj.substruct and si.identifier != sj.identifier and bit(sj.identifier) in on:
                    ident = sj.identifier
                    break
        idents.append(ident)
    per_level = len(shells) // len(fpr.level_shells)
    table = -np.ones((mol.GetNumAtoms(), 4), dtype=np.int32)
    for i, s in enumerate(shells):
        table[s.center_atom, i // per_level] = bit(idents[i])
    return sorted(on), table


def tokenize(mol):
    smi = Chem.MolToSmiles(mol, kekuleSmiles=True)
    order = list(mol.GetPropsAsDict(includePrivate=True, includeComputed=True)["_smilesAtomOutputOrder"])
    mol = Chem.RenumberAtoms(mol, order)
    try:
        s = sf.encoder(smi)
    except Exception:
        s = sf.encoder(smi, strict=False)
    toks = list(sf.split_selfies(s))
    if any(t not in vocab for t in toks):
        return None
    _, attribution = sf.decoder(s, attribute=True)
    atom_tok = list(dict.fromkeys(a.attribution[-1].index for a in attribution))
    if len(atom_tok) != mol.GetNumAtoms():
        return None
    _, table = e3fp_table(mol)
    rows = -np.ones((len(toks), 4), dtype=np.int32)
    for i, t in enumerate(atom_tok):
        rows[t] = table[i]
    ids = [BOM] + [vocab[t] for t in toks] + [EOM, EOS]
    fp = np.concatenate([-np.ones((1, 4), np.int32), rows, -np.ones((2, 4), np.int32)])
    return np.array(ids, np.int32), fp


if mode == "smiles":
    from rdkit.Chem import AllChem
    t0, c0 = time.perf_counter(), time.process_time()
    done = 0
    for k, line in enumerate(open(path)):
        if k >= limit:
            break
        mol = Chem.MolFromSmiles(line.split()[0])
        if mol is None:
            continue
        mol = Chem.AddHs(mol)
        params = AllChem.ETKDGv3()
        params.randomSeed = 42
        for cid in AllChem.EmbedMultipleConfs(mol, 1, params):
            back = Chem.MolFromMolBlock(Chem.MolToMolBlock(mol, confId=cid))
            if back is not None and tokenize(back) is not None:
                done += 1
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"tool": "reference", "case": "smiles-conformer-tokenize", "molecules": done, "seconds": seconds,
                      "mol_per_s": done / seconds, "cpu_seconds": cpu, "mol_per_cpu_s": done / cpu}))
elif mode == "molt5":
    t0, c0 = time.perf_counter(), time.process_time()
    done = 0
    for k, mol in enumerate(Chem.SDMolSupplier(path)):
        if k >= limit:
            break
        if mol is not None and tokenize(mol) is not None:
            done += 1
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"tool": "reference", "case": "molt5-tokenize", "molecules": done, "seconds": seconds,
                      "mol_per_s": done / seconds, "cpu_seconds": cpu, "mol_per_cpu_s": done / cpu}))
else:
    mols = [m for k, m in zip(range(limit), Chem.SDMolSupplier(path)) if m is not None]
    t0, c0 = time.perf_counter(), time.process_time()
    for mol in mols:
        fpr = Fingerprinter(**PARAMS)
        fpr.run(mol.GetConformer(0), mol)
        fpr.get_fingerprint_at_level(3)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"tool": "reference", "case": "e3fp", "molecules": len(mols), "seconds": seconds,
                      "mol_per_s": len(mols) / seconds, "cpu_seconds": cpu, "mol_per_cpu_s": len(mols) / cpu}))
