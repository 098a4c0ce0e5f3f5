#!/usr/bin/env python3
"""Seed corpus for `make fuzz`: every small structure, SDF, SMILES and tar fixture, each prefixed with
the format byte Fuzz/BioEmbedFuzz/FuzzTarget.swift reads (0 .pdb, 1 .pdb.gz, 2 .cif, 3 .sdf, 4 .smi,
5 .tar, 6 .nii, 7 .nii.gz, 8 .func.gii, 9 .label.gii, 10 .dtseries.nii, 11 .dlabel.nii, 12 confounds
TSV, 13 manifest TSV/CSV, 14 pipeline YAML, 15 .safetensors, 16 model config JSON, 17 .h5); small GIFTI and
CIFTI-2 files are written with nibabel when it is importable (the test venv).
usage: scripts/fuzz-corpus.py OUT_DIR"""
import pathlib
import sys

FORMATS = {".pdb": 0, ".ent": 0, ".pdb.gz": 1, ".ent.gz": 1, ".cif": 2, ".sdf": 3, ".smi": 4, ".csv": 4, ".tar": 5,
           ".nii": 6, ".nii.gz": 7, ".func.gii": 8, ".label.gii": 9, ".dtseries.nii": 10, ".dlabel.nii": 11,
           "_timeseries.tsv": 12, "_regressors.tsv": 12, "manifest.tsv": 13, "manifest.csv": 13, ".yaml": 14, ".safetensors": 15,
           "config.json": 16, ".h5": 17}


def format_of(path):
    """The longest known suffix of the name."""
    name = path.name
    return max((s for s in FORMATS if name.endswith(s)), key=len, default=None)


repo = pathlib.Path(__file__).resolve().parents[1]
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
count = 0
seeds = [f for f in sorted((repo / "Tests/Fixtures").rglob("*")) + sorted((repo / "examples").rglob("*"))
         + sorted((repo / "pipelines").rglob("*.yaml")) if f.is_file() and format_of(f) and f.stat().st_size <= 200_000]
def safetensors(path, tensors):
    """A small safetensors file: JSON header (dtype, shape, offsets), then the raw little-endian data."""
    import json, struct
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


try:
    import tempfile
    import numpy as np
    sys.path.insert(0, str(repo / "Tests/python"))
    from surface_data import hcp_models, parcel_keys, write_dlabel, write_dtseries, write_gifti
    folder = pathlib.Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    models = hcp_models(rng, scale=0.001)
    write_dtseries(folder / "s.dtseries.nii", rng.normal(size=(4, len(models))).astype("float32"), models, 0.72)
    write_dlabel(folder / "s.dlabel.nii", parcel_keys(models, 5, rng), models)
    for encoding in ("ASCII", "Base64Binary", "GZipBase64Binary"):
        write_gifti(folder / f"{encoding}.func.gii", rng.normal(size=(20, 3)), encoding=encoding, dtype="float32")
        write_gifti(folder / f"{encoding}.label.gii", rng.integers(0, 4, size=(20, 1)), intent="NIFTI_INTENT_LABEL", dtype="int32", encoding=encoding)
    safetensors(folder / "w.safetensors", {
        "a.weight": ("F32", [2, 3], rng.normal(size=6).astype("<f4").tobytes()),
        "b.weight": ("F16", [3], rng.normal(size=3).astype("<f2").tobytes()),
        "c.bias": ("BF16", [2], (rng.normal(size=2).astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()),
        "d.index": ("I64", [1, 2], np.array([1, 2], "<i8").tobytes())})
    import h5py
    with h5py.File(folder / "c.h5", "w") as f:  # a small collection file as BioEmbed writes them
        f.attrs["schema"] = "bioembed/files/1"
        g = f.create_group("files")
        g.create_dataset("ids", data=np.array(["a", "b"], dtype=object), dtype=h5py.string_dtype())
        g["size"] = np.array([3, 4], dtype=np.int64)
        g.create_dataset("blocks", data=np.arange(6, dtype=np.int32), chunks=(3,), compression="gzip")
        g["blocks_offsets"] = np.array([0, 2, 6], dtype=np.int64)
    seeds += sorted(folder.iterdir())
except ImportError:
    pass
for f in seeds:
    data = f.read_bytes()
    if FORMATS[format_of(f)] == 4:
        data = b"\n".join(data.split(b"\n")[:4])  # SMILES: a few rows (each one embeds a conformer: slow)
    (out / f"seed-{count:04d}").write_bytes(bytes([FORMATS[format_of(f)]]) + data)
    count += 1
print(f"{count} seed inputs in {out}")
