"""The conformance suite: every stage that `bioembed run --list-stages` names goes through the same
checks, so a new stage gets them by being registered.

- its pipeline keys and its CLI flags are the same set (both ways);
- one pipeline with every stage (all three modalities, fMRI with two subjects) writes files that
  `validate` accepts, and `--jobs 2` writes the same as `--jobs 1`;
- SIGKILL at random moments, then `--resume`, equals an uninterrupted run;
- changing one input redoes that item alone in each stage that maps over items (summary line
  `stage: 1 done, N cached`), and the result equals a fresh run on the changed inputs.
"""
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("BIOEMBED_BIN", str(REPO / ".build/release/bioembed"))

# Flags of the stage commands that are not stage parameters: inputs, outputs and the engine's own.
ENGINE_FLAGS = {"--help", "--version", "--input", "--output", "--jobs", "--threads", "--progress", "--no-progress", "--quiet",
                "--verbose", "--input-list", "--resume", "--bold", "--bids", "--confounds", "--space", "--task", "--desc",
                "--participant", "--session"}
# A pipeline key whose CLI spelling differs, and why.
ALIASES = {("train_brainmae", "weights"): "--output"}  # `train brainmae --output` is the weights file it writes


def registered_stages():
    """stage -> (kind text, [parameters], {parameter: its help line}) from `run --list-stages`."""
    if not os.path.exists(BINARY):
        return {}
    text = subprocess.run([BINARY, "run", "--list-stages"], capture_output=True, text=True).stdout
    stages, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\w+) \(([^)]*)\)", line)
        d = re.match(r"^      (\w+) \((\w+)\): (.*)$", line)
        if m:
            current = m.group(1)
            stages[current] = (m.group(2), [], {})
        elif current and line.strip().startswith("parameters:"):
            stages[current][1].extend(p.strip() for p in line.split(":", 1)[1].split(",") if p.strip())
        elif current and d:
            stages[current][2][d.group(1)] = d.group(3)
    return stages


STAGES = registered_stages()


def option_flags(help_text):
    """The flags declared in the OPTIONS section of a --help text (`--x/--no-x` gives both)."""
    flags = set()
    section = help_text.split("OPTIONS:", 1)[-1]
    for line in section.splitlines():
        m = re.match(r"^  (?:-\w, )?(--[a-z0-9-]+)(?:/(--[a-z0-9-]+))?", line)  # an option, not a wrapped help line
        if m:
            flags.update(f for f in m.groups() if f)
    return flags


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_pipeline_keys_and_cli_flags_are_the_same_set(stage):
    words = stage.split("_", 1)
    r = subprocess.run([BINARY, *words, "--help"], capture_output=True, text=True)
    assert r.returncode == 0, f"`bioembed {' '.join(words)} --help`: {r.stderr}"
    flags = option_flags(r.stdout)
    keys = STAGES[stage][1]
    spelled = {key: ALIASES.get((stage, key), "--" + key.replace("_", "-")) for key in keys}
    missing = [key for key, flag in spelled.items() if flag not in flags and flag.replace("--", "--no-", 1) not in flags]
    assert not missing, f"{stage}: pipeline keys without a CLI flag: {missing}"
    known = set(spelled.values()) | {f.replace("--", "--no-", 1) for f in spelled.values()} | ENGINE_FLAGS
    extra = sorted(flags - known)
    assert not extra, f"{stage}: CLI flags that are not pipeline keys: {extra}"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_each_flag_shows_the_help_of_its_parameter_table(stage):
    """A stage's parameters are declared once: the listing (`run --list-stages`) and the CLI flags'
    `--help` come from the same table, so the flag of every key shows the key's help."""
    words = stage.split("_", 1)
    text = " ".join(subprocess.run([BINARY, *words, "--help"], capture_output=True, text=True).stdout.split())
    listed = STAGES[stage][2]
    assert sorted(listed) == sorted(STAGES[stage][1]), f"{stage}: every parameter has a help line"
    for key, line in listed.items():
        # the help sentence (the listing adds allowed values, the unit and the default after it)
        sentence = re.split(r" (?:One of|Default|Unit): ", line)[0]
        assert " ".join(sentence.split()) in text, f"{stage}: the help of --{key.replace('_', '-')} is not its table's: {sentence!r}"


# ---------------------------------------------------------------------------------------------
# One pipeline with every stage


