"""The CLI as a user meets it: help with examples, one-line errors, exit codes, BLAS kernels."""
import json
import os
import re
import subprocess

import pytest

from conftest import REPO


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


# Vector tiers, widest first, by the /proc/cpuinfo flags they need: written here independently of
# the binary's own table, so the test checks its judgement instead of repeating it.
TIERS = [("AVX-512", {"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"}), ("AVX2", {"avx2", "fma"}),
         ("AVX", {"avx"}), ("SSE", set())]
TIER_RANK = {name: len(TIERS) - i for i, (name, _) in enumerate(TIERS)}


def cpu_tier():
    flags = cpu_flags()
    return next(name for name, needed in TIERS if needed <= flags)


def kernel_line(stderr):
    lines = [l for l in stderr.splitlines() if "BLAS: OpenBLAS kernels" in l]
    assert len(lines) == 1, stderr
    m = re.search(r"kernels '([^']+)' \(([^)]+)\) on a CPU with ([^,]+), (\d+) thread", lines[0])
    assert m, lines[0]
    return lines[0], m.group(1), m.group(2), m.group(3)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_THREAD_TIMEOUT", "BIOEMBED_BLAS_REEXEC")}
    env.update(extra)
    return env


@pytest.mark.parametrize("args", [["--verbose", "run", "--list-stages"], ["run", "--list-stages", "--verbose"]])
def test_fast_blas_kernels_and_sleeping_threads_by_default(bioembed, args):
    """Not a slow kernel on this CPU, whatever its vendor; idle BLAS threads sleep."""
    proc = subprocess.run([bioembed, *args], capture_output=True, text=True, env=clean_env())
    assert proc.returncode == 0, proc.stderr
    line, kernel, kernel_tier, reported_cpu = kernel_line(proc.stderr)
    assert reported_cpu == cpu_tier()
    assert TIER_RANK[kernel_tier] >= TIER_RANK[cpu_tier()], f"slow kernel '{kernel}' on a {cpu_tier()} CPU: {line}"
    assert "OPENBLAS_THREAD_TIMEOUT=10 (idle threads sleep" in line
    assert "slow" not in proc.stderr


def test_slow_kernels_chosen_by_the_user_are_kept_and_warned_about(bioembed):
    if cpu_tier() == "SSE":
        pytest.skip("no kernel is slow on an SSE-only CPU")
    proc = subprocess.run([bioembed, "--verbose", "run", "--list-stages"], capture_output=True, text=True,
                          env=clean_env(OPENBLAS_CORETYPE="Prescott", OPENBLAS_THREAD_TIMEOUT="12"))
    assert proc.returncode == 0
    line, kernel, kernel_tier, _ = kernel_line(proc.stderr)
    assert kernel_tier == "SSE" and "OPENBLAS_CORETYPE=Prescott" in line
    assert "OPENBLAS_THREAD_TIMEOUT=12" in line
    warnings = [l for l in proc.stderr.splitlines() if l.startswith("warning:")]
    assert len(warnings) == 1 and "slow SSE kernels" in warnings[0] and cpu_tier() in warnings[0]


def test_each_command_declares_its_blas_use(bioembed, tmp_path):
    """From the parsed command (and a pipeline's stages), wherever the global options stand."""
    pipeline = tmp_path / "only-proteins.yaml"
    pipeline.write_text("manifest: m.tsv\nstages:\n  - stage: protein_tokenize\n")
    cases = [
        (["--verbose", "protein", "tokenize", "--input", tmp_path / "none", "--output", tmp_path / "o.h5"], False),
        (["protein", "tokenize", "--verbose", "--input", tmp_path / "none", "--output", tmp_path / "o.h5"], False),
        (["-v", "run", pipeline], False),
        (["-v", "run", REPO / "pipelines/proteins.yaml", "--output-dir", tmp_path / "p"], True),
        (["-v", "fmri", "connectivity", "--input", tmp_path / "none.h5", "--output", tmp_path / "c.h5"], True),
    ]
    for args, uses in cases:
        proc = subprocess.run([bioembed, *map(str, args)], capture_output=True, text=True, env=clean_env(), cwd=tmp_path)
        said = "BLAS: OpenBLAS kernels" in proc.stderr
        assert said == uses and (("BLAS: not used by this command" in proc.stderr) == (not uses)), (args, proc.stderr)
        # OpenBLAS restarts its pool when a stage changes its thread count: the workers it starts
        # then must sleep at once rather than spin a core for 2^28 cycles, BLAS command or not
        assert "OPENBLAS_THREAD_TIMEOUT=10" in proc.stderr and "idle threads sleep after 2^10 cycles" in proc.stderr, (args, proc.stderr)


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


def command_tree(bioembed):
    """Every command of the CLI, from ArgumentParser's own description of it."""
    dump = json.loads(subprocess.run([bioembed, "--experimental-dump-help"], capture_output=True, text=True, check=True).stdout)
    found = []

    def walk(node, path):
        path = path + [node["commandName"]]
        found.append((path[1:], node))
        for sub in node.get("subcommands", []):
            walk(sub, path)
    walk(dump["command"], [])
    return [(path, node) for path, node in found if path != ["help"]]


def assert_usage_error(proc, path, what):
    assert proc.returncode == 1, (path, what, proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, (path, what, proc.stderr)
    assert lines[0].startswith("error: ") and f"see '{' '.join(['bioembed', *path])} --help'" in lines[0], lines[0]
    assert proc.stdout == ""


def test_usage_errors_exit_1_with_one_line_for_every_command(bioembed, tmp_path):
    """Unknown option, missing argument or value, bad value, unknown subcommand: exit 1, one line."""
    tree = command_tree(bioembed)
    assert len(tree) > 20
    walked = 0
    for path, node in tree:
        def run(*args):
            return subprocess.run([bioembed, *path, *args], capture_output=True, text=True, cwd=tmp_path, env=clean_env())
        arguments = node.get("arguments", [])
        subcommands = node.get("subcommands", [])
        if subcommands:
            proc = run("no-such-command")
            assert_usage_error(proc, path, "unknown subcommand")
            assert "no-such-command" in proc.stderr
            continue
        walked += 1
        proc = run("--no-such-option")
        assert_usage_error(proc, path, "unknown option")
        required = [a for a in arguments if not a.get("isOptional") and a["kind"] != "flag"]
        if required:
            proc = run()
            assert_usage_error(proc, path, "missing argument")
            assert "Missing" in proc.stderr
        names = {n["name"] for a in arguments for n in a.get("names", [])}
        if "threads" in names:
            proc = run("--threads", "lots")
            assert_usage_error(proc, path, "bad value")
            assert "'lots'" in proc.stderr
            proc = run("--threads")
            assert_usage_error(proc, path, "missing value")
    assert walked >= 18
    proc = subprocess.run([bioembed, "inspect"], capture_output=True, text=True)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
