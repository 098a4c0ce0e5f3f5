"""Differential check of `/proteins/dssp` against mkdssp (Debian `dssp`, 4.2.2) on any folder of
structures.

usage: dssp-differential.py FOLDER OUTPUT.h5
OUTPUT.h5 is `bioembed protein tokenize --input FOLDER --output OUTPUT.h5 --min-length 1`.

mkdssp runs on each original file; when it refuses one (mkdssp 4.2 wants a HEADER line in PDB files
and a non-blank chain id), it runs on model 1 rewritten by gemmi with HEADER and CRYST1 lines, a
blank chain id renamed and mapped back. Its classic output is matched to our residues by (author
chain, residue number, insertion code), the first record of a number winning as in our chains.
Counts residues where both give a letter and agree or differ, and residues only one side reports
(our `?` against a mkdssp letter and the reverse). Prints one line per differing chain and a JSON
summary; exits 1 when a letter differs."""
import gzip, json, os, pathlib, subprocess, sys, tempfile

import h5py


def _s(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def run_mkdssp(path, work):
    out = os.path.join(work, "out.dssp")
    if os.path.exists(out):
        os.remove(out)
    src = path
    if path.endswith(".gz"):
        src = os.path.join(work, os.path.basename(path)[:-3])
        with gzip.open(path, "rb") as f, open(src, "wb") as g:
            g.write(f.read())
    r = subprocess.run(["mkdssp", "--output-format", "dssp", src, out], capture_output=True, text=True, timeout=600)
    if r.returncode == 0 and os.path.exists(out):
        return parse(out, {}), "original"
    import gemmi  # only for files mkdssp refuses
    try:
        st = gemmi.read_structure(path)
    except Exception as e:
        return None, f"gemmi: {e}"
    st.setup_entities()
    while len(st) > 1:
        del st[1]
    renamed = {}
    for ch in st[0]:
        if ch.name.strip() == "":
            ch.name = "Z"
            renamed["Z"] = ""
    if not st.cell.is_crystal():
        st.cell = gemmi.UnitCell(1, 1, 1, 90, 90, 90)
    rewritten = os.path.join(work, "rewritten.pdb")
    try:
        text = st.make_pdb_string()
    except RuntimeError:
        # names the PDB format cannot hold (chain ids of more than 2 characters): mmCIF instead
        rewritten = os.path.join(work, "rewritten.cif")
        st.make_mmcif_document().write_file(rewritten)
    else:
        if not text.startswith("HEADER"):
            text = "HEADER    REWRITTEN                               01-JAN-00   XXXX              \n" + text
        with open(rewritten, "w") as f:
            f.write(text)
    r = subprocess.run(["mkdssp", "--output-format", "dssp", rewritten, out], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"
    return parse(out, renamed), "rewritten"


def parse(out, renamed):
    """{(chain, number, icode): letter}, the first record of each key."""
    letters = {}
    started = False
    for line in open(out):
        if line.startswith("  #  RESIDUE"):
            started = True
            continue
        if not started or len(line) < 17 or line[13] == "!":
            continue
        number, icode, chain = int(line[5:10]), line[10], line[11]
        chain = renamed.get(chain, chain)
        letters.setdefault((chain, number, icode), line[16] if line[16] != " " else "-")
    return letters


def main():
    folder, h5 = sys.argv[1], sys.argv[2]
    summary = {"files": 0, "refused_by_mkdssp": 0, "rewritten": 0, "chains": 0, "agree": 0, "differ": 0,
               "ours_only": 0, "mkdssp_only": 0, "differing_chains": 0}
    with h5py.File(h5) as f:
        g = f["proteins"]
        ids, files, dssp = _s(g["ids"][()]), _s(g["file"][()]), _s(g["dssp"][()])
        chains, offsets = _s(g["chain"][()]), g["residue_offsets"][()]
        numbers, icodes = g["residue_number"][()], _s(g["insertion_code"][()])
    only = {}
    by_file = {}
    for k, path in enumerate(files):
        by_file.setdefault(path, []).append(k)
    with tempfile.TemporaryDirectory() as work:
        for path, items in sorted(by_file.items()):
            summary["files"] += 1
            full = path if os.path.isabs(path) else os.path.join(folder, os.path.basename(path))
            ref, how = run_mkdssp(full, work)
            if ref is None:
                summary["refused_by_mkdssp"] += 1
                continue
            summary["rewritten"] += how == "rewritten"
            for k in items:
                summary["chains"] += 1
                lo, hi = offsets[k], offsets[k + 1]
                ours = dssp[k]
                theirs = "".join(ref.get((chains[k], int(numbers[r]), icodes[r] or " "), "?") for r in range(lo, hi))
                bad = 0
                for a, b in zip(ours, theirs):
                    if a == "?" and b != "?":
                        summary["mkdssp_only"] += 1
                    elif b == "?" and a != "?":
                        summary["ours_only"] += 1
                        only.setdefault(f"{ids[k]} ({how})", 0)
                        only[f"{ids[k]} ({how})"] += 1
                    elif a == b:
                        summary["agree"] += a != "?"
                    else:
                        summary["differ"] += 1
                        bad += 1
                if bad:
                    summary["differing_chains"] += 1
                    print(f"{ids[k]} ({how}): {bad} letters differ\n  ours   {ours}\n  mkdssp {theirs}")
    if os.environ.get("VERBOSE"):
        for key, n in sorted(only.items(), key=lambda kv: -kv[1]):
            print(f"{key}: {n} residues with a letter here and none from mkdssp")
    print(json.dumps(summary))
    sys.exit(1 if summary["differ"] else 0)


if __name__ == "__main__":
    main()
