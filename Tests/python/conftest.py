"""Reader-side and end-to-end checks: run the built `bioembed` binary, read its files with h5py."""
import h5py
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bioembed():
    path = os.environ.get("BIOEMBED_BIN", str(REPO / ".build/release/bioembed"))
    assert os.path.exists(path), f"{path}: build bioembed first (make test does)"
    return path


@pytest.fixture(scope="session")
def artifacts():
    path = os.environ.get("BIOEMBED_TEST_ARTIFACTS")
    assert path, "BIOEMBED_TEST_ARTIFACTS is not set: run these checks through `make test`"
    return pathlib.Path(path)


@pytest.fixture
def run(bioembed):
    def _run(*args, env=None, cwd=REPO, timeout=300):
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        return subprocess.run([bioembed, *map(str, args)], capture_output=True, text=True,
                              env=full_env, cwd=cwd, timeout=timeout)
    return _run


def proteins_by_id(path, strings=(), ragged=()):
    """The /proteins items of an output file: id -> {field: value} for per-chain string fields and
    per-residue (ragged) arrays; also returns the collection attributes."""
    with h5py.File(path) as f:
        g = f["proteins"]
        ids = list(g["ids"].asstr()[()])
        off = g["residue_offsets"][()]
        rows = {}
        for k, i in enumerate(ids):
            row = {name: (g[name].asstr()[k] if name in g else None) for name in strings}
            row.update({name: g[name][off[k]:off[k + 1]] for name in ragged})
            rows[i] = row
        return rows, dict(g.attrs)


def protein_pipeline(tmp_path, rows, parameters=""):
    """A one-stage protein_tokenize pipeline over manifest `rows` ((id, path) pairs), writing
    `<tmp_path>/out/proteins.h5`; `parameters` are extra YAML lines under `with:`."""
    manifest = tmp_path / "m.tsv"
    manifest.write_text("id\tpath\n" + "".join(f"{i}\t{p}\n" for i, p in rows))
    pipeline = tmp_path / "p.yaml"
    body = f"manifest: {manifest}\noutput_dir: {tmp_path / 'out'}\nstages:\n  - stage: protein_tokenize\n    output: proteins.h5\n"
    if parameters:
        body += "    with:\n" + "".join(f"      {line}\n" for line in parameters.splitlines())
    pipeline.write_text(body)
    return pipeline