def make_inputs(root):
    """The examples copied (so one can be changed), fMRI with a second subject."""
    data = root / "data"
    shutil.copytree(REPO / "examples", data)
    sub1 = data / "fmri/sub-01/func"
    sub2 = data / "fmri/sub-02/func"
    sub2.mkdir(parents=True)
    for f in sub1.iterdir():
        shutil.copy(f, sub2 / f.name.replace("sub-01", "sub-02"))
    lines = (data / "fmri/manifest.tsv").read_text().splitlines()
    lines.append(lines[1].replace("sub-01", "sub-02"))
    (data / "fmri/manifest.tsv").write_text("\n".join(lines) + "\n")
    return data


def pipeline_text(stages=None):
    encoders = REPO / "Tests/Fixtures/encoders"
    text = f"""name: conformance
manifest: data/manifest.tsv
output_dir: out
stages:
  - stage: checksum
    output: files.h5
  - stage: fmri_extract
    manifest: data/fmri/manifest.tsv
    output: fmri.h5
    with: {{atlas: data/fmri/atlas_labels.nii.gz, preset: 36p, high_pass: 0.01, low_pass: 0.1}}
  - stage: fmri_connectivity
    with: {{kind: [correlation, partial_correlation], window: 30, step: 5}}
  - stage: fmri_graph
    with: {{kind: correlation, density: 0.1}}
  - stage: fmri_spectral
    with: {{low: 0.01, high: 0.08}}
  - stage: fmri_factorize
    with: {{rank: 3, max_iterations: 5}}
  - stage: train_brainmae
    with: {{config: data/brainmae/demo.json, weights: '{{output_dir}}/brainmae.safetensors', epochs: 2, seed: 1}}
  - stage: encode_brainmae
    with: {{weights: '{{output_dir}}/brainmae.safetensors', config: '{{output_dir}}/brainmae.config.json'}}
  - stage: protein_tokenize
    manifest: data/proteins/manifest.tsv
    output: proteins.h5
  - stage: encode_pst
    with: {{weights: {encoders}/pst/weights.safetensors, config: {encoders}/pst/config.json}}
  - stage: molecule_tokenize
    manifest: data/molecules/manifest.tsv
    output: molecules.h5
  - stage: encode_molt5
    with: {{weights: {encoders}/molt5/weights.safetensors, config: {encoders}/molt5/config.json}}
"""
    return text


def contents(folder):
    """Every dataset of every output file (attributes of provenance left out)."""
    out = {}
    for path in sorted(pathlib.Path(folder).glob("*.h5")):
        with h5py.File(path) as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and not name.startswith("provenance"):
                    value = obj[()]
                    out[f"{path.name}:{name}"] = value.astype(str) if value.dtype.kind in "OS" else value
            f.visititems(visit)
    return out


def assert_same(a, b, what, rtol=0.0, atol=0.0):
    """Integers and strings exactly; floats exactly unless a tolerance is given."""
    assert a.keys() == b.keys(), f"{what}: {sorted(set(a) ^ set(b))}"
    for name in a:
        x, y = a[name], b[name]
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{what}: {name}")
        else:
            np.testing.assert_array_equal(x, y, err_msg=f"{what}: {name}")


