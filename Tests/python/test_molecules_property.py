"""Property test of the molecule path against the `selfies` and `e3fp` packages (and RDKit from
PyPI) over a few thousand NCI molecules shipped in the rdkit wheel (Data/NCI/first_5K.smi).

Coordinates: RDKit 2D depictions with a random z (σ 0.7 Å) added, marked 3D: cheap, and both
sides fingerprint the same coordinates. Checked per molecule:
- SELFIES: `selfies.encoder(our kekulé SMILES)` (strict, then non-strict) equals our SELFIES; the
  package decoder's attribution gives our atom→token map; decoding our SELFIES gives back the
  molecule (RDKit canonical SMILES equal) whenever strict encoding succeeded.
- E3FP: the `e3fp` package (3D-MolT5 parameters) on the same SDF record gives our folded bits
  (every molecule up to N_E3FP = 3000: the package runs ≈ 60 molecules/s here, ~50 s).

RDKit in this venv is the PyPI release, ours is Debian's 2022.09.3: a molecule whose SMILES the two
releases perceive differently is skipped for the E3FP comparison (counted, and must stay rare).
Skipped as a whole when rdkit/selfies/e3fp are not installed in the test venv."""
import json
import os

import h5py
import numpy as np
import pytest

Chem = pytest.importorskip("rdkit.Chem")
sf = pytest.importorskip("selfies")
fprinter = pytest.importorskip("e3fp.fingerprint.fprinter")
from rdkit import RDConfig, RDLogger  # noqa: E402
from rdkit.Chem import AllChem  # noqa: E402

RDLogger.DisableLog("rdApp.*")
N_MOLECULES = int(os.environ.get("BIOEMBED_PROPERTY_MOLECULES", "3000"))
N_E3FP = int(os.environ.get("BIOEMBED_PROPERTY_E3FP", "3000"))
PARAMS = dict(bits=4096, level=3, radius_multiplier=1.718, stereo=True, counts=False,
              include_disconnected=True, rdkit_invariants=True, exclude_floating=False,
              remove_duplicate_substructs=True)


def make_library(path, n):
    rng = np.random.default_rng(5)
    writer = Chem.SDWriter(str(path))
    count = 0
    for line in open(os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")):
        if count >= n:
            break
        parts = line.split()
        mol = Chem.MolFromSmiles(parts[0]) if parts else None
        if mol is None or mol.GetNumAtoms() < 2:
            continue
        AllChem.Compute2DCoords(mol)
        conf = mol.GetConformer()
        for i in range(mol.GetNumAtoms()):
            p = conf.GetAtomPosition(i)
            conf.SetAtomPosition(i, (p.x, p.y, float(rng.normal(0, 0.7))))
        conf.Set3D(True)
        mol.SetProp("_Name", parts[-1])
        writer.write(mol)
        count += 1
    writer.close()
    return count


def reference_selfies(smiles):
    """(SELFIES, strict?) as the reference encodes: strict first, then non-strict."""
    try:
        return sf.encoder(smiles), True
    except Exception:
        return sf.encoder(smiles, strict=False), False


def canonical(smiles):
    mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def test_selfies_and_e3fp_agree_with_the_packages(run, tmp_path):
    sdf = tmp_path / "nci.sdf"
    n = make_library(sdf, N_MOLECULES)
    out = tmp_path / "nci.h5"
    r = run("molecule", "tokenize", "--input", sdf, "--output", out, "--jobs", "2")
    assert r.returncode in (0, 2), r.stderr
    with h5py.File(out) as f:
        g = f["molecules"]
        ids = list(g["ids"].asstr()[()])
        smiles = list(g["smiles"].asstr()[()])
        selfies = list(g["selfies"].asstr()[()])
        atom_off, bit_off = g["atom_offsets"][()], g["e3fp_offsets"][()]
        atom_tok, bits = g["atom_token_index"][()], g["e3fp_bits"][()]
        failed = list(f["errors/ids"].asstr()[()]) if "errors" in f else []
        messages = list(f["errors/message"].asstr()[()]) if "errors" in f else []
    assert len(ids) + len(failed) == n
    # The random z makes RDKit perceive some hypervalent centres as trigonal-bipyramidal or
    # square-planar stereo (@TB, @SP), which SELFIES cannot write: the reference drops those too.
    assert len(ids) >= 0.9 * n, f"{len(failed)} of {n} molecules failed"
    allowed = ("SELFIES cannot encode", "SELFIES decodes to", "not in the 3D-MolT5 vocabulary",
               "no attribution for a ring-bond token", "RDKit could not read")  # (release differences)
    unexpected = [m for m in messages if not any(a in m for a in allowed)]
    assert not unexpected, unexpected[:5]

    problems = []
    for k, (smi, ours) in enumerate(zip(smiles, selfies)):
        reference, strict = reference_selfies(smi)
        if reference != ours:
            problems.append(("encoder", ids[k], smi))
            continue
        decoded, attribution = sf.decoder(ours, attribute=True)
        alignment = list(dict.fromkeys(a.attribution[-1].index for a in attribution))
        if alignment != atom_tok[atom_off[k]:atom_off[k + 1]].tolist():
            problems.append(("alignment", ids[k], smi))
        # Non-strict SELFIES break the bond constraints and need not round-trip (selfies docs).
        if strict and canonical(decoded) != canonical(smi):
            problems.append(("round trip", ids[k], smi))
    assert not problems, f"{len(problems)} SELFIES disagreements, e.g. {problems[:5]}"

    position = {item: k for k, item in enumerate(ids)}
    compared = skipped = 0
    e3fp_problems = []
    for record, mol in enumerate(Chem.SDMolSupplier(str(sdf))):
        if compared >= N_E3FP:
            break
        k = position.get(f"nci.sdf#{record}")
        if mol is None or k is None:
            continue
        if canonical(Chem.MolToSmiles(mol, kekuleSmiles=True)) != canonical(smiles[k]):
            skipped += 1  # the two RDKit releases perceive this molecule differently
            continue
        fpr = fprinter.Fingerprinter(**PARAMS)
        fpr.run(mol.GetConformer(0), mol)
        reference = sorted(int(i) for i in fpr.get_fingerprint_at_level(3).indices)
        if reference != bits[bit_off[k]:bit_off[k + 1]].tolist():
            e3fp_problems.append((ids[k], smiles[k]))
        compared += 1
    print(json.dumps({"selfies_checked": len(ids), "e3fp_checked": compared, "e3fp_skipped": skipped}))
    assert compared >= 0.9 * min(N_E3FP, len(ids))
    assert not e3fp_problems, f"{len(e3fp_problems)} of {compared} E3FP fingerprints differ, e.g. {e3fp_problems[:5]}"
