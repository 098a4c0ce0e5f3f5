"""Hostile input: sizes and values read from headers and configs are checked before they are used
(never a trap or a signal, never an allocation the file cannot back), under a 4 GB address-space
limit. Each class has several cases; every bad item fails alone with a message naming its file."""
import gzip
import json
import pathlib
import resource
import shutil
import struct
import subprocess
import zlib

import h5py
import numpy as np
import pytest

from conftest import REPO
from synthetic import write_fmri_series
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


def crlf(path, target):
    target.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return target


def test_windows_line_ends_read_as_unix_ones(bioembed, run, tmp_path):
    # confounds TSV
    out = {}
    for kind, conf in [("lf", CONF), ("crlf", crlf(CONF, tmp_path / "conf_crlf.tsv"))]:
        out[kind] = tmp_path / f"{kind}.h5"
        r = run("fmri", "extract", "--bold", BOLD, "--confounds", conf, "--atlas", ATLAS, "--preset", "36p", "--output", out[kind])
        assert r.returncode == 0, r.stderr
    with h5py.File(out["lf"]) as a, h5py.File(out["crlf"]) as b:
        np.testing.assert_array_equal(a["fmri/timeseries"][()], b["fmri/timeseries"][()])
    # structures and SDF records
    for name in ["1a1p.pdb", "1YJP.cif"]:
        results = []
        for kind, path in [("lf", STRUCTURES / name), ("crlf", crlf(STRUCTURES / name, tmp_path / name))]:
            target = tmp_path / f"{kind}_{name}.h5"
            assert run("protein", "tokenize", "--input", path, "--output", target).returncode == 0
            with h5py.File(target) as f:
                results.append((list(f["proteins/sequence"].asstr()[()]), list(f["proteins/tokens_3di"].asstr()[()]), f["proteins/ca"][()]))
        assert results[0][:2] == results[1][:2]
        np.testing.assert_array_equal(results[0][2], results[1][2])
    sdf = REPO / "Tests/Fixtures/molecules/cdk2_000.sdf"
    smiles = []
    for path in [sdf, crlf(sdf, tmp_path / "m.sdf")]:
        target = tmp_path / (path.name + ".h5")
        assert run("molecule", "tokenize", "--input", path, "--output", target).returncode == 0
        with h5py.File(target) as f:
            smiles.append(list(f["molecules/smiles"].asstr()[()]))
    assert smiles[0] == smiles[1]


def test_manifests_with_crlf_quoted_line_breaks_and_bom_free_csv(run, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ["a b.bin", "c.bin", "d.bin"]:
        (data / name).write_bytes(name.encode() * 100)
    (tmp_path / "m.csv").write_bytes(
        b'id,path,note\r\n'
        b'first,"data/a b.bin","a note\r\nover two lines"\r\n'
        b'second,data/c.bin,plain\r\n'
        b'third,data/d.bin,"with ""quotes"", and a comma"\r\n')
    (tmp_path / "p.yaml").write_bytes(
        b"name: t\r\nmanifest: m.csv\r\noutput_dir: out\r\nstages:\r\n  - stage: checksum\r\n    output: files.h5\r\n")
    r = run("run", tmp_path / "p.yaml")
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "out/files.h5") as f:
        assert list(f["files/ids"].asstr()[()]) == ["first", "second", "third"]
    (tmp_path / "bad.csv").write_bytes(b'id,path\r\nx,"data/c.bin\r\n')  # a quote left open: the line is named
    (tmp_path / "q.yaml").write_text("name: t\nmanifest: bad.csv\noutput_dir: out2\nstages:\n  - stage: checksum\n    output: f.h5\n")
    r = run("run", tmp_path / "q.yaml")
    assert r.returncode == 1 and "bad.csv:2" in r.stderr and "quoted" in r.stderr, r.stderr


