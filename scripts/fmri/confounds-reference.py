"""Writes Tests/Fixtures/fmri/confounds/reference.json: the confound columns nilearn's
load_confounds selects on the real fMRIPrep confounds files nilearn ships (fMRIPrep 1.x with 126
aCompCor components, the same without non-steady-state volumes, fMRIPrep 21), for each strategy
and option the tests compare, and copies those files (TSV + JSON sidecar) beside it.

    python -m venv /tmp/nl && /tmp/nl/bin/pip install nilearn==0.14.1
    /tmp/nl/bin/python scripts/fmri/confounds-reference.py
"""
import itertools
import json
import pathlib
import shutil
import tempfile

import nilearn
from nilearn.interfaces.fmriprep import load_confounds

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/fmri/confounds"
DATA = pathlib.Path(nilearn.__file__).parent / "interfaces/fmriprep/data"
FILES = {  # fixture name -> nilearn's file stem
    "fmriprep1": "test_desc-confounds_regressors",
    "fmriprep1_no_nonsteady": "no_nonsteady_desc-confounds_regressors",
    "fmriprep21": "test-v21_desc-confounds_timeseries",
}


def cases():
    for compcor, n in itertools.product(
            ["anat_combined", "anat_separated", "temporal", "temporal_anat_combined", "temporal_anat_separated"], ["all", 1, 3]):
        yield {"strategy": ["high_pass", "compcor"], "compcor": compcor, "n_compcor": n}
    for level in ["basic", "power2", "derivatives", "full"]:
        yield {"strategy": ["motion", "wm_csf", "global_signal"], "motion": level, "wm_csf": level, "global_signal": level}
    yield {"strategy": ["high_pass", "motion", "wm_csf"]}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    reference = {"nilearn": nilearn.__version__, "files": {}}
    for name, stem in FILES.items():
        tsv, sidecar = DATA / f"{stem}.tsv", DATA / f"{stem}.json"
        shutil.copy(tsv, OUT / f"{name}.tsv")
        if sidecar.exists():
            shutil.copy(sidecar, OUT / f"{name}.json")
        with tempfile.TemporaryDirectory() as tmp:
            # load_confounds finds the confounds file from the BOLD file's name
            img = pathlib.Path(tmp) / "sub-01_task-rest_desc-preproc_bold.nii.gz"
            img.write_bytes(b"")
            suffix = "_timeseries" if stem.endswith("timeseries") else "_regressors"
            shutil.copy(tsv, pathlib.Path(tmp) / f"sub-01_task-rest_desc-confounds{suffix}.tsv")
            if sidecar.exists():
                shutil.copy(sidecar, pathlib.Path(tmp) / f"sub-01_task-rest_desc-confounds{suffix}.json")
            results = []
            for case in cases():
                try:
                    confounds, _ = load_confounds(str(img), **case)
                    results.append({"case": case, "columns": sorted(confounds.columns)})
                except Exception as error:  # a refusal is a result too
                    results.append({"case": case, "error": type(error).__name__})
            reference["files"][name] = results
    (OUT / "reference.json").write_text(json.dumps(reference, indent=1) + "\n")


if __name__ == "__main__":
    main()
