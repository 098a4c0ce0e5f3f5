"""Small files in every collection layout of data-schemas/ (written with h5py), for export tests."""
import h5py
import numpy as np


def strings(group, name, values):
    group.create_dataset(name, data=np.array(values, dtype=object), dtype=h5py.string_dtype("utf-8"))


def write_fmri_series(path, subjects, lengths, regions, seed=0, schema="bioembed/fmri/2"):
    """An /fmri collection of cleaned time series only (what `fmri extract` writes): random series of
    `lengths[k]` volumes × `regions` for each subject. Returns the series."""
    rng = np.random.default_rng(seed)
    series = [rng.standard_normal((n, regions)) for n in lengths]
    with h5py.File(path, "w") as f:
        f.attrs.update({"bioembed_version": "0.1.0", "schema": schema, "created_utc": "2026-12-06T00:00:00Z", "command": "synthetic"})
        g = f.create_group("fmri")
        strings(g, "ids", subjects)
        g["t_r"] = np.full(len(subjects), 2.0)
        g["region_ids"] = np.arange(1, regions + 1, dtype=np.int64)
        g["timeseries_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        g["timeseries"] = np.concatenate(series)
    return series


def write_all_collections(path, seed=0):
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        f.attrs.update({"bioembed_version": "0.1.0", "schema": "bioembed/fmri/2",
                        "created_utc": "2026-11-29T00:00:00Z", "command": "synthetic"})
        g = f.create_group("fmri")
        subjects, regions, lengths = ["sub-01", "sub-02", "sub-03"], 6, [20, 25, 18]
        strings(g, "ids", subjects)
        g["t_r"] = np.array([2.0, 2.0, 2.0])
        g["region_ids"] = np.array([1, 2, 3, 5, 8, 13], dtype=np.int64)
        g["timeseries_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        g["timeseries"] = rng.standard_normal((sum(lengths), regions))
        corr = np.stack([np.corrcoef(rng.standard_normal((regions, 30))) for _ in subjects])
        # nested collections: sub-02 failed connectivity, so it is absent below /fmri/connectivity
        kept = ["sub-01", "sub-03"]
        strings(g.create_group("connectivity"), "ids", kept)
        g["connectivity/correlation"] = corr[[0, 2]]
        g["connectivity/covariance"] = corr[[0, 2]] * 2
        strings(g.create_group("graph/correlation"), "ids", kept)
        g["graph/correlation/degree"] = rng.integers(0, 5, (2, regions)).astype(np.int64)
        g["graph/correlation/strength"] = rng.random((2, regions))
        g["graph/correlation"].attrs["density"] = 0.1
        p = f.create_group("proteins")
        chains = ["1abc.pdb:A", "1abc.pdb:B"]
        lengths = [12, 7]
        strings(p, "ids", chains)
        strings(p, "file", ["1abc.pdb", "1abc.pdb"])
        strings(p, "chain", ["A", "B"])
        strings(p, "sequence", ["M" * 12, "G" * 7])
        strings(p, "tokens_3di", ["DVLVPQ" * 2, "DDAQVLV"[:7]])
        strings(p, "dssp", ["-HHHHHHHHHH-", "-EEEEE-"])
        strings(p, "plddt_source", ["none", "none"])
        p["plddt"] = np.full(19, np.nan, dtype=np.float32)
        p["residue_offsets"] = np.array([0, 12, 19], dtype=np.int64)
        p["ca"] = (np.cumsum(rng.standard_normal((19, 3)), axis=0) * 3).astype(np.float32)
        p["residue_number"] = np.arange(19, dtype=np.int32)
        strings(p, "insertion_code", [""] * 19)
        m = f.create_group("molecules")
        strings(m, "ids", ["a.sdf", "b.sdf#1"])
        strings(m, "smiles", ["CCO", "C1=CC=CC=C1"])
        strings(m, "selfies", ["[C][C][O]", "[C][=C][C][=C][C][=C][Ring1][=Branch1]"])
        m["token_offsets"] = np.array([0, 6, 17], dtype=np.int64)
        m["input_ids"] = np.arange(17, dtype=np.int32)
        m["fp_tokens"] = np.full((17, 4), -1, dtype=np.int32)
        m["e3fp_offsets"] = np.array([0, 3, 5], dtype=np.int64)
        m["e3fp_bits"] = np.array([1, 5, 9, 2, 4000], dtype=np.int32)
        e = f.create_group("embeddings/pst")
        strings(e, "ids", chains)
        e["pooled"] = rng.standard_normal((2, 8)).astype(np.float32)
        e.attrs.update({"model": "pst_t6", "config": "{}", "weights_sha256": "0" * 64, "pooling": "mean"})
