"""Differential check of `bioembed protein tokenize` against the reference path on any folder of
structures: gemmi.read_structure + setup_entities + the residue rules of the protein fixtures'
README (model 1, author chains, first conformer, polymer/unknown ATOM/HETATM residues with a CA,
first record per atom name, or the last with --altloc last) + mini3di for 3Di (chains > 3 residues).

usage: differential.py FOLDER OUTPUT.h5 [first|last] [all-models]
OUTPUT.h5 is `bioembed protein tokenize --input FOLDER --output OUTPUT.h5 --min-length 1 [--altloc last]
[--all-models]` (with all-models, every model is compared, ids <file>:<model>:<chain>).
Prints one line per difference and a JSON summary; exits 1 when anything differs.
PDB files gemmi rejects for a legacy line serial in columns 73-80 are read with those columns blank,
as the fixtures were made."""
import gzip, os, sys, json
import numpy as np, gemmi, h5py
from mini3di import Encoder

folder, h5 = sys.argv[1], sys.argv[2]
altloc = sys.argv[3] if len(sys.argv) > 3 else "first"
all_models = len(sys.argv) > 4 and sys.argv[4] == "all-models"
enc = Encoder()
def read(path):
    try:
        return gemmi.read_structure(path), False
    except Exception as e:
        op = gzip.open if path.endswith(".gz") else open
        with op(path, "rt", errors="replace") as f:
            text = f.read()
        if ".cif" in path:
            raise
        text = "\n".join(l[:72] if l.startswith(("ATOM", "HETATM")) else l for l in text.split("\n"))
        return gemmi.read_pdb_string(text), True

def extract(st):
    """(chain id as in our ids, rows) per kept chain of model 1, or of every model."""
    st.setup_entities()
    out = []
    for model in (list(st) if all_models else list(st)[:1]):
        for ch in model:
            rows = []
            for res in ch.first_conformer():
                if res.entity_type not in (gemmi.EntityType.Polymer, gemmi.EntityType.Unknown): continue
                if res.het_flag not in ("A", "H"): continue
                atoms = {}
                for a in res:
                    if altloc == "last":
                        atoms[a.name] = (a.pos.x, a.pos.y, a.pos.z)
                    else:
                        atoms.setdefault(a.name, (a.pos.x, a.pos.y, a.pos.z))
                if "CA" not in atoms: continue
                rows.append((res.seqid.num, res.seqid.icode, [atoms.get(n, (np.nan,) * 3) for n in ("CA", "CB", "N", "C")]))
            if rows: out.append((f"{model.num}:{ch.name}" if all_models else ch.name, rows))
    return out

f = h5py.File(h5)
g = f["proteins"]
ids = [x.decode() if isinstance(x, bytes) else x for x in g["ids"][()]]
index = {k: i for i, k in enumerate(ids)}
roff = g["residue_offsets"][()]
errs = {}
if "errors" in f:
    for i, m in zip(f["errors/ids"][()], f["errors/message"][()]):
        errs[i.decode() if isinstance(i, bytes) else i] = m.decode() if isinstance(m, bytes) else m
problems = 0; files = 0; chains = 0; skipped = []
for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    try:
        st, sanitized = read(path)
    except Exception as e:
        skipped.append((name, str(e)[:60])); continue
    files += 1
    if len(st) == 0:
        ref = []
    else:
        ref = extract(st)
    ours = [k for k in ids if k.startswith(name + ":")]
    ref_names = [n for n, _ in ref]
    our_names = [k[len(name) + 1:] for k in ours]
    if ref_names != our_names:
        print(f"{name}: chains ref {ref_names} ours {our_names} {[errs.get(k) for k in errs if k.startswith(name)][:2]}"); problems += 1
    for cname, rows in ref:
        k = f"{name}:{cname}"
        if k not in index: continue
        chains += 1
        i = index[k]; lo, hi = roff[i], roff[i + 1]
        nums = [r[0] for r in rows]; icodes = [r[1] for r in rows]
        if hi - lo != len(nums) or list(g["residue_number"][lo:hi]) != nums:
            print(f"{k}: residue numbers differ ({hi-lo} vs {len(nums)})"); problems += 1; continue
        ic = [x.decode() if isinstance(x, bytes) else x for x in g["insertion_code"][lo:hi]]
        if ic != icodes:
            print(f"{k}: icodes differ"); problems += 1
        c = np.array([r[2] for r in rows], dtype=np.float64)
        ca = g["ca"][lo:hi]
        d = np.nanmax(np.abs(ca - c[:, 0])) if len(ca) else 0
        if not (d <= 1e-3) or (np.isnan(ca) != np.isnan(c[:, 0])).any():
            print(f"{k}: CA differs by {d}"); problems += 1
        if len(rows) > 3:
            ref3 = enc.build_sequence(enc.encode_atoms(c[:, 0], c[:, 1], c[:, 2], c[:, 3]))
            our3 = g["tokens_3di"][i]; our3 = our3.decode() if isinstance(our3, bytes) else our3
            if ref3 != our3:
                diff = sum(a != b for a, b in zip(ref3, our3))
                print(f"{k}: 3Di differs at {diff} of {len(ref3)} residues"); problems += 1
print(json.dumps({"files": files, "chains": chains, "problems": problems, "skipped": skipped[:10], "n_skipped": len(skipped)}))
sys.exit(1 if problems else 0)
