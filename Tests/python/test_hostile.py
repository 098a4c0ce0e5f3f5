"""Hostile input: sizes and values read from headers and configs are checked before they are used
(never a trap or a signal, never an allocation the file cannot back), under a 4 GB address-space
limit. Each class has several cases; every bad item fails alone with a message naming its file."""
import gzip
import json
import resource
import shutil
import struct
import subprocess
import zlib

import h5py
import numpy as np
import pytest

from conftest import REPO
from test_fmri import ATLAS, BOLD, CONF, nifti_parts, write_nii

LIMIT = 4_000_000 * 1024  # ulimit -v 4000000
PST = REPO / "Tests/Fixtures/encoders/pst"
MOLT5 = REPO / "Tests/Fixtures/encoders/molt5"
STRUCTURES = REPO / "Tests/Fixtures/proteins/structures"


def limited():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def bounded(bioembed, *args, timeout=300):
    """Runs bioembed under the address-space limit; a signal (negative code) fails the test."""
    r = subprocess.run([bioembed, *map(str, args)], capture_output=True, text=True, preexec_fn=limited, timeout=timeout)
    assert r.returncode >= 0, f"killed by signal {-r.returncode}: {r.stderr[-2000:]}"
    return r


def errors(path):
    with h5py.File(path) as f:
        if "errors" not in f:
            return {}
        return dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))


def nifti2(header1, data, dims, vox_offset=544):
    """A NIfTI-2 file from a NIfTI-1 header's fields, with `dims` (8 int64) and `vox_offset`."""
    h = bytearray(544)
    struct.pack_into("<i8s", h, 0, 540, b"n+2\0\r\n\x1a\n")
    datatype, bitpix = struct.unpack("<2h", header1[70:74])
    struct.pack_into("<2h", h, 12, datatype, bitpix)
    struct.pack_into("<8q", h, 16, *dims)
    pixdim = struct.unpack("<8f", header1[76:108])
    struct.pack_into("<8d", h, 104, *pixdim)
    struct.pack_into("<q", h, 168, vox_offset)
    struct.pack_into("<2d", h, 176, 1.0, 0.0)
    struct.pack_into("<i", h, 500, header1[123])
    struct.pack_into("<2i", h, 344, *struct.unpack("<2h", header1[252:256]))
    struct.pack_into("<6d", h, 352, *struct.unpack("<6f", header1[256:280]))
    struct.pack_into("<12d", h, 400, *struct.unpack("<12f", header1[280:328]))
    return bytes(h) + bytes(data)


def test_nifti_header_values_and_sizes(bioembed, tmp_path):
    header, data = nifti_parts()
    dims = list(struct.unpack("<8h", header[40:56]))
    folder = tmp_path / "bold"
    folder.mkdir()
    files = {}

    def bold(name):
        files[name] = folder / f"sub-{name}_task-rest_bold.nii.gz"
        return files[name]

    shutil.copy(BOLD, bold("good"))
    for name, value in [("offnan", float("nan")), ("offhuge", 1e30), ("offinf", float("inf")), ("offneg", -352.0)]:
        h = bytearray(header)
        h[108:112] = struct.pack("<f", value)
        write_nii(bold(name), h, data)
    h = bytearray(header)                                   # 32767^3 voxels in a small file
    h[40:56] = struct.pack("<8h", 4, 32767, 32767, 32767, dims[4], 1, 1, 1)
    write_nii(bold("huge"), h, data)
    h = bytearray(header)                                   # more data than deflate can hide in the file
    h[40:56] = struct.pack("<8h", 4, 512, 512, 512, dims[4], 1, 1, 1)
    write_nii(bold("ratio"), h, data)
    h = bytearray(header)                                   # one volume larger than the memory budget
    h[40:56] = struct.pack("<8h", 4, 2048, 2048, 16, 1, 1, 1, 1)
    write_nii(bold("volume"), h, data)
    h = bytearray(header)                                   # every dimension at its largest
    h[40:56] = struct.pack("<8h", 7, *([32767] * 7))
    write_nii(bold("seven"), h, data)
    files["n2huge"] = folder / "sub-n2huge_task-rest_bold.nii.gz"
    files["n2huge"].write_bytes(gzip.compress(nifti2(header, data, [4, 1 << 40, 1 << 40, 2, dims[4], 1, 1, 1]), 1))
    files["n2offset"] = folder / "sub-n2offset_task-rest_bold.nii.gz"
    files["n2offset"].write_bytes(gzip.compress(nifti2(header, data, dims[:4] + [dims[4], 1, 1, 1], vox_offset=1 << 62), 1))
    files["n2plain"] = folder / "sub-n2plain_task-rest_bold.nii"   # uncompressed, claims more than it holds
    files["n2plain"].write_bytes(nifti2(header, data, [4, 4096, 4096, 4096, dims[4], 1, 1, 1]))

    out = tmp_path / "out.h5"
    r = bounded(bioembed, "fmri", "extract", "--bold", *files.values(), "--confounds", *[CONF] * len(files), "--atlas", ATLAS, "--strategy", "motion",
                "--motion", "basic", "--output", out)
    assert r.returncode == 2, r.stderr
    failed = errors(out)
    for name, path in files.items():
        if name == "good":
            continue
        message = failed[f"sub-{name}_task-rest"]
        assert str(path) in message and "\n" not in message, message
    assert "vox_offset" in failed["sub-offnan_task-rest"]
    assert "vox_offset" in failed["sub-offhuge_task-rest"]
    assert "1032" in failed["sub-ratio_task-rest"]
    assert "memory budget" in failed["sub-volume_task-rest"]
    with h5py.File(out) as f:
        assert list(f["fmri/ids"].asstr()[()]) == ["sub-good_task-rest"]


