"""mkdssp (Debian `dssp`, 4.2.2) as users run it: one process per file, classic DSSP output.
Runs every file of DIR in order and prints one JSON line (files, residues reported, seconds).
mkdssp 4.2.2 always computes solvent accessibility as well; it has no switch to skip it.

usage: mkdssp_run.py DIR"""
import json, os, subprocess, sys, tempfile, time

folder = sys.argv[1]
files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
residues = 0
with tempfile.TemporaryDirectory() as work:
    out = os.path.join(work, "out.dssp")
    t0 = time.perf_counter()
    for f in files:
        subprocess.run(["mkdssp", "--output-format", "dssp", f, out], check=True, capture_output=True)
        with open(out) as d:
            started = False
            for line in d:
                if line.startswith("  #  RESIDUE"):
                    started = True
                elif started and len(line) > 13 and line[13] != "!":
                    residues += 1
    seconds = time.perf_counter() - t0
print(json.dumps({"tool": "mkdssp", "case": "protein-dssp", "files": len(files), "residues": residues,
                  "seconds": seconds, "residues_per_s": residues / seconds, "files_per_s": len(files) / seconds}))