def summaries(stderr):
    """stage -> (done, cached, failed) from the summary lines."""
    found = {}
    for line in stderr.splitlines():
        m = re.match(r"^(\w+): (\d+) done, (\d+) cached, (\d+) failed", line)
        if m:
            found[m.group(1)] = tuple(int(g) for g in m.groups()[1:])
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance")
    make_inputs(root)
    (root / "pipeline.yaml").write_text(pipeline_text())
    r = subprocess.run([BINARY, "run", "pipeline.yaml", "--jobs", "1"], cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return root, contents(root / "out"), summaries(r.stderr)


def test_every_registered_stage_is_in_the_suite(reference):
    _, _, ran = reference
    assert set(ran) == set(STAGES), f"not in the conformance pipeline: {sorted(set(STAGES) - set(ran))}"


def test_outputs_validate_and_two_jobs_write_the_same(reference):
    root, expected, _ = reference
    for path in sorted((root / "out").glob("*.h5")):
        r = subprocess.run([BINARY, "validate", str(path)], capture_output=True, text=True)
        assert r.returncode == 0 and "valid" in r.stdout, (path.name, r.stdout, r.stderr)
    r = subprocess.run([BINARY, "run", "pipeline.yaml", "--jobs", "2", "--output-dir", "out-jobs2"], cwd=root,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert_same(contents(root / "out-jobs2"), expected, "--jobs 2")


def test_the_stage_command_writes_the_same_series_with_one_thread_or_two(reference, tmp_path):
    """An item's numbers do not depend on --threads either (OpenBLAS's dgemm differs in the last bits
    between one and two threads on some CPUs' kernels; the confound regression of these 200-volume,
    50-region runs is large enough to be split): the command alone equals the pipeline's stage."""
    root, expected, _ = reference
    manifest = [line.split("\t") for line in (root / "data/fmri/manifest.tsv").read_text().splitlines()[1:]]
    bold = [str(root / "data/fmri" / row[1]) for row in manifest]
    confounds = [str(root / "data/fmri" / row[2]) for row in manifest]
    for threads in ("1", "2"):
        out = tmp_path / f"threads{threads}.h5"
        r = subprocess.run([BINARY, "fmri", "extract", "--bold", *bold, "--confounds", *confounds, "--atlas",
                            str(root / "data/fmri/atlas_labels.nii.gz"), "--preset", "36p", "--high-pass", "0.01", "--low-pass", "0.1",
                            "--threads", threads, "--output", str(out)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        with h5py.File(out) as f:
            np.testing.assert_array_equal(f["fmri/timeseries"][()], expected["fmri.h5:fmri/timeseries"], err_msg=f"--threads {threads}")


def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(reference):
    """Three runs from scratch, each killed at random moments (then resumed and killed again) until
    one finishes; the result equals the uninterrupted run's."""
    root, expected, _ = reference
    rng = random.Random(11)
    kills = 0
    for round in range(3):
        folder = f"out-killed-{round}"
        for _ in range(6):
            proc = subprocess.Popen([BINARY, "run", "pipeline.yaml", "--quiet", "--resume", "--output-dir", folder], cwd=root,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.02, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if proc.returncode != -signal.SIGKILL:
                break  # it finished first
            kills += 1
        r = subprocess.run([BINARY, "run", "pipeline.yaml", "--resume", "--output-dir", folder], cwd=root,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        assert_same(contents(root / folder), expected, f"killed + --resume (round {round})")
    assert kills >= 3, f"only {kills} runs could be killed"


def copy_of_run(root, folder):
    """The reference run's inputs, pipeline and outputs in `folder` (to be changed there)."""
    shutil.copytree(root / "data", folder / "data")
    shutil.copytree(root / "out", folder / "out")
    shutil.copy(root / "pipeline.yaml", folder)


def test_one_changed_input_is_redone_alone(reference, tmp_path):
    root, _, first = reference
    copy_of_run(root, tmp_path)
    data = tmp_path / "data"
    # one structure, one molecule file, one subject's confounds
    pdb = data / "proteins/1a1p.pdb"
    pdb.write_text(pdb.read_text().replace("  1.00", "  0.99", 1))  # one occupancy
    sdf = data / "molecules/etkdg_aspirin.sdf"
    lines = sdf.read_text().splitlines()
    lines[4] = lines[4][:9] + ("1" if lines[4][9] != "1" else "2") + lines[4][10:]  # one x coordinate digit
    sdf.write_text("\n".join(lines) + "\n")
    tsv = data / "fmri/sub-02/func/sub-02_task-rest_desc-confounds_timeseries.tsv"
    rows = tsv.read_text().splitlines()
    cells = rows[5].split("\t")
    cells = [c if c in ("n/a", "") else repr(float(c) * 1.01) for c in cells]
    rows[5] = "\t".join(cells)
    tsv.write_text("\n".join(rows) + "\n")
    r = subprocess.run([BINARY, "run", "pipeline.yaml", "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    again = summaries(r.stderr)
    items = {stage: sum(counts) for stage, counts in first.items()}
    for stage in ("protein_tokenize", "encode_pst", "molecule_tokenize", "encode_molt5", "fmri_extract"):
        assert again[stage] == (1, items[stage] - 1, 0), (stage, again[stage])
    for stage in ("fmri_connectivity", "fmri_graph", "fmri_spectral", "fmri_factorize"):
        assert again[stage] == (1, items[stage] - 1, 0), (stage, again[stage])
    # training (a reduce) sees changed data: it trains again, and encoding with its new weights redoes all
    for stage in ("train_brainmae", "encode_brainmae"):
        assert again[stage] == (items[stage], 0, 0), (stage, again[stage])
    # examples/manifest.tsv lists the structure and the molecule file (not sub-02's confounds)
    assert again["checksum"] == (2, items["checksum"] - 2, 0), again["checksum"]
    # the result equals a fresh run on the changed inputs
    fresh = subprocess.run([BINARY, "run", "pipeline.yaml", "--output-dir", "fresh"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert fresh.returncode == 0, fresh.stderr
    # an item encoded again alone is in another batch than in a fresh run: float32 sums in another order
    assert_same(contents(tmp_path / "out"), contents(tmp_path / "fresh"), "--resume after a change", rtol=1e-5, atol=1e-6)


def test_a_parameter_file_changed_in_place_redoes_every_item(reference, tmp_path):
    """An atlas (a path parameter) rewritten under the same name is part of every item's key."""
    import nibabel as nib
    root, _, first = reference
    copy_of_run(root, tmp_path)
    atlas = tmp_path / "data/fmri/atlas_labels.nii.gz"
    img = nib.load(str(atlas))
    labels = np.asarray(img.dataobj).copy()
    a, b = np.unique(labels[labels != 0])[:2]
    first_region = labels == a
    labels[labels == b], labels[first_region] = a, b  # two regions swap their voxels
    nib.save(nib.Nifti1Image(labels, img.affine, img.header), str(atlas))
    r = subprocess.run([BINARY, "run", "pipeline.yaml", "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert summaries(r.stderr)["fmri_extract"] == (2, 0, 0)
    assert summaries(r.stderr)["protein_tokenize"] == (0, sum(first["protein_tokenize"]), 0)


def test_a_changed_stage_redoes_the_stages_that_read_it_and_no_other(reference, tmp_path):
    """New connectivity parameters: connectivity, and the graph metrics and factorization that read
    its groups, are redone for every subject; the spectral measures (from the time series) are not."""
    root, _, first = reference
    copy_of_run(root, tmp_path)
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("window: 30, step: 5", "window: 30, step: 6"))
    r = subprocess.run([BINARY, "run", "pipeline.yaml", "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    again = summaries(r.stderr)
    for stage in ("fmri_connectivity", "fmri_graph", "fmri_factorize"):
        assert again[stage] == (2, 0, 0), (stage, again[stage])
    assert again["fmri_spectral"] == (0, 2, 0) and again["fmri_extract"] == (0, 2, 0), again


def test_a_subject_that_failed_is_computed_and_reported_again_on_resume(reference, tmp_path):
    """A third subject whose brain mask leaves one atlas region empty (a NaN column) fails in
    connectivity; after another subject changes, --resume keeps the unchanged one, redoes the
    changed one, and computes the failed one again, so it is in /errors again."""
    import nibabel as nib
    root, _, _ = reference
    copy_of_run(root, tmp_path)
    fmri = tmp_path / "data/fmri"
    sub3 = fmri / "sub-03/func"
    sub3.mkdir(parents=True)
    for f in (fmri / "sub-01/func").iterdir():
        shutil.copy(f, sub3 / f.name.replace("sub-01", "sub-03"))
    atlas = nib.load(str(fmri / "atlas_labels.nii.gz"))
    labels = np.asarray(atlas.dataobj)
    mask = (labels != np.unique(labels[labels != 0])[0]).astype(np.uint8)
    nib.save(nib.Nifti1Image(mask, atlas.affine), str(sub3 / "mask.nii.gz"))
    lines = (fmri / "manifest.tsv").read_text().splitlines()
    rows = [lines[0] + "\tmask"] + [line + "\t" for line in lines[1:]]
    rows.append(lines[1].replace("sub-01", "sub-03") + "\tsub-03/func/mask.nii.gz")
    (fmri / "manifest.tsv").write_text("\n".join(rows) + "\n")
    r = subprocess.run([BINARY, "run", "pipeline.yaml", "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr
    assert summaries(r.stderr)["fmri_connectivity"][2] == 1, r.stderr
    tsv = fmri / "sub-01/func/sub-01_task-rest_desc-confounds_timeseries.tsv"
    rows = tsv.read_text().splitlines()
    rows[3] = "\t".join(c if c in ("n/a", "") else repr(float(c) * 1.01) for c in rows[3].split("\t"))
    tsv.write_text("\n".join(rows) + "\n")
    r = subprocess.run([BINARY, "run", "pipeline.yaml", "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr
    assert summaries(r.stderr)["fmri_connectivity"] == (1, 1, 1), r.stderr
    with h5py.File(tmp_path / "out/fmri.h5") as f:
        failed = [i for i, s in zip(f["errors/ids"].asstr()[()], f["errors/stage"].asstr()[()]) if s == "fmri_connectivity"]
    assert failed == ["sub-03"], failed