def test_pipeline_yaml_with_alias_bombs_and_deep_nesting_is_refused(run, tmp_path):
    laughs = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for k in range(1, 9):
        laughs.append(f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]")
    cases = {
        "aliases": "\n".join(laughs) + "\nname: t\nmanifest: m.tsv\nstages:\n  - stage: checksum\n    output: f.h5\n",
        "merge_keys": "\n".join(laughs) + "\nname: t\nmanifest: m.tsv\nstages:\n  - stage: checksum\n    output: f.h5\n    with: {<<: *a8}\n",
        "flow_depth": "name: t\nmanifest: m.tsv\nstages: " + "[" * 10_000 + "]" * 10_000 + "\n",
        "block_depth": "name: t\nmanifest: m.tsv\nstages:\n" + "- " * 10_000 + "x\n",
        "indent_depth": "name: t\nstages:\n" + "".join(" " * (2 * k) + f"k{k}:\n" for k in range(200)),
    }
    for name, text in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        r = run("run", path, timeout=60)
        assert r.returncode == 1, (name, r.returncode, r.stderr[-500:])
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], (name, r.stderr[-500:])
        assert ("nesting" in lines[0]) or ("aliases" in lines[0]), (name, lines[0])


def test_hdf5_links_into_other_files_are_not_followed(bioembed, run, proteins, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 64)
    other = tmp_path / "other.h5"
    shutil.copy(proteins, other)
    cases = {}
    # external raw storage: a dataset whose bytes are another file's
    path = tmp_path / "external_storage.h5"
    shutil.copy(proteins, path)
    with h5py.File(path, "a") as f:
        del f["proteins/residue_number"]
        f["proteins"].create_dataset("residue_number", shape=(secret.stat().st_size // 4,), dtype="<i4",
                                     external=[(str(secret), 0, h5py.h5f.UNLIMITED)])
    cases["external storage"] = path
    # an external link in place of a collection group
    path = tmp_path / "external_link.h5"
    with h5py.File(path, "w") as f:
        f.attrs["schema"] = "bioembed/proteins/1"
        f["proteins"] = h5py.ExternalLink(str(other), "/proteins")
    cases["external link"] = path
    # a virtual dataset reading a file elsewhere
    path = tmp_path / "sub" / "virtual.h5"
    path.parent.mkdir()
    shutil.copy(proteins, path)
    with h5py.File(path, "a") as f:
        n = f["proteins/ca"].shape[0]
        layout = h5py.VirtualLayout(shape=(n, 3), dtype="f4")
        layout[:] = h5py.VirtualSource(str(other), "proteins/ca", shape=(n, 3))
        del f["proteins/ca"]
        f["proteins"].create_virtual_dataset("ca", layout)
    cases["virtual dataset"] = path
    for name, path in cases.items():
        for args in (["inspect", path], ["validate", path], ["export", "netcdf", path, "--output", tmp_path / "x.nc"],
                     ["encode", "pst", "--weights", PST / "weights.safetensors", "--config", PST / "config.json",
                      "--input", path, "--output", tmp_path / "e.h5"]):
            r = bounded(bioembed, *args)
            assert b"root:x:0:0" not in (tmp_path / "x.nc").read_bytes() if (tmp_path / "x.nc").exists() else True
            # (encode does not read residue_number, the externally stored dataset: it may succeed)
            if args[0] == "validate" or (args[0] == "encode" and name != "external storage"):
                assert r.returncode != 0, (name, args[0], r.stderr)
                assert "another file" in r.stderr or "outside the file" in r.stderr or "not followed" in r.stderr, (name, args[0], r.stderr)
        shown = bounded(bioembed, "inspect", path).stdout
        assert "root:x" not in shown


def test_inspect_visits_each_group_once_and_stays_linear(bioembed, tmp_path):
    import time
    path = tmp_path / "cycles.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("a/b/c")
        g["up"] = f["a"]                       # hard link back to an ancestor
        f["a/b"]["soft"] = h5py.SoftLink("/a")  # soft link back
        many = f.create_group("many")
        for k in range(4000):
            many.attrs[f"attr{k:05d}"] = k
    start = time.time()
    r = bounded(bioembed, "inspect", path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert time.time() - start < 10
    assert "further link" in r.stdout and "more attributes" in r.stdout
    assert len(r.stdout.splitlines()) < 200


def tensor_set_to_nan(blob, fragment):
    size = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + size])
    name = next(k for k in sorted(header) if fragment in k and header[k]["dtype"] == "F32")
    begin, end = header[name]["data_offsets"]
    data = bytearray(blob)
    start = 8 + size
    data[start + begin:start + end] = np.full((end - begin) // 4, np.nan, dtype="<f4").tobytes()
    return bytes(data)


def test_outputs_that_look_valid_but_are_not(bioembed, run, proteins, tmp_path):
    # NaN weights: every item fails as an item (listed in /errors), no NaN row is written
    model = model_copy(tmp_path, PST, "nan", edit_weights=lambda blob: tensor_set_to_nan(blob, "layer_norm"))
    out = tmp_path / "e.h5"
    r = run("encode", "pst", "--weights", model / "weights.safetensors", "--config", model / "config.json", "--input", proteins, "--output", out)
    assert r.returncode == 3, r.stderr
    with h5py.File(out) as f:
        assert f["embeddings/pst/pooled"].shape[0] == 0
        assert "NaN" in f["errors/message"].asstr()[0]
    # validate finds NaN embeddings, unreadable (LZF) and decreasing offsets, duplicate ids
    good = tmp_path / "good.h5"
    assert run("encode", "pst", "--weights", PST / "weights.safetensors", "--config", PST / "config.json",
               "--input", proteins, "--output", good).returncode == 0
    assert run("validate", good).returncode == 0
    cases = {}
    path = tmp_path / "nan.h5"
    shutil.copy(good, path)
    with h5py.File(path, "a") as f:
        f["embeddings/pst/pooled"][0, 0] = np.nan
    cases["finite"] = path
    path = tmp_path / "lzf.h5"
    shutil.copy(good, path)
    with h5py.File(path, "a") as f:
        offsets = f["embeddings/pst/per_token_offsets"][()]
        del f["embeddings/pst/per_token_offsets"]
        f["embeddings/pst"].create_dataset("per_token_offsets", data=offsets[::-1].copy(), compression="lzf")
    cases["cannot be read"] = path
    path = tmp_path / "dup.h5"
    shutil.copy(proteins, path)
    with h5py.File(path, "a") as f:
        ids = f["proteins/ids"].asstr()[()]
        if len(ids) > 1:
            del f["proteins/ids"]
            f["proteins"].create_dataset("ids", data=[ids[0]] * len(ids), dtype=h5py.string_dtype())
    for problem, path in cases.items():
        r = run("validate", path)
        assert r.returncode == 1 and problem in r.stderr, (problem, r.stderr)
    with h5py.File(tmp_path / "dup.h5") as f:
        duplicated = len(f["proteins/ids"]) > 1
    if duplicated:
        r = run("encode", "pst", "--weights", PST / "weights.safetensors", "--config", PST / "config.json",
                "--input", tmp_path / "dup.h5", "--output", tmp_path / "d.h5")
        assert r.returncode == 1 and "unique ids" in r.stderr, r.stderr


def test_ids_with_nul_characters_are_item_errors(run, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ["a.bin", "b.bin", "c.bin"]:
        (data / name).write_bytes(name.encode() * 10)
    (tmp_path / "m.tsv").write_bytes(b"id\tpath\nA\x00B\tdata/a.bin\nA\x00C\tdata/b.bin\nplain\tdata/c.bin\n")
    (tmp_path / "p.yaml").write_text("name: t\nmanifest: m.tsv\noutput_dir: out\nstages:\n  - stage: checksum\n    output: f.h5\n")
    r = run("run", tmp_path / "p.yaml")
    assert r.returncode == 2, r.stderr
    with h5py.File(tmp_path / "out/f.h5") as f:
        assert list(f["files/ids"].asstr()[()]) == ["plain"]
        assert len(f["errors/ids"]) == 2


@pytest.mark.parametrize("output", ["../x.h5", "../../y.h5", "/tmp/absolute.h5", "sub/../../z.h5"])
def test_outputs_outside_the_run_folder_are_refused(run, tmp_path, output):
    (tmp_path / "m.tsv").write_text("id\tpath\nx\tm.tsv\n")
    (tmp_path / "p.yaml").write_text(f"name: t\nmanifest: m.tsv\noutput_dir: out\nstages:\n  - stage: checksum\n    output: '{output}'\n")
    r = run("run", tmp_path / "p.yaml")
    assert r.returncode == 1 and "outside" not in output and output in r.stderr and "output_dir" in r.stderr, r.stderr
    assert not (tmp_path / "x.h5").exists() and not (tmp_path / "out").exists()


def test_input_list_of_100000_lines_stays_within_memory(bioembed, run, tmp_path):
    lines = [str(STRUCTURES / "1a1p.pdb"), "# a comment", "", "rel/1hpv.pdb"]
    (tmp_path / "rel").mkdir()
    shutil.copy(STRUCTURES / "1hpv.pdb", tmp_path / "rel/1hpv.pdb")
    lines += [f"missing/{k:06d}.pdb" for k in range(100_000)]
    listing = tmp_path / "list.txt"
    listing.write_text("\r\n".join(lines) + "\r\n")
    out = tmp_path / "p.h5"
    r = bounded(bioembed, "protein", "tokenize", "--input-list", listing, "--output", out, "--quiet", timeout=600)
    assert r.returncode == 2, r.stderr[-2000:]
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kib < 1_500_000, peak_kib
    with h5py.File(out) as f:
        ids = sorted({i.split(":")[0] for i in f["proteins/ids"].asstr()[()]})
        assert ids == ["1a1p.pdb", "1hpv.pdb"]
        assert len(f["errors/ids"]) == 100_000
    # the same list as a pipeline key; a path listed twice names both lines
    pipeline = tmp_path / "p.yaml"
    (tmp_path / "short.txt").write_text(f"{STRUCTURES / '1a1p.pdb'}\nrel/1hpv.pdb\n")
    pipeline.write_text("name: l\noutput_dir: out\nstages:\n  - stage: protein_tokenize\n    input_list: short.txt\n    output: p.h5\n")
    r = run("run", pipeline)
    assert r.returncode == 0, r.stderr
    (tmp_path / "twice.txt").write_text("a.pdb\nb.pdb\na.pdb\n")
    r = run("protein", "tokenize", "--input-list", tmp_path / "twice.txt", "--output", tmp_path / "t.h5")
    assert r.returncode == 1 and "twice.txt:3" in r.stderr and "line 1" in r.stderr, r.stderr


def test_crowded_atoms_refused_before_the_radius_graph(bioembed, tmp_path):
    """Coincident or crowded Cα atoms make the radius graph quadratic: refused from a bound on the
    edge count (no distance computed) with a message naming the chain, for several layouts, under
    the memory limit; a normal file beside them is written."""
    def atoms(points, chain="A"):
        out = []
        for i, (x, y, z) in enumerate(points):
            icode = " " if i < 9999 else "ABCDEFGH"[i // 9999 - 1]
            out.append("ATOM  %5d  CA  ALA %s%4d%s   %8.3f%8.3f%8.3f  1.00  0.00           C"
                       % (i % 99999 + 1, chain, i % 9999 + 1, icode, x, y, z))
        return "\n".join(out) + "\nEND\n"
    cases = {
        "coincident.pdb": [(1.0, 2.0, 3.0)] * 20000,
        "two-points.pdb": [(0.0, 0.0, 0.0), (0.5, 0.5, 0.5)] * 10000,
        "small-ball.pdb": [((i % 7) * 0.3, (i % 11) * 0.3, (i % 13) * 0.3) for i in range(20000)],
    }
    for name, points in cases.items():
        (tmp_path / name).write_text(atoms(points))
    good = STRUCTURES / "1A8O.cif.gz"
    out = tmp_path / "p.h5"
    r = bounded(bioembed, "protein", "tokenize", "--input", *[tmp_path / n for n in cases], good, "--output", out, timeout=120)
    assert r.returncode == 2, r.stderr
    failed = errors(out)
    assert set(failed) == set(cases)
    assert all("radius graph" in m and "chain 'A'" in m for m in failed.values())
    with h5py.File(out) as f:
        assert list(f["proteins/ids"].asstr()[()]) == ["1A8O.cif.gz:A"]


def _corrupt_heap_object(path, text, claimed=0x40000000):
    """Makes the global-heap object holding `text` claim `claimed` bytes (far past its collection)."""
    import struct
    data = bytearray(path.read_bytes())
    collection = data.find(b"GCOL")
    at = data.find(text.encode(), collection)
    assert collection >= 0 and at > collection
    struct.pack_into("<Q", data, at - 8, claimed)  # the object's size field precedes its bytes
    path.write_bytes(data)


@pytest.mark.parametrize("case", ["fuzz finding (root attribute)", "collection ids", "dataset attribute"])
def test_corrupt_variable_length_strings_are_refused_not_a_crash(run, tmp_path, case):
    """Debian's libhdf5 1.10.8 copies a variable-length string out of its global heap without a bounds
    check (SIGSEGV). Every existing file is read first by a child process; when it crashes, the file
    is refused with one line naming it, for every command that reads HDF5."""
    path = tmp_path / "bad.h5"
    if case.startswith("fuzz"):
        path.write_bytes((REPO / "Tests/Fixtures/fuzz/crash-11acaab80f95197c10f12e9edfcf98095ac8c29d").read_bytes()[1:])
    else:
        write_fmri_series(path, ["sub-01", "sub-02"], [40, 40], regions=3)
        with h5py.File(path, "r+") as f:
            f["fmri/timeseries"].attrs["note"] = "a string attribute on a dataset"
        _corrupt_heap_object(path, "sub-02" if case == "collection ids" else "a string attribute on a dataset")
    out = tmp_path / "out.h5"
    for command in (["inspect", path], ["validate", path], ["export", "netcdf", path, "--output", tmp_path / "x.nc"],
                    ["fmri", "spectral", "--input", path, "--output", out], ["fmri", "graph", "--input", path, "--output", out]):
        r = run(*command)
        assert r.returncode in (1, 3), (command, r.returncode, r.stderr[-500:])
        assert f"{path}: corrupt HDF5 file" in r.stderr, (command, r.stderr[-500:])
        assert "Program crashed" not in r.stderr and "Backtrac" not in r.stderr
    assert not out.exists() and not (tmp_path / "x.nc").exists()


@pytest.mark.parametrize("helper", ["next to the binary", "missing (a copied binary)"])
def test_the_probe_child_is_the_small_program_or_the_binary_itself(bioembed, tmp_path, helper):
    """The child that reads a file first is `bioembed-hdf5-probe` from the binary's folder (it loads
    HDF5 alone, so it starts faster); a binary copied without it runs itself as the child: the same
    refusal either way, and a good file passes."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(bioembed, folder / "bioembed")
    probe = pathlib.Path(bioembed).parent / "bioembed-hdf5-probe"
    assert probe.exists(), "make builds bioembed-hdf5-probe next to bioembed"
    calls = tmp_path / "calls"
    if helper.startswith("next"):
        # the real program behind a wrapper that notes each call
        (folder / "bioembed-hdf5-probe").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec {probe} "$@"\n')
        (folder / "bioembed-hdf5-probe").chmod(0o755)
    bad, good = tmp_path / "bad.h5", tmp_path / "good.h5"
    bad.write_bytes((REPO / "Tests/Fixtures/fuzz/crash-11acaab80f95197c10f12e9edfcf98095ac8c29d").read_bytes()[1:])
    write_fmri_series(good, ["sub-01"], [40], regions=3)
    r = subprocess.run([folder / "bioembed", "inspect", bad], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and f"{bad}: corrupt HDF5 file" in r.stderr, r.stderr[-500:]
    assert "Program crashed" not in r.stderr and "Backtrac" not in r.stderr
    r = subprocess.run([folder / "bioembed", "inspect", good], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-500:]
    if helper.startswith("next"):
        assert calls.read_text().split() == [str(bad), str(good)]
    else:
        assert not calls.exists()


@pytest.mark.parametrize("bad", ["input", "existing output"])
def test_one_child_checks_input_and_output_and_a_crash_names_its_file(run, tmp_path, bad):
    """A collection stage checks its input and an existing output with one child process; when that
    child crashes, each file is checked alone, so the refusal names the corrupt one, not its partner."""
    good, corrupt = tmp_path / "good.h5", tmp_path / "bad.h5"
    for path in (good, corrupt):
        write_fmri_series(path, ["sub-01", "sub-02"], [40, 40], regions=3)
    _corrupt_heap_object(corrupt, "sub-02")
    source, target = (corrupt, good) if bad == "input" else (good, corrupt)
    before = target.read_bytes()
    r = run("fmri", "spectral", "--input", source, "--output", target)
    assert r.returncode in (1, 3), (r.returncode, r.stderr[-500:])
    assert f"{corrupt}: corrupt HDF5 file" in r.stderr, r.stderr[-500:]
    assert f"{good}: corrupt" not in r.stderr
    assert "Program crashed" not in r.stderr and "Backtrac" not in r.stderr
    assert target.read_bytes() == before  # the output is left as it was
