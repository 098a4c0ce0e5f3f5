"""Files written by the Swift store (HDF5StoreTests, NetCDFTests) read back with h5py / netCDF4."""
import json

import h5py
import numpy as np


def test_numeric_datasets_dtypes_shapes_chunks_filters(artifacts):
    with h5py.File(artifacts / "store_roundtrip.h5", "r") as f:
        d = f["f32"]
        assert d.dtype == np.float32 and d.shape == (40, 30)
        assert d.chunks == (8, 30) and d.compression == "gzip" and d.compression_opts == 1 and d.shuffle
        np.testing.assert_array_equal(d[()], (np.arange(1200, dtype=np.float32) / 8).reshape(40, 30))
        assert f["f64"].dtype == np.float64
        np.testing.assert_array_equal(f["f64"][()], np.arange(100) * 0.1)
        assert f["f64"].chunks is None
        assert f["i32"].dtype == np.int32
        np.testing.assert_array_equal(f["i32"][()], np.arange(50, dtype=np.int32) - 25)
        assert f["i64"].dtype == np.int64 and f["i64"].shape == (5, 10)
        np.testing.assert_array_equal(f["i64"][()].ravel(), np.arange(50, dtype=np.int64) << 40)
        assert f["u8"].dtype == np.uint8
        np.testing.assert_array_equal(f["u8"][()], np.arange(256, dtype=np.uint8))


def test_strings_and_utf8_attributes(artifacts):
    with h5py.File(artifacts / "store_roundtrip.h5", "r") as f:
        words = f["words"]
        assert h5py.check_string_dtype(words.dtype).encoding == "utf-8"
        assert list(words.asstr()[()]) == ["alpha", "Ünïcödé ✓", ""]
        assert f.attrs["unit"] == "Å" and isinstance(f.attrs["unit"], str)
        assert f.attrs["count"] == 42 and f.attrs["ratio"] == 0.25
        assert json.loads(f.attrs["config"]) == {"k": 10}
        for name in ("bioembed_version", "schema", "created_utc", "command"):
            assert isinstance(f.attrs[name], str)
        assert f.attrs["schema"] == "bioembed/test/1"


def test_ragged_collection_layout(artifacts):
    with h5py.File(artifacts / "store_roundtrip.h5", "r") as f:
        g = f["items"]
        ids = list(g["ids"].asstr()[()])
        assert ids == [f"chain{k}" for k in range(5)]
        offsets = g["residue_offsets"][()]
        assert offsets.dtype == np.int64 and list(offsets) == [0, 1, 3, 6, 10, 15]
        ca = g["ca"]
        assert ca.dtype == np.float32 and ca.shape == (15, 3) and ca.maxshape == (None, 3)
        for k in range(5):
            rows = ca[offsets[k]:offsets[k + 1]]
            np.testing.assert_array_equal(rows.ravel(), k * 100 + np.arange(3 * (k + 1), dtype=np.float32))
        assert list(g["tokens"].asstr()[()]) == ["D" * (k + 1) for k in range(5)]


def test_netcdf4_reads_named_dimensions(artifacts):
    import netCDF4

    with netCDF4.Dataset(artifacts / "netcdf_roundtrip.nc") as nc:
        assert nc.data_model == "NETCDF4"
        assert {k: len(v) for k, v in nc.dimensions.items()} == {"subject": 2, "time": 5, "region": 3}
        ts = nc.variables["timeseries"]
        assert ts.dimensions == ("subject", "time", "region")
        assert ts.units == "z-score"
        assert ts.filters()["zlib"] and ts.filters()["shuffle"]
        np.testing.assert_array_equal(ts[:].data.ravel(), np.arange(30) / 4)
        assert list(nc.variables["subject"][:]) == ["sub-01", "sub-02"]
        assert list(nc.variables["region"][:]) == [1, 2, 5]
        assert nc.title == "BioEmbed test ✓" and nc.t_r == 2.0
