import BioEmbedCore
import BioEmbedHDF5
import BioEmbedMolecule
import BioEmbedNN
import BioEmbedNeuro
import BioEmbedPipeline
import BioEmbedStructure
import Foundation

/// One input through a reader, as `bioembed` would read a file: the first byte picks the format
/// (PDB, PDB.gz, mmCIF, SDF, SMILES table, tar, NIfTI, NIfTI.gz, GIFTI time series and labels,
/// CIFTI-2 time series and labels, confounds TSV, manifest, pipeline YAML, safetensors, model
/// config JSON, HDF5 as `inspect` and `validate` read it), the rest is the file. Errors are the expected outcome
/// for most inputs; a trap, a signal or a sanitizer report is a finding.
enum FuzzTarget {
    static let formats: [(suffix: String, reader: Reader)] = [
        (".pdb", .protein), (".pdb.gz", .protein), (".cif", .protein), (".sdf", .molecule), (".smi", .molecule), (".tar", .protein),
        (".nii", .neuro), (".nii.gz", .neuro), (".func.gii", .neuro), (".label.gii", .neuro), (".dtseries.nii", .neuro), (".dlabel.nii", .neuro),
        ("_confounds.tsv", .neuro), (".manifest.tsv", .text), (".yaml", .text), (".safetensors", .model), (".config.json", .model),
        (".h5", .hdf5),
    ]

    enum Reader { case protein, molecule, neuro, text, model, hdf5 }

    static let folder: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = PathText.joined(base, "bioembed-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// HDF5 inputs are read through `HDF5Probe` (a child process per file, as `bioembed` does), which
    /// is slow for fuzzing: on in replay, opt-in (BIOEMBED_FUZZ_HDF5) under libFuzzer.
    #if BIOEMBED_LIBFUZZER
    static let hdf5Enabled = ProcessInfo.processInfo.environment["BIOEMBED_FUZZ_HDF5"] != nil
    #else
    static let hdf5Enabled = true
    #endif

    static let protein = ProteinTokenizeStage(ProteinTokenizeStage.Configuration())
    static let molecule = MoleculeTokenizeStage(MoleculeTokenizeStage.Configuration())

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let selector = bytes.first else { return }
        let format = formats[Int(selector) % formats.count]
        let path = PathText.joined(folder, "input" + format.suffix)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes.dropFirst())) else { return }
        let item = ManifestItem(id: "input" + format.suffix, index: 0, line: 1, fields: ["path": path], baseDirectory: folder)
        let context = StageContext(threads: 1)
        switch format.reader {
        case .protein:
            for unit in protein.workUnits(for: item) { _ = try? protein.outputs(unit, context: context) }
        case .molecule:
            for unit in molecule.workUnits(for: item) { _ = try? molecule.outputs(unit, context: context) }
        case .neuro:
            readNeuro(path, suffix: format.suffix)
        case .text:
            if format.suffix == ".yaml" { _ = try? PipelineSpec.load(path) } else { _ = try? Manifest.load(path, requiredColumns: []) }
        case .model:
            readModel(path, suffix: format.suffix)
        case .hdf5:
            // What `inspect` and `validate` read. Debian's libhdf5 1.10.8 crashes inside its own
            // global-heap reader on corrupt variable-length strings (H5HG_read, found by this
            // target): HDF5File.open refuses such a file after its probe's child crashed.
            guard hdf5Enabled, let file = try? HDF5File.open(path) else { return }
            _ = try? HDF5Inspector.describe(file)
            _ = LayoutSchemas.validator.validate(file)
            file.close()
        }
    }

    /// A weights file tensor by tensor, or a config through each model's reader.
    static func readModel(_ path: String, suffix: String) {
        if suffix == ".safetensors" {
            guard let weights = try? SafeTensors(path: path) else { return }
            for name in weights.names { _ = try? weights.tensor(name) }
            return
        }
        guard let file = try? ModelConfigFile(path: path) else { return }
        _ = try? PSTConfig(file)
        _ = try? MolT5Config(file)
        _ = try? BrainMAEConfig(file)
    }

    /// Every volume, array or block of an fMRI input, as extraction reads it.
    static func readNeuro(_ path: String, suffix: String) {
        switch suffix {
        case ".func.gii":
            if let gifti = try? GIFTIFile(path) { for index in gifti.arrays.indices { _ = try? gifti.values(index) } }
        case ".label.gii":
            _ = try? SurfaceAtlas(path)
        case ".dtseries.nii":
            if let cifti = try? CIFTIFile(path) { try? cifti.forEachBlock { (_: Int, _: Int, _: UnsafeBufferPointer<Double>) throws(NeuroError) in } }
        case ".dlabel.nii":
            _ = try? CIFTIAtlas(path)
        case "_confounds.tsv":
            _ = try? ConfoundsTable.load(path)
        default:
            _ = try? NIfTIReader.readAll(path)
        }
    }
}

#if BIOEMBED_LIBFUZZER
/// libFuzzer's entry point (`make fuzz` builds with `-sanitize=fuzzer,address`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzTarget.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

typealias FuzzArguments = UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>

/// libFuzzer's driver (libclang_rt.fuzzer): runs the fuzzing loop with its command-line options.
@_silgen_name("LLVMFuzzerRunDriver")
func fuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: FuzzArguments, _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`: here it hands over to libFuzzer's driver.
@_cdecl("BioEmbedFuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    HDF5Probe.start((1..<Int(max(argc, 1))).map { argv?[$0].map { String(cString: $0) } ?? "" })
    var count = argc
    var arguments = argv
    return fuzzerRunDriver(&count, &arguments, fuzzOneInput)
}
#else
/// Without libFuzzer: replays corpus files (each starts with its format byte) through the target,
/// so a finding, once saved, stays a regression test.
@main
struct Replay {
    static func main() {
        HDF5Probe.start(Array(CommandLine.arguments.dropFirst()))
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("bioembed-fuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            data.withUnsafeBytes { FuzzTarget.run($0) }
            count += 1
        }
        print("bioembed-fuzz: \(count) inputs replayed, no crash")
    }
}
#endif
