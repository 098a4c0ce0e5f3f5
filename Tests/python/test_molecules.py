"""`bioembed molecule tokenize` end to end: the fixture molecules read back with h5py equal the
reference tokens; bad records land in /errors with file, record and reason, the rest is written,
exit code 2; the molecules pipeline runs over examples/molecules."""
import gzip
import json

import h5py
import numpy as np

from conftest import REPO

FIXTURES = REPO / "Tests/Fixtures/molecules"


def ragged(group, name, offsets, k):
    off = group[offsets][()]
    return group[name][off[k]:off[k + 1]]


def test_fixture_molecules_read_back_equal_the_reference(run, tmp_path):
    out = tmp_path / "m.h5"
    r = run("molecule", "tokenize", "--input", FIXTURES, "--output", out, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    reference = {m["name"]: m for m in json.loads((FIXTURES / "tokens.json").read_text())["molecules"]}
    with h5py.File(out) as f:
        g = f["molecules"]
        ids = list(g["ids"].asstr()[()])
        assert sorted(ids) == sorted(f"{name}.sdf" for name in reference)
        assert f.attrs["schema"] == "bioembed/molecules/1"
        assert g.attrs["bom_id"] == 35045 and g.attrs["eom_id"] == 35044
        for k, item in enumerate(ids):
            ref = reference[item[:-4]]
            assert g["smiles"].asstr()[k] == ref["smiles"]
            assert g["selfies"].asstr()[k] == ref["selfies"]
            assert ragged(g, "input_ids", "token_offsets", k).tolist() == ref["input_ids"]
            assert ragged(g, "fp_tokens", "token_offsets", k).tolist() == ref["molecule_fp_ids"]
            assert ragged(g, "e3fp_bits", "e3fp_offsets", k).tolist() == ref["fp_on_bits"]
            assert ragged(g, "atom_token_index", "atom_offsets", k).tolist() == ref["atom_token_index"]
            assert ragged(g, "atom_fp_tokens", "atom_offsets", k).tolist() == ref["atom_fp_table"]
            assert g["input_ids"].dtype == np.int32 and g["fp_tokens"].shape[1] == 4
    assert run("validate", out).returncode == 0


def test_bad_records_are_listed_and_the_rest_written(run, tmp_path):
    good = (FIXTURES / "cdk2_000.sdf").read_text()
    if "$$$$" not in good:
        good = good.rstrip("\n") + "\n$$$$\n"
    lib = tmp_path / "lib.sdf"
    lib.write_text(good + "junk\n\nnot a molfile\n$$$$\n" + good)
    # a .sdf.gz of four different molecules, cut in its last quarter
    texts = [(FIXTURES / f"cdk2_00{k}.sdf").read_text() for k in range(1, 5)]
    data = gzip.compress("".join(t if "$$$$" in t else t.rstrip("\n") + "\n$$$$\n" for t in texts).encode())
    (tmp_path / "cut.sdf.gz").write_bytes(data[: len(data) * 4 // 5])
    out = tmp_path / "m.h5"
    r = run("molecule", "tokenize", "--input", lib, tmp_path / "cut.sdf.gz", "--output", out)
    assert r.returncode == 2, r.stderr
    with h5py.File(out) as f:
        ids = list(f["molecules/ids"].asstr()[()])
        assert "lib.sdf#0" in ids and "lib.sdf#2" in ids and "cut.sdf.gz#0" in ids
        errors = dict(zip(f["errors/ids"].asstr()[()], f["errors/message"].asstr()[()]))
    assert set(errors) == {"lib.sdf#1", f"cut.sdf.gz#{len([i for i in ids if i.startswith('cut')])}"}
    assert errors["lib.sdf#1"].startswith(f"{lib}: record 1 (line ")
    assert "RDKit could not read" in errors["lib.sdf#1"]
    assert "gzip stream is truncated" in [m for i, m in errors.items() if i.startswith("cut")][0]
    assert run("validate", out).returncode == 0


def test_one_library_file_is_split_across_jobs_in_record_order(run, tmp_path):
    """With --jobs 2 the records of one SDF file are tokenized side by side, and with
    --records-per-item the file runs as parts of that many records: the output (records, their
    order, the bad record's error and line) equals the one-job, one-item run's."""
    texts = []
    for path in sorted(FIXTURES.glob("*.sdf")):
        t = path.read_text()
        texts.append(t if "$$$$" in t else t.rstrip("\n") + "\n$$$$\n")
    library = "".join(texts * 3) + "junk\n\nnot a molfile\n$$$$\n" + "".join(texts)
    (tmp_path / "library.sdf").write_text(library)
    outputs = []
    # one job; two jobs; parts of 7 records (work units with their own resume keys) with two jobs
    for name, extra in (("one", ["--jobs", "1"]), ("two", ["--jobs", "2"]), ("parts", ["--jobs", "2", "--records-per-item", "7"])):
        out = tmp_path / f"{name}.h5"
        r = run("molecule", "tokenize", "--input", tmp_path / "library.sdf", "--output", out, *extra)
        assert r.returncode == 2, r.stderr
        outputs.append(out)
    first, *others = outputs
    with h5py.File(first) as a:
        assert len(a["molecules/ids"]) == 4 * len(texts)
        assert list(a["errors/ids"].asstr()[()]) == [f"library.sdf#{3 * len(texts)}"]
        assert "(line " in a["errors/message"].asstr()[0]
        for other in others:
            with h5py.File(other) as b:
                for group in ("molecules", "errors"):
                    for name, dataset in a[group].items():
                        if isinstance(dataset, h5py.Dataset):
                            assert np.array_equal(dataset[()], b[group][name][()]), f"{other.name}: {group}/{name}"



def test_a_large_gzip_library_runs_in_parts_with_the_same_records(run, tmp_path):
    """A .sdf.gz of more than --records-per-item records is inflated once into a temporary plain
    copy and cut into parts: the same records as reading it whole, errors naming the .gz file and
    the line, and the temporary copy removed at the end."""
    import tempfile
    texts = []
    for path in sorted(FIXTURES.glob("*.sdf")):
        t = path.read_text()
        texts.append(t if "$$$$" in t else t.rstrip("\n") + "\n$$$$\n")
    library = "".join(texts * 2) + "junk\n\nnot a molfile\n$$$$\n" + "".join(texts)
    (tmp_path / "lib.sdf.gz").write_bytes(gzip.compress(library.encode()))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    outputs = []
    for name, per_item in (("whole", "100000"), ("parts", "5")):
        out = tmp_path / f"{name}.h5"
        r = run("molecule", "tokenize", "--input", tmp_path / "lib.sdf.gz", "--output", out, "--jobs", "2",
                "--records-per-item", per_item, env={"TMPDIR": str(scratch)})
        assert r.returncode == 2, r.stderr
        outputs.append(out)
    with h5py.File(outputs[0]) as a, h5py.File(outputs[1]) as b:
        for group in ("molecules", "errors"):
            for name, dataset in a[group].items():
                if isinstance(dataset, h5py.Dataset):
                    assert np.array_equal(dataset[()], b[group][name][()]), f"{group}/{name}"
        message = b["errors/message"].asstr()[0]
        assert message.startswith(f"{tmp_path / 'lib.sdf.gz'}: record {2 * len(texts)} (line "), message
    assert not any((scratch / "bioembed-sdf").glob("*")) if (scratch / "bioembed-sdf").exists() else True


def test_molecules_pipeline_over_the_examples(run, tmp_path):
    r = run("run", REPO / "pipelines/molecules.yaml", "--output-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "molecules.h5") as f:
        ids = list(f["molecules/ids"].asstr()[()])
        assert ids[:2] == ["cdk2_000.sdf", "etkdg_aspirin.sdf"]
        assert ids[2:] == [f"cdk2_ligands.sdf.gz#{k}" for k in range(5)]
        fields = json.loads(f["molecules/sdf_fields"].asstr()[2])
        assert "r_mmffld_Potential_Energy-OPLS_2005" in fields


def test_help_has_an_example(run):
    r = run("molecule", "tokenize", "--help")
    assert r.returncode == 0 and "bioembed molecule tokenize --input" in r.stdout


def test_rdkit_logging_only_with_verbose(run, tmp_path):
    bad = tmp_path / "valence.sdf"
    bad.write_text(
        "bad\n  RDKit          3D\n\n  5  4  0  0  0  0  0  0  0  0999 V2000\n"
        + "".join(f"    {x:6.4f}    0.0000    0.{k}000 {e}   0  0  0  0  0  0  0  0  0  0  0  0\n"
                  for k, (x, e) in enumerate([(0, "N"), (1.5, "C"), (-1.5, "C"), (0, "C"), (0, "C")]))
        + "  1  2  1  0\n  1  3  1  0\n  1  4  1  0\n  1  5  1  0\nM  END\n$$$$\n")
    quiet = run("molecule", "tokenize", "--input", bad, "--output", tmp_path / "q.h5")
    verbose = run("molecule", "tokenize", "--input", bad, "--output", tmp_path / "v.h5", "--verbose")
    assert quiet.returncode == 3 or quiet.returncode == 2, quiet.stderr
    rdkit_line = "] Explicit valence for atom # 0 N"
    assert rdkit_line not in quiet.stderr
    assert rdkit_line in verbose.stderr
