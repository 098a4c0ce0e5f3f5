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

from rdkit import Chem, RDLogger
from e3fp.fingerprint.fprinter import Fingerprinter

from molt5_reference import PARAMS, load_vocab, tokenize as reference_tokenize

RDLogger.DisableLog("rdApp.*")
mode, path, limit, vocab_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
vocab = load_vocab(vocab_path)


def tokenize(mol):
    result = reference_tokenize(mol, vocab)
    return result if isinstance(result, tuple) else None


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
