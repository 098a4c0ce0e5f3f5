"""The 3D-MolT5 tokenization as the authors' pipeline does it, for the reference sides of the
benchmarks (molt5_tokenize.py) and the differential check (scripts/molecule/differential.py): kekulé
SMILES, atoms renumbered in SMILES order, selfies 2.x (strict, then non-strict) with the decoder's
attribution, e3fp's Fingerprinter with 3D-MolT5's parameters and the duplicate-shell re-pointing, ids
in the <bom> SELFIES <eom> </s> layout."""
import numpy as np
import selfies as sf
from e3fp.fingerprint.fprinter import Fingerprinter, signed_to_unsigned_int
from rdkit import Chem

PARAMS = dict(bits=4096, level=3, radius_multiplier=1.718, stereo=True, counts=False,
              include_disconnected=True, rdkit_invariants=True, exclude_floating=False,
              remove_duplicate_substructs=True)
BOM, EOM, EOS = 35045, 35044, 1


def load_vocab(path):
    return {t.strip(): 32100 + i for i, t in enumerate(open(path))}


def e3fp_table(mol):
    """The folded bits that are on, and per atom its bit at each of the 4 levels (-1: none)."""
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


def tokenize(mol, vocab):
    """(smiles, selfies, ids, fp_tokens, bits), or the reason the pipeline drops the molecule:
    "selfies" (no encoding), "vocabulary" (a token outside it), "alignment" (attribution)."""
    smi = Chem.MolToSmiles(mol, kekuleSmiles=True)
    order = list(mol.GetPropsAsDict(includePrivate=True, includeComputed=True)["_smilesAtomOutputOrder"])
    mol = Chem.RenumberAtoms(mol, order)
    try:
        s = sf.encoder(smi)
    except Exception:
        try:
            s = sf.encoder(smi, strict=False)
        except Exception:
            return "selfies"
    toks = list(sf.split_selfies(s))
    if any(t not in vocab for t in toks):
        return "vocabulary"
    _, attribution = sf.decoder(s, attribute=True)
    atom_tok = list(dict.fromkeys(a.attribution[-1].index for a in attribution))
    if len(atom_tok) != mol.GetNumAtoms():
        return "alignment"
    bits, table = e3fp_table(mol)
    rows = -np.ones((len(toks), 4), dtype=np.int32)
    for i, t in enumerate(atom_tok):
        rows[t] = table[i]
    ids = [BOM] + [vocab[t] for t in toks] + [EOM, EOS]
    fp = np.concatenate([-np.ones((1, 4), np.int32), rows, -np.ones((2, 4), np.int32)])
    return smi, s, np.array(ids, np.int32), fp, np.array(bits, np.int64)
