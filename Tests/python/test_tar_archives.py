"""AlphaFold DB-style tar archives of `.cif.gz`/`.pdb.gz` members, read in place: the same items and
values as the extracted members (ids `<archive>/<member>:<chain>`), one resume key per member,
GNU long names, and broken archives failing alone with a message naming them."""
import io
import pathlib
import tarfile

import h5py
import numpy as np

from conftest import protein_pipeline, proteins_by_id

REPO = pathlib.Path(__file__).resolve().parents[2]
STRUCTURES = REPO / "Tests/Fixtures/proteins/structures"
PREDICTED = REPO / "Tests/Fixtures/proteins/predicted"
MEMBERS = sorted([p for p in STRUCTURES.iterdir() if p.name.endswith((".cif.gz", ".pdb.gz"))]) + \
    [PREDICTED / "af_model.cif.gz", PREDICTED / "af_model.pdb.gz"]
FIELDS = ["sequence", "tokens_3di", "dssp", "plddt_source"]
RAGGED = ["ca", "residue_number", "plddt"]


def _collection(path):
    return proteins_by_id(path, strings=FIELDS, ragged=RAGGED)[0]


def _archive(path, members, long_names=False):
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        folder = tarfile.TarInfo("shard")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)   # a directory entry, skipped
        for m in members:
            name = m.name if not long_names else "a" * 120 + "/" + m.name
            tar.add(m, arcname=name)
        readme = tarfile.TarInfo("README.txt")
        data = b"not a structure"
        readme.size = len(data)
        tar.addfile(readme, io.BytesIO(data))


def test_archive_equals_its_extracted_members(run, tmp_path):
    archive = tmp_path / "proteome-1.tar"
    _archive(archive, MEMBERS)
    folder = tmp_path / "extracted"
    folder.mkdir()
    for m in MEMBERS:
        (folder / m.name).write_bytes(m.read_bytes())
    r = run("protein", "tokenize", "--input", archive, "--output", tmp_path / "tar.h5", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    r = run("protein", "tokenize", "--input", folder, "--output", tmp_path / "files.h5", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    from_tar, from_files = _collection(tmp_path / "tar.h5"), _collection(tmp_path / "files.h5")
    assert len(from_files) >= 12 and len(from_tar) == len(from_files)
    for key, row in from_files.items():
        other = from_tar[f"proteome-1.tar/{key}"]
        for name in FIELDS:
            assert other[name] == row[name], (key, name)
        for name in RAGGED:
            assert np.array_equal(other[name], row[name], equal_nan=True), (key, name)
    with h5py.File(tmp_path / "tar.h5") as f:
        files = set(f["proteins/file"].asstr()[()])
        assert f"{archive}/af_model.cif.gz" in files


def test_each_member_has_its_own_resume_key(run, tmp_path):
    members = MEMBERS[:6]
    archive = tmp_path / "shard.tar"
    _archive(archive, members)
    pipeline = protein_pipeline(tmp_path, [("shard.tar", archive)])
    r = run("run", pipeline)
    assert r.returncode == 0, r.stderr
    assert len(_collection(tmp_path / "out/proteins.h5")) >= len(members)
    # the same archive with one member replaced by another structure's bytes
    changed = tmp_path / "changed"
    changed.mkdir()
    for m in members:
        (changed / m.name).write_bytes(m.read_bytes())
    (changed / members[0].name).write_bytes(members[2].read_bytes())   # both .pdb.gz
    _archive(archive, [changed / m.name for m in members])
    r = run("run", pipeline, "--resume")
    assert r.returncode == 0, r.stderr
    summary = [l for l in r.stderr.splitlines() if l.startswith("protein_tokenize:") and " cached, " in l][-1]
    assert f"1 done, {len(members) - 1} cached, 0 failed" in summary, summary


def test_long_names_and_broken_archives(run, tmp_path):
    good = tmp_path / "long.tar"
    _archive(good, MEMBERS[:2], long_names=True)
    broken = tmp_path / "broken.tar"
    broken.write_bytes(good.read_bytes()[:1500])   # a member cut short
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"x" * 4096)
    r = run("protein", "tokenize", "--input", good, broken, garbage, "--output", tmp_path / "p.h5")
    assert r.returncode == 2, r.stderr
    rows = _collection(tmp_path / "p.h5")
    assert rows and all(k.startswith("long.tar/" + "a" * 120 + "/") for k in rows)
    with h5py.File(tmp_path / "p.h5") as f:
        errors = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
    assert "truncated" in errors["broken.tar"] and str(broken) in errors["broken.tar"]
    assert "checksum" in errors["garbage.tar"]
