"""Reference conformers for SMILES inputs, as RDKit's Python makes them: per molecule
`mol = Chem.AddHs(Chem.MolFromSmiles(s))`, `params = AllChem.ETKDGv3(); params.randomSeed = SEED`,
`AllChem.EmbedMultipleConfs(mol, N, params)` (and `MMFFOptimizeMoleculeConfs(mol, maxIters=200)` with
--mmff), then each conformer as an SDF record read back with SDMolSupplier's defaults: its kekulé
SMILES and heavy-atom coordinates in SMILES output order (what `/molecules` stores).

usage: smiles-conformers-reference.py FILE.smi SEED N [--mmff]   (JSON on stdout)
Run it with RDKit 2022.9.3 (`rdkit-pypi==2022.9.3`), the release BioEmbed links."""
import json
import sys

from rdkit import Chem, RDLogger, rdBase
from rdkit.Chem import AllChem

RDLogger.DisableLog("rdApp.*")
path, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mmff = "--mmff" in sys.argv[4:]
out = {"rdkit": rdBase.rdkitVersion, "molecules": []}
for line in open(path):
    parts = line.split()
    if not parts or parts[0].startswith("#"):
        continue
    smiles, name = parts[0], parts[1]
    mol = Chem.MolFromSmiles(smiles)
    entry = {"id": name, "conformers": []}
    if mol is not None:
        mol = Chem.AddHs(mol)
        params = AllChem.ETKDGv3()
        params.randomSeed = seed
        ids = list(AllChem.EmbedMultipleConfs(mol, count, params))
        if mmff and ids:
            AllChem.MMFFOptimizeMoleculeConfs(mol, numThreads=1, maxIters=200)
        for cid in ids:
            back = Chem.MolFromMolBlock(Chem.MolToMolBlock(mol, confId=cid))
            kekule = Chem.MolToSmiles(back, kekuleSmiles=True)
            order = list(back.GetPropsAsDict(True, True)["_smilesAtomOutputOrder"])
            pos = back.GetConformer().GetPositions()
            entry["conformers"].append({"smiles": kekule, "coordinates": [list(map(float, pos[i])) for i in order]})
    out["molecules"].append(entry)
json.dump(out, sys.stdout)
