"""The fuzz harness (Fuzz/BioEmbedFuzz) in the normal build replays files instead of fuzzing: every
seed of `scripts/fuzz-corpus.py` and every input a `make fuzz` run saved as a finding
(Tests/Fixtures/fuzz/, kept as regression inputs once fixed) must go through its reader without a
trap or a signal."""
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_fuzz_seeds_and_saved_findings_replay_without_a_crash(bioembed, tmp_path):
    replay = pathlib.Path(bioembed).parent / "BioEmbedFuzz"
    assert replay.exists(), f"{replay}: built by `swift build --build-tests` (make test)"
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, str(REPO / "scripts/fuzz-corpus.py"), str(corpus)], check=True, capture_output=True)
    findings = sorted((REPO / "Tests/Fixtures/fuzz").glob("*-*"))
    inputs = sorted(corpus.iterdir()) + findings
    assert len(inputs) >= 80
    r = subprocess.run([str(replay), *map(str, inputs)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"{len(inputs)} inputs replayed, no crash" in r.stdout
