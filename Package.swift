// swift-tools-version: 6.1
// BioEmbed: a staged scientific data-processing pipeline (fMRI, proteins, molecules → HDF5 embeddings).
import PackageDescription

// RDKit 2022.09 (Debian's librdkit-dev) ships no pkg-config file; these libraries cover molblock
// parsing, SMILES writing, atom renumbering and ETKDG/MMFF conformers (the rest arrive through DT_NEEDED).
let rdkitLibraries = ["RDKitFileParsers", "RDKitSmilesParse", "RDKitGraphMol", "RDKitRDGeneral", "RDKitDistGeomHelpers",
                      "RDKitForceFieldHelpers", "RDKitForceField"]

let package = Package(
    name: "BioEmbed",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bioembed", targets: ["BioEmbedCLI"]),
        .executable(name: "bioembed-hdf5-probe", targets: ["BioEmbedHDF5Probe"]),
        .library(name: "BioEmbed", targets: ["BioEmbedCore", "BioEmbedHDF5", "BioEmbedLinalg", "BioEmbedPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // MARK: - Public API

        /// Shared vocabulary: errors, diagnostics, progress, the Stage protocol, manifests, SHA-256.
        .target(name: "BioEmbedCore"),
        /// BLAS/LAPACKE/FFTW and oneDNN wrappers: the only module that imports CBLAS, CFFTW3 and CDNNL.
        .target(name: "BioEmbedLinalg", dependencies: ["BioEmbedCore", "CBLAS", "CFFTW3", "CDNNL"]),
        /// HDF5 store, ragged collections, NetCDF-4 writing and gzip streams: the only module importing
        /// CHDF5, CNetCDF and CZlib.
        .target(name: "BioEmbedHDF5", dependencies: ["BioEmbedCore", "CHDF5", "CNetCDF", "CZlib", "CCrypto", "CISAL"]),
        /// fMRI stage family (NIfTI, cleaning, connectivity, graph metrics).
        .target(name: "BioEmbedNeuro", dependencies: ["BioEmbedCore", "BioEmbedLinalg", "BioEmbedHDF5", "CKernels"]),
        /// Structure stage family (PDB/mmCIF, residue graphs, 3Di).
        .target(name: "BioEmbedStructure", dependencies: ["BioEmbedCore", "BioEmbedLinalg", "BioEmbedHDF5"]),
        /// Molecule stage family (RDKit through CRDKitShim, SELFIES, E3FP).
        .target(name: "BioEmbedMolecule", dependencies: ["BioEmbedCore", "BioEmbedHDF5", "CRDKitShim"]),
        /// Neural-network runtime and encoders (PST, 3D-MolT5, BrainMAE).
        .target(name: "BioEmbedNN", dependencies: ["BioEmbedCore", "BioEmbedLinalg", "BioEmbedHDF5", "CKernels"]),
        /// Pipeline files, manifests, the stage registry and the local runner.
        .target(
            name: "BioEmbedPipeline",
            dependencies: [
                "BioEmbedCore", "BioEmbedHDF5", "BioEmbedLinalg", "BioEmbedNeuro", "BioEmbedStructure",
                "BioEmbedMolecule", "BioEmbedNN",
                .product(name: "Yams", package: "Yams"),
            ]),
        /// The child process of `HDF5Probe` (HDF5 only, so it starts fast).
        .executableTarget(name: "BioEmbedHDF5Probe", dependencies: ["BioEmbedHDF5"]),
        /// The `bioembed` command-line tool: one file per subcommand, no algorithms.
        .executableTarget(
            name: "BioEmbedCLI",
            dependencies: [
                "BioEmbedPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: - Implementation details (system libraries and the RDKit shim)

        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CFFTW3", pkgConfig: "fftw3", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CNetCDF", pkgConfig: "netcdf", providers: [.apt(["libnetcdf-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        /// Intel ISA-L's igzip: the fast gzip inflater behind CompressedFileReader (.nii.gz ingest).
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        /// oneDNN's bfloat16 matmul (Debian's libdnnl-dev), wrapped once: primitive cache and conversions.
        .target(name: "CDNNL", cSettings: [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("dnnl")]),
        /// Element-wise float32 kernels built per SIMD width and picked at load time (GELU and its gradient).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "CRDKitShim",
            cxxSettings: [
                .headerSearchPath("compat"),
                .unsafeFlags(["-I/usr/include/rdkit", "-Wno-deprecated-literal-operator"]),
            ],
            linkerSettings: rdkitLibraries.map { .linkedLibrary($0) }),
        /// Fuzzing harness (`make fuzz`): libFuzzer entry with -D BIOEMBED_LIBFUZZER, else a corpus replayer.
        .executableTarget(
            name: "BioEmbedFuzz",
            dependencies: ["BioEmbedCore", "BioEmbedHDF5", "BioEmbedMolecule", "BioEmbedNN", "BioEmbedNeuro", "BioEmbedPipeline", "BioEmbedStructure"],
            path: "Fuzz/BioEmbedFuzz"),
        .executableTarget(
            name: "BioEmbedBenchmarks",
            dependencies: ["BioEmbedCore", "BioEmbedLinalg", "BioEmbedHDF5", "BioEmbedMolecule", "BioEmbedNeuro", "BioEmbedStructure"],
            path: "Benchmarks/BioEmbedBenchmarks"),

        // MARK: - Unit test bundles

        .target(name: "_BioEmbedTestSupport", dependencies: ["BioEmbedCore"]),
        .testTarget(name: "BioEmbedCoreTests", dependencies: ["BioEmbedCore", "_BioEmbedTestSupport"]),
        .testTarget(name: "BioEmbedLinalgTests", dependencies: ["BioEmbedLinalg", "_BioEmbedTestSupport"]),
        .testTarget(name: "BioEmbedHDF5Tests", dependencies: ["BioEmbedHDF5", "_BioEmbedTestSupport"]),
        .testTarget(
            name: "BioEmbedNeuroTests",
            dependencies: ["BioEmbedNeuro", "BioEmbedCore", "BioEmbedHDF5", "BioEmbedLinalg", "_BioEmbedTestSupport"]),
        .testTarget(name: "BioEmbedMoleculeTests", dependencies: ["BioEmbedMolecule", "_BioEmbedTestSupport"]),
        .testTarget(
            name: "BioEmbedNNTests",
            dependencies: ["BioEmbedNN", "BioEmbedHDF5", "BioEmbedPipeline", "_BioEmbedTestSupport"]),
        .testTarget(
            name: "BioEmbedStructureTests",
            dependencies: ["BioEmbedStructure", "BioEmbedPipeline", "BioEmbedHDF5", "_BioEmbedTestSupport"]),
        .testTarget(
            name: "BioEmbedPipelineTests",
            dependencies: ["BioEmbedPipeline", "BioEmbedHDF5", "_BioEmbedTestSupport"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
