# BioEmbed: `make demo` and `make test` are the two commands of the README.
# Both install missing Debian packages (apt), build in release mode and need nothing by hand.

SWIFT      ?= swift
# One set of flags for every build, so `make demo`, `make test` and `make bench` share one build folder.
SWIFT_BUILD = -c release -Xswiftc -enable-testing
BIN         = .build/release/bioembed
VENV       ?= .venv
PY          = $(VENV)/bin/python
# RDKit's Python at the linked release (2022.9.3, numpy 1.x) for the SMILES conformer parity test.
VENV_RDKIT ?= .venv-rdkit2022
ARTIFACTS  ?= .build/test-artifacts

.PHONY: all deps build demo test venv swift-tests python-tests bench schemas clean sanitize tsan fuzz

all: build

deps:
	@scripts/install-deps.sh build

# bioembed and the child program its HDF5 probe runs (found next to it; see HDF5Probe)
build: deps
	$(SWIFT) build $(SWIFT_BUILD) --product bioembed
	$(SWIFT) build $(SWIFT_BUILD) --product bioembed-hdf5-probe

demo: build
	$(BIN) run pipelines/demo.yaml --resume
	$(BIN) export notebook out/demo --output out/demo/report.ipynb
	@echo
	@echo "Demo outputs in out/demo/:"
	@for f in out/demo/*.h5; do $(BIN) validate "$$f"; done
	@echo "notebook: out/demo/report.ipynb (run it with: .venv/bin/jupyter execute --output=report_run out/demo/report.ipynb)"

venv: $(VENV)/.installed $(VENV_RDKIT)/.installed

$(VENV_RDKIT)/.installed: scripts/requirements-rdkit2022.txt
	python3 -m venv $(VENV_RDKIT)
	$(VENV_RDKIT)/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements-rdkit2022.txt
	touch $@

$(VENV)/.installed: scripts/requirements-test.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
	touch $@

test: venv
	@scripts/install-deps.sh test
	$(SWIFT) build $(SWIFT_BUILD) --build-tests
	rm -rf $(ARTIFACTS) && mkdir -p $(ARTIFACTS)
	BIOEMBED_TEST_ARTIFACTS=$(abspath $(ARTIFACTS)) $(SWIFT) test $(SWIFT_BUILD) --skip-build
	BIOEMBED_TEST_ARTIFACTS=$(abspath $(ARTIFACTS)) BIOEMBED_BIN=$(abspath $(BIN)) BIOEMBED_RDKIT2022_PY=$(abspath $(VENV_RDKIT))/bin/python \
		$(PY) -m pytest -q -p no:cacheprovider Tests/python

# AddressSanitizer: the Swift tests, then the end-to-end tests of the input readers against a
# binary built with -sanitize=address (own build folder). test_hostile.py is left out: it runs
# under `ulimit -v`, where ASan cannot reserve its shadow memory.
ASAN_BUILD = .build/asan
sanitize: venv
	@scripts/install-deps.sh test
	$(SWIFT) build $(SWIFT_BUILD) -Xswiftc -sanitize=address --scratch-path $(ASAN_BUILD) --build-tests
	rm -rf $(ARTIFACTS) && mkdir -p $(ARTIFACTS)
	ASAN_OPTIONS=detect_leaks=0 BIOEMBED_TEST_ARTIFACTS=$(abspath $(ARTIFACTS)) \
		$(SWIFT) test $(SWIFT_BUILD) -Xswiftc -sanitize=address --scratch-path $(ASAN_BUILD) --skip-build
	ASAN_OPTIONS=detect_leaks=0 BIOEMBED_TEST_ARTIFACTS=$(abspath $(ARTIFACTS)) BIOEMBED_BIN=$(abspath $(ASAN_BUILD))/release/bioembed \
		BIOEMBED_RDKIT2022_PY=$(abspath $(VENV_RDKIT))/bin/python $(PY) -m pytest -q -p no:cacheprovider \
		Tests/python/test_proteins.py Tests/python/test_tar_archives.py Tests/python/test_predicted_structures.py \
		Tests/python/test_molecules.py Tests/python/test_molecules_outside.py Tests/python/test_fmri.py \
		Tests/python/test_fmri_surface.py Tests/python/test_fmri_bids.py Tests/python/test_fmri_nilearn_confounds.py \
		Tests/python/test_fmri_factorize.py Tests/python/test_fuzz_replay.py

# ThreadSanitizer: the Swift tests and the end-to-end tests of the parallel paths (--jobs, side-by-side
# encoders, connectivity, factorization, pipelines, resume) against a binary built with
# -sanitize=thread (own build folder). A report stops the process with exit code 66, failing its test.
TSAN_BUILD = .build/tsan
tsan: venv
	@scripts/install-deps.sh test
	$(SWIFT) build $(SWIFT_BUILD) -Xswiftc -sanitize=thread --scratch-path $(TSAN_BUILD) --build-tests
	rm -rf $(ARTIFACTS) && mkdir -p $(ARTIFACTS)
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" BIOEMBED_TEST_ARTIFACTS=$(abspath $(ARTIFACTS)) \
		$(SWIFT) test $(SWIFT_BUILD) -Xswiftc -sanitize=thread --scratch-path $(TSAN_BUILD) --skip-build
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" BIOEMBED_TEST_ARTIFACTS=$(abspath $(ARTIFACTS)) BIOEMBED_BIN=$(abspath $(TSAN_BUILD))/release/bioembed \
		BIOEMBED_RDKIT2022_PY=$(abspath $(VENV_RDKIT))/bin/python $(PY) -m pytest -q -p no:cacheprovider \
		Tests/python/test_proteins.py Tests/python/test_tar_archives.py Tests/python/test_molecules.py Tests/python/test_fmri.py \
		Tests/python/test_encode.py Tests/python/test_precision.py Tests/python/test_fmri_factorize.py Tests/python/test_resume.py \
		Tests/python/test_pipeline.py

# Fuzzing (libFuzzer + AddressSanitizer, own build folder): the structure, molecule and fMRI readers
# (PDB, PDB.gz, mmCIF, SDF, SMILES tables, tar archives, NIfTI, GIFTI, CIFTI-2) from a seed corpus of
# the fixtures and small nibabel-written surface files, for
# FUZZ_SECONDS; a finding is saved under out/fuzz/findings/ and replays with
# `.build/release/BioEmbedFuzz FILE`. Leak reports are off: RDKit 2022.09's molfile parser leaks
# query objects on some malformed blocks (not BioEmbed's to free).
FUZZ_BUILD = .build/fuzz
FUZZ_SECONDS ?= 300
FUZZ_MAX_LEN ?= 16384
fuzz: venv
	@scripts/install-deps.sh build
	$(SWIFT) build -c release --product BioEmbedFuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DBIOEMBED_LIBFUZZER --scratch-path $(FUZZ_BUILD)
	$(PY) scripts/fuzz-corpus.py out/fuzz/corpus
	mkdir -p out/fuzz/findings
	ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BUILD)/release/BioEmbedFuzz out/fuzz/corpus -max_total_time=$(FUZZ_SECONDS) \
		-rss_limit_mb=4096 -max_len=$(FUZZ_MAX_LEN) -artifact_prefix=out/fuzz/findings/

# Side-by-side benchmarks against numpy/h5py (writes Benchmarks/results/latest.md).
bench: build venv
	$(SWIFT) build $(SWIFT_BUILD) --product BioEmbedBenchmarks
	scripts/bench.sh

schemas:
	python3 scripts/embed-schemas.py

clean:
	rm -rf .build out $(VENV) $(VENV_RDKIT)
