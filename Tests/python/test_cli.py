"""The CLI as a user meets it: help with examples, one-line errors, exit codes, BLAS kernels."""
import os
import subprocess

import pytest


def test_version(run):
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == "0.1.0"


@pytest.mark.parametrize("args", [["--help"], ["inspect", "--help"], ["validate", "--help"], ["run", "--help"]])
def test_help_shows_an_example(run, args):
    r = run(*args)
    assert r.returncode == 0
    assert "Example" in r.stdout and "bioembed " in r.stdout.split("Example", 1)[1]


@pytest.mark.parametrize("command", ["inspect", "validate"])
def test_missing_file_is_one_clear_line(run, tmp_path, command):
    missing = tmp_path / "nope.h5"
    r = run(command, missing)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines == [f"error: {missing}: no such file"]
    assert "HDF5-DIAG" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize("command", ["inspect", "validate"])
def test_non_hdf5_file_is_one_clear_line(run, tmp_path, command):
    text = tmp_path / "notes.h5"
    text.write_text("just text\n")
    r = run(command, text)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(text) in lines[0] and "not an HDF5 file" in lines[0]
    assert "HDF5-DIAG" not in r.stderr


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def test_fast_blas_kernels_by_default(bioembed):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "BIOEMBED_BLAS_REEXEC")}
    proc = subprocess.run([bioembed, "run", "--list-stages", "--verbose"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0
    kernel_lines = [l for l in proc.stderr.splitlines() if "BLAS: OpenBLAS kernels" in l]
    assert len(kernel_lines) == 1
    flags = cpu_flags()
    if {"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"} <= flags:
        assert "'SkylakeX'" in kernel_lines[0]
    elif {"avx2", "fma"} <= flags:
        assert "'Prescott'" not in kernel_lines[0]
    assert "slow SSE3" not in proc.stderr


def test_user_choice_of_kernels_is_kept(run):
    r = run("run", "--list-stages", "--verbose", env={"OPENBLAS_CORETYPE": "Haswell"})
    assert r.returncode == 0
    assert "'Haswell'" in r.stderr and "OPENBLAS_CORETYPE=Haswell" in r.stderr


def test_protein_commands_start_without_the_blas_reexecution(bioembed):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "BIOEMBED_BLAS_REEXEC")}
    proc = subprocess.run([bioembed, "protein", "tokenize", "--help"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "tokenize" in proc.stdout
    proc = subprocess.run([bioembed, "protein", "tokenize", "--input", "/nonexistent-dir-xyz", "--output", "/tmp/never.h5",
                           "--verbose"], capture_output=True, text=True, env=env)
    assert "BLAS: not used by this command" in proc.stderr
    assert "slow SSE3" not in proc.stderr


def test_stage_command_takes_files_folders_and_globs(run, tmp_path):
    (tmp_path / "in/sub").mkdir(parents=True)
    (tmp_path / "in/a.txt").write_text("aaa")
    (tmp_path / "in/sub/b.txt").write_text("bbbb")
    (tmp_path / "c.dat").write_text("c")
    out = tmp_path / "files.h5"
    r = run("checksum", "--input", tmp_path / "in", str(tmp_path / "*.dat"), "--output", out, "--block-size", 2)
    assert r.returncode == 0, r.stderr
    import h5py
    with h5py.File(out, "r") as f:
        assert list(f["files/ids"].asstr()[()]) == ["a.txt", "sub/b.txt", "c.dat"]
        assert list(f["files/content_size"][()]) == [3, 4, 1]
        assert f["files"].attrs["block_size"] == 2
        assert list(f["files/block_offsets"][()]) == [0, 2, 4, 5]
    assert run("validate", out).returncode == 0
    missing = run("checksum", "--input", tmp_path / "nothing*.xyz", "--output", out)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"error: {tmp_path / 'nothing*.xyz'}: cannot be read: the pattern matches no file"
    bad = run("checksum", "--input", tmp_path / "in", "--output", out, "--block-size", 0)
    assert bad.returncode != 0 and "--block-size" in bad.stderr