def test_structure_files_that_claim_more_than_they_hold(bioembed, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    good = folder / "good.pdb"
    shutil.copy(STRUCTURES / "1a1p.pdb", good)
    blob = gzip.compress((STRUCTURES / "adk_open.pdb").read_bytes())
    cut = folder / "cut.pdb.gz"                            # its last 4 bytes (the "trailer") claim ~4 GB
    cut.write_bytes(blob[: len(blob) // 2] + b"\xff\xff\xff\xf0")
    bomb = folder / "bomb.pdb.gz"                          # 1 GiB of blanks in about a megabyte
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(bomb, "wb") as f:
        chunk = b" " * (1 << 24)
        for _ in range(64):
            f.write(compressor.compress(chunk))
        f.write(compressor.flush())
    out = tmp_path / "p.h5"
    r = bounded(bioembed, "protein", "tokenize", "--input", good, cut, bomb, "--output", out)
    assert r.returncode == 2, r.stderr
    failed = errors(out)
    assert set(failed) >= {"cut.pdb.gz", "bomb.pdb.gz"} or all(any(k.startswith(n) for k in failed) for n in ["cut", "bomb"]), failed
    for message in failed.values():
        assert str(folder) in message and "\n" not in message, message
    assert "memory budget" in next(m for k, m in failed.items() if k.startswith("bomb"))
    with h5py.File(out) as f:
        assert all(i.startswith("good") for i in f["proteins/ids"].asstr()[()])


def model_copy(tmp_path, source, name, edit_config=None, edit_weights=None):
    folder = tmp_path / name
    folder.mkdir()
    config = json.loads((source / "config.json").read_text())
    if edit_config:
        config.update(edit_config)
    (folder / "config.json").write_text(json.dumps(config))
    weights = (source / "weights.safetensors").read_bytes()
    if edit_weights:
        weights = edit_weights(weights)
    (folder / "weights.safetensors").write_bytes(weights)
    return folder


def safetensors_with_shape(blob, shape):
    """The first tensor of a safetensors file given another shape (its offsets unchanged)."""
    size = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + size])
    name = next(k for k in header if k != "__metadata__")
    header[name]["shape"] = shape
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blob[8 + size:]


@pytest.fixture(scope="module")
def proteins(tmp_path_factory, bioembed):
    out = tmp_path_factory.mktemp("proteins") / "p.h5"
    r = subprocess.run([bioembed, "protein", "tokenize", "--input", STRUCTURES / "1a1p.pdb", "--output", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.parametrize("case,edit_config,shape", [
    ("cls_idx", {"cls_idx": 1000}, None),
    ("eos_idx", {"eos_idx": -1}, None),
    ("layer_norm_eps", {"layer_norm_eps": -1}, None),
    ("rotary_base", {"rotary_base": 0}, None),
    ("embed_dim", {"embed_dim": 10 ** 12}, None),
    ("needs more bytes", None, [1 << 40, 1 << 40, 1 << 20]),
    ("has shape", None, [-1, 4]),
])
def test_pst_config_and_weights_values_are_checked(bioembed, tmp_path, proteins, case, edit_config, shape):
    model = model_copy(tmp_path, PST, "m", edit_config,
                       (lambda blob: safetensors_with_shape(blob, shape)) if shape else None)
    r = bounded(bioembed, "encode", "pst", "--weights", model / "weights.safetensors", "--config", model / "config.json",
                "--input", proteins, "--output", tmp_path / "e.h5")
    assert r.returncode == 1, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith("error")]
    assert len(lines) == 1 and case in lines[0], r.stderr


@pytest.mark.parametrize("edit_config", [{"bom_id": 1e12}, {"pad_token_id": -3}, {"layer_norm_epsilon": -1}, {"d_model": 0}])
def test_molt5_config_values_are_checked(bioembed, tmp_path, edit_config):
    molecules = tmp_path / "m.h5"
    r = subprocess.run([bioembed, "molecule", "tokenize", "--input", REPO / "Tests/Fixtures/molecules/cdk2_000.sdf", "--output", molecules],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("molecule fixture not found: " + r.stderr[-200:])
    model = model_copy(tmp_path, MOLT5, "m", edit_config)
    r = bounded(bioembed, "encode", "molt5", "--weights", model / "weights.safetensors", "--config", model / "config.json",
                "--input", molecules, "--output", tmp_path / "e.h5")
    assert r.returncode == 1, r.stderr
    assert next(iter(edit_config)) in r.stderr


def test_hdf5_datasets_claiming_huge_shapes(bioembed, tmp_path, proteins):
    crafted = tmp_path / "crafted.h5"
    shutil.copy(proteins, crafted)
    with h5py.File(crafted, "a") as f:
        g = f["proteins"]
        del g["ids"]
        g.create_dataset("ids", shape=(1 << 40,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(1024,))
        del g["ca"]
        g.create_dataset("ca", shape=(1 << 40, 3), maxshape=(None, 3), dtype="f4", chunks=(1024, 3))
    for args in (["inspect", crafted], ["validate", crafted], ["export", "netcdf", crafted, "--output", tmp_path / "x.nc"],
                 ["encode", "pst", "--weights", PST / "weights.safetensors", "--config", PST / "config.json",
                  "--input", crafted, "--output", tmp_path / "e.h5"]):
        r = bounded(bioembed, *args)
        assert r.returncode in (0, 1, 2, 3), r.stderr
        if r.returncode != 0:
            assert str(crafted) in r.stderr, (args, r.stderr)
    assert bounded(bioembed, "validate", crafted).returncode == 1


def test_fmri_time_series_claiming_huge_shapes(bioembed, tmp_path):
    fmri = tmp_path / "fmri.h5"
    r = subprocess.run([bioembed, "fmri", "extract", "--bold", BOLD, "--confounds", CONF, "--atlas", ATLAS, "--strategy", "motion",
                        "--motion", "basic", "--output", fmri], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with h5py.File(fmri, "a") as f:
        g = f["fmri"]
        regions = g["timeseries"].shape[1]
        del g["timeseries"]
        g.create_dataset("timeseries", shape=(1 << 40, regions), maxshape=(None, regions), dtype="f8", chunks=(64, regions))
        g["timeseries_offsets"][-1] = 1 << 40
    for args in (["inspect", fmri], ["validate", fmri], ["export", "netcdf", fmri, "--output", tmp_path / "x.nc"],
                 ["fmri", "connectivity", "--input", fmri, "--output", tmp_path / "c.h5"]):
        r = bounded(bioembed, *args)
        assert r.returncode in (0, 1, 2, 3), r.stderr
        if r.returncode != 0:
            assert str(fmri) in r.stderr, (args, r.stderr)


@pytest.fixture
def small_disk(tmp_path):
    """A 300 KiB tmpfs (needs root, as on CI; skipped elsewhere), grown later with `grow`."""
    mount = tmp_path / "disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here: " + r.stderr.strip())
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def grow(mount, size="64m"):
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def test_a_full_disk_is_one_line_exit_3_and_resume_continues(bioembed, run, small_disk, tmp_path):
    out = small_disk / "p.h5"
    r = bounded(bioembed, "protein", "tokenize", "--input", STRUCTURES, "--output", out)
    assert r.returncode == 3, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "no space left on device" in lines[0] and str(small_disk) in lines[0], r.stderr
    assert not out.exists()

    # A pipeline whose output folder fills up: same, then --resume once space is freed.
    pipeline = tmp_path / "p.yaml"
    (tmp_path / "manifest.tsv").write_text("id\tpath\n" + "".join(f"{p.name}\t{p}\n" for p in sorted(STRUCTURES.iterdir())))
    pipeline.write_text(f"name: p\nmanifest: {tmp_path}/manifest.tsv\noutput_dir: {small_disk}/run\nstages:\n"
                        "  - stage: protein_tokenize\n    output: proteins.h5\n"
                        f"  - stage: encode_pst\n    with:\n      weights: {PST}/weights.safetensors\n      config: {PST}/config.json\n")
    r = bounded(bioembed, "run", pipeline)
    assert r.returncode == 3, r.stderr
    assert "no space left on device" in r.stderr
    assert not (small_disk / "run/proteins.h5").exists()
    grow(small_disk)
    resumed = run("run", pipeline, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    fresh = run("run", pipeline, "--output-dir", tmp_path / "fresh")
    assert fresh.returncode == 0, fresh.stderr
    with h5py.File(small_disk / "run/proteins.h5") as a, h5py.File(tmp_path / "fresh/proteins.h5") as b:
        for name in ["proteins/ids", "proteins/tokens_3di", "embeddings/pst/ids"]:
            assert list(a[name][()]) == list(b[name][()]), name
        np.testing.assert_array_equal(a["embeddings/pst/pooled"][()], b["embeddings/pst/pooled"][()])
