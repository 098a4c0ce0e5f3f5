"""Reader-side and end-to-end checks: run the built `bioembed` binary, read its files with h5py."""
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
