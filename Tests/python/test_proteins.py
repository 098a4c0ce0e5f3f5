"""`bioembed protein tokenize` end to end: the /proteins layout read with h5py against the protein
fixtures (sequences, 3Di and DSSP exact, Cα ≤ 1e-3 Å, chain-local graphs), bad inputs, help."""
import gzip
import pathlib

import h5py
import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests/Fixtures/proteins"


def _s(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def test_help_has_examples(run):
    r = run("protein", "tokenize", "--help")
    assert r.returncode == 0
    assert "bioembed protein tokenize --input" in r.stdout.split("Example", 1)[1]


def test_tokenize_matches_fixtures(run, tmp_path):
    out = tmp_path / "p.h5"
    r = run("protein", "tokenize", "--input", FIXTURES / "structures", "--output", out, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f, h5py.File(FIXTURES / "proteins.h5") as ref:
        g = f["proteins"]
        ids = _s(g["ids"][()])
        offsets = g["residue_offsets"][()]
        eoff = g["graph/radius/edge_offsets"][()]
        assert g["graph/radius"].attrs["cutoff"] == 8.0 and g["graph/knn"].attrs["k"] == 10
        checked = 0
        for name in ref:
            r_ = ref[name]
            file_id = pathlib.Path(r_.attrs["file"]).name
            chains = _s(r_["chain_names"][()])
            coff = r_["chain_offsets"][()]
            for k, chain in enumerate(chains):
                item = ids.index(f"{file_id}:{chain}")
                lo, hi = offsets[item], offsets[item + 1]
                rlo, rhi = coff[k], coff[k + 1]
                assert _s(g["sequence"][item:item + 1])[0] == _s(r_["seq"][k:k + 1])[0]
                assert _s(g["tokens_3di"][item:item + 1])[0] == _s(r_["tdi_foldseek"][k:k + 1])[0]
                # mkdssp 4.2.2's letters, `?` where it reports no residue (every chain, exactly)
                assert _s(g["dssp"][item:item + 1])[0] == _s(r_["dssp"][k:k + 1])[0], f"{file_id}:{chain}"
                ca = g["ca"][lo:hi]
                assert np.max(np.abs(ca - r_["ca"][rlo:rhi])) <= 1e-3
                assert np.array_equal(g["residue_number"][lo:hi], r_["res_seq"][rlo:rhi])
                assert _s(g["insertion_code"][lo:hi]) == _s(r_["res_icode"][rlo:rhi])
                # chain-local radius graph = the fixture's whole-complex edges inside this chain
                e = r_["radius8_edges"][()]
                inside = e[(e[:, 0] >= rlo) & (e[:, 0] < rhi) & (e[:, 1] >= rlo) & (e[:, 1] < rhi)] - rlo
                assert np.array_equal(g["graph/radius/edges"][eoff[item]:eoff[item + 1]], inside)
                # chain-local kNN = brute force over this chain's Cα (float64 fixture coordinates)
                p = r_["ca"][rlo:rhi]
                d = np.linalg.norm(p[:, None, :] - p[None, :, :], axis=-1)
                np.fill_diagonal(d, np.inf)
                n = len(p)
                expect = np.full((n, 10), -1, dtype=np.int32)
                for i in range(n):
                    order = np.lexsort((np.arange(n), d[i]))[: min(10, n - 1)]
                    expect[i, : len(order)] = order
                assert np.array_equal(g["graph/knn/neighbors"][lo:hi], expect)
                checked += 1
        assert checked >= 15


def test_dssp_equals_mkdssp_on_every_fixture_chain(run, tmp_path):
    """/proteins/dssp letter for letter as mkdssp 4.2.2 (the fixtures' `dssp`) on every chain, short
    ones included: microheterogeneity (3JQH), SEQRES numbering with non-standard residues (2n0n),
    residues mkdssp does not read (`?`: adk_open's HSD, 1grm's ethanolamine), altlocs (19hc)."""
    out = tmp_path / "d.h5"
    r = run("protein", "tokenize", "--input", FIXTURES / "structures", "--output", out, "--min-length", "1")
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f, h5py.File(FIXTURES / "proteins.h5") as ref:
        g = f["proteins"]
        ours = dict(zip(_s(g["ids"][()]), _s(g["dssp"][()])))
        seqs = dict(zip(_s(g["ids"][()]), _s(g["sequence"][()])))
        expected = {}
        for name in ref:
            file_id = pathlib.Path(ref[name].attrs["file"]).name
            for chain, letters in zip(_s(ref[name]["chain_names"][()]), _s(ref[name]["dssp"][()])):
                expected[f"{file_id}:{chain}"] = letters
    assert len(expected) == 22 and set(expected) <= set(ours)
    for key, letters in expected.items():
        assert ours[key] == letters, key
        assert len(ours[key]) == len(seqs[key])
    assert sum(v.count("?") for v in expected.values()) == 7


def test_dssp_drops_microheterogeneous_positions_as_mkdssp_reads_pdb_files(run, tmp_path):
    """1EJG: the second variants of residues 22 (SER beside PRO) and 25 (ILE beside LEU) are not in
    SEQRES; libcifpp's PDB reader maps them onto those positions as ligands, and mkdssp 4.2.2 reads
    neither residue there (Tests/Fixtures/proteins-outside/README.md gives the mkdssp run)."""
    out = tmp_path / "d.h5"
    r = run("protein", "tokenize", "--input", REPO / "Tests/Fixtures/proteins-outside/pdb1ejg.pdb.gz", "--output", out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f:
        letters = dict(zip(_s(f["proteins/chain"][()]), _s(f["proteins/dssp"][()])))
    assert letters["A"] == "-EE-SSHHHHHHHHHHHTTT-?--?-HHHHS-EE-SSS---TTS--"


def test_no_dssp_leaves_the_field_out_and_the_rest_unchanged(run, tmp_path):
    """--no-dssp: no /proteins/dssp, and every other field equals the default run's."""
    default, without = tmp_path / "a.h5", tmp_path / "b.h5"
    for out, extra in ((default, []), (without, ["--no-dssp"])):
        r = run("protein", "tokenize", "--input", FIXTURES / "structures", "--output", out, *extra)
        assert r.returncode == 0, r.stderr
    with h5py.File(default) as a, h5py.File(without) as b:
        assert "dssp" in a["proteins"] and "dssp" not in b["proteins"]
        assert set(a["proteins"]) - {"dssp"} == set(b["proteins"])
        for name in ("ids", "sequence", "tokens_3di", "plddt_source"):
            assert list(a["proteins"][name][()]) == list(b["proteins"][name][()]), name
        np.testing.assert_array_equal(a["proteins/ca"][()], b["proteins/ca"][()])


def test_complex_graph_scope_matches_the_fixtures_whole_complex_graphs(run, tmp_path):
    """--graph-scope complex (every chain kept): a file's items, in order, carry the fixture's
    whole-complex radius and kNN graphs (complex indices) and each chain's complex_offset."""
    out = tmp_path / "c.h5"
    r = run("protein", "tokenize", "--input", FIXTURES / "structures", "--output", out, "--graph-scope", "complex",
            "--min-length", "1", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f, h5py.File(FIXTURES / "proteins.h5") as ref:
        g = f["proteins"]
        assert g.attrs["graph_scope"] in ("complex", b"complex")
        ids = _s(g["ids"][()])
        eoff = g["graph/radius/edge_offsets"][()]
        roff = g["residue_offsets"][()]
        checked = 0
        for name in ref:
            r_ = ref[name]
            file_id = pathlib.Path(r_.attrs["file"]).name
            items = [ids.index(f"{file_id}:{chain}") for chain in _s(r_["chain_names"][()])]
            assert items == sorted(items) and items == list(range(items[0], items[0] + len(items)))
            edges = np.concatenate([g["graph/radius/edges"][eoff[i]:eoff[i + 1]] for i in items])
            knn = np.concatenate([g["graph/knn/neighbors"][roff[i]:roff[i + 1]] for i in items])
            assert np.array_equal(edges, r_["radius8_edges"][()]), name
            assert np.array_equal(knn, r_["knn10_idx"][()]), name
            assert list(g["complex_offset"][items[0]:items[-1] + 1]) == list(r_["chain_offsets"][:-1]), name
            checked += 1
        assert checked == len(ref)


def test_bad_inputs_exit_2_and_rest_written(run, tmp_path):
    good = FIXTURES / "structures/1A8O.pdb.gz"
    data = good.read_bytes()
    (tmp_path / "truncated.pdb.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.pdb").write_bytes(b"")
    (tmp_path / "garbage.pdb").write_bytes(bytes(range(256)) * 16)
    (tmp_path / "loop.cif").write_text("data_x\nloop_\n_atom_site.label_atom_id\n_atom_site.Cartn_x\n"
                                       "_atom_site.Cartn_y\n_atom_site.Cartn_z\nCA 1 2 3\nCA 4 5\n")
    lines = [l for l in gzip.decompress(data).decode().splitlines() if l.startswith(("ATOM", "HETATM"))]
    (tmp_path / "noca.pdb").write_text("\n".join(l for l in lines if l[12:16] != " CA ") + "\n")
    (tmp_path / "good.pdb.gz").write_bytes(data)
    out = tmp_path / "out.h5"
    r = run("protein", "tokenize", "--input", tmp_path, "--output", out)
    assert r.returncode == 2, r.stderr
    with h5py.File(out) as f:
        assert _s(f["proteins/ids"][()]) == ["good.pdb.gz:A"]
        errors = dict(zip(_s(f["errors/ids"][()]), _s(f["errors/message"][()])))
    assert set(errors) == {"truncated.pdb.gz", "empty.pdb", "garbage.pdb", "loop.cif", "noca.pdb"}
    assert "gzip" in errors["truncated.pdb.gz"] and "empty file" in errors["empty.pdb"]
    assert "binary" in errors["garbage.pdb"] and "loop.cif:2:" in errors["loop.cif"]
    assert "CA" in errors["noca.pdb"]
    for name, message in errors.items():
        assert name.split(":")[0] in message


def test_pipeline_file_runs(run, tmp_path):
    r = run("run", REPO / "pipelines/proteins.yaml", "--output-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "proteins.h5") as f:
        assert len(f["proteins/ids"]) == 4
    assert run("validate", tmp_path / "proteins.h5").returncode == 0
