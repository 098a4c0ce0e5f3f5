import BioEmbedCore
import BioEmbedHDF5
import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedPipeline

struct PipelineSpecTests {
    let valid = """
        name: t
        manifest: data/m.tsv
        stages:
          - stage: checksum
            with:
              block_size: 10
        """

    @Test func parsesAndResolvesPathsAgainstThePipelineFile() throws {
        let spec = try PipelineSpec.parse(valid, file: "study/pipelines/p.yaml")
        #expect(spec.manifest == "study/pipelines/data/m.tsv")
        #expect(spec.outputDirectory == "study/pipelines/out/t")
        #expect(spec.stages.map(\.stage) == ["checksum"])
        #expect(spec.stages[0].output == "")  // default: <stage>.h5, chosen by the runner
        guard case let .items(stage) = try StageRegistry.make(spec.stages[0], file: spec.file) else {
            Issue.record("checksum should be an item stage")
            return
        }
        #expect(stage.parametersJSON == #"{"block_size":10,"decompress":true}"#)
        #expect(stage.collection == "files")
    }

    @Test func unknownKeysNameTheKeyAndLine() throws {
        #expect(throws: PipelineError.unknownKey(file: "p.yaml", line: 2, key: "manfest", allowed: PipelineSpec.topLevelKeys)) {
            try PipelineSpec.parse("name: t\nmanfest: x\nstages: []\n", file: "p.yaml")
        }
        #expect(throws: PipelineError.unknownKey(file: "p.yaml", line: 5, key: "ouput", allowed: PipelineSpec.stageKeys)) {
            try PipelineSpec.parse("name: t\nmanifest: m.tsv\nstages:\n  - stage: checksum\n    ouput: x.h5\n", file: "p.yaml")
        }
        let spec = try PipelineSpec.parse(valid + "\n      colour: red\n", file: "p.yaml")
        #expect(throws: PipelineError.unknownKey(file: "p.yaml", line: 7, key: "colour", allowed: ["block_size", "decompress"])) {
            try StageRegistry.make(spec.stages[0], file: "p.yaml")
        }
    }

    @Test func badValuesAndStagesAreConfigurationErrors() throws {
        let wrongType = try PipelineSpec.parse(valid.replacingOccurrences(of: "block_size: 10", with: "block_size: big"), file: "p.yaml")
        #expect(throws: PipelineError.self) { try StageRegistry.make(wrongType.stages[0], file: "p.yaml") }
        let negative = try PipelineSpec.parse(valid.replacingOccurrences(of: "block_size: 10", with: "block_size: -1"), file: "p.yaml")
        #expect(throws: PipelineError.self) { try StageRegistry.make(negative.stages[0], file: "p.yaml") }
        let unknown = try PipelineSpec.parse(valid.replacingOccurrences(of: "stage: checksum", with: "stage: chekcsum"), file: "p.yaml")
        #expect(throws: PipelineError.unknownStage(file: "p.yaml", line: 4, stage: "chekcsum", known: StageRegistry.stages.map(\.name).sorted())) {
            try StageRegistry.make(unknown.stages[0], file: "p.yaml")
        }
        #expect(throws: PipelineError.self) { try PipelineSpec.parse("manifest: m.tsv\n", file: "p.yaml") }
        #expect(throws: PipelineError.self) { try PipelineSpec.parse("manifest: [unclosed\n", file: "p.yaml") }
        #expect(throws: PipelineError.invalidShard(given: "4/4")) { try Shard(parsing: "4/4") }
        #expect(try Shard(parsing: "1/4").contains(5))
    }

    /// Every pipeline file in pipelines/ decodes and builds its stages.
    @Test func shippedPipelinesAreValid() throws {
        let folder = TestSupport.repositoryRoot + "/pipelines"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        for name in files {
            let spec = try PipelineSpec.load(folder + "/" + name)
            for entry in spec.stages { _ = try StageRegistry.make(entry, file: spec.file) }
            #expect(FileManager.default.fileExists(atPath: spec.manifest), "\(name): manifest \(spec.manifest)")
        }
    }
}

struct LayoutSchemaTests {
    /// The schemas compiled into the binary equal data-schemas/*.json (run `make schemas` after editing).
    @Test func embeddedSchemasMatchDataSchemas() throws {
        let folder = TestSupport.repositoryRoot + "/data-schemas"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files == LayoutSchemas.sources.keys.sorted())
        for name in files {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            #expect(text.trimmingCharacters(in: .newlines) == LayoutSchemas.sources[name]?.trimmingCharacters(in: .newlines), "\(name) differs: run make schemas")
        }
        #expect(LayoutSchemas.all.count == files.count)  // every schema decodes
    }

    /// The `schema` written for a collection (`BioEmbedVersion.schema(of:)`, which every stage's
    /// output schema is) is the one its schema file declares.
    @Test func stagesWriteTheSchemaTheirCollectionDeclares() {
        for schema in LayoutSchemas.all {
            let collection = String(schema.group.split(separator: "/").first ?? "")
            #expect(BioEmbedVersion.schema(of: collection) == schema.schema, "\(collection)")
        }
    }

    /// The notebook templates compiled into the binary equal notebooks-export/templates/*.py.
    @Test func embeddedTemplatesMatchFiles() throws {
        let folder = TestSupport.repositoryRoot + "/notebooks-export/templates"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".py") }.sorted()
        #expect(files == NotebookExport.templateSources.keys.sorted())
        for name in files {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            #expect(text.trimmingCharacters(in: .newlines) == NotebookExport.templateSources[name]?.trimmingCharacters(in: .newlines), "\(name) differs: run make schemas")
        }
    }

    /// The validator catches what a broken writer would produce.
    @Test func validatorReportsLayoutProblems() throws {
        let folder = TestSupport.temporaryDirectory("schema")
        let path = folder + "/bad.h5"
        let file = try HDF5File.create(path)
        try file.writeRootAttributes(schema: "bioembed/proteins/1", command: "test")
        let group = try file.root.createGroup("proteins")
        try group.writeStrings("ids", ["a", "a"])
        try group.writeStrings("file", ["x", "x"])
        try group.writeStrings("chain", ["A", "B"])
        try group.writeStrings("sequence", ["MK", "G"])
        try group.writeStrings("tokens_3di", ["DD", "D"])
        try group.writeStrings("dssp", ["--", "-"])
        try group.writeStrings("plddt_source", ["none", "none"])
        try group.write("plddt", [Float](repeating: .nan, count: 3), shape: [3])
        try group.write("residue_offsets", [Int64(0), 2, 1])
        try group.write("ca", [Float](repeating: 0, count: 9), shape: [3, 3])
        try group.write("residue_number", [Int64(1), 2, 1])  // wrong dtype
        try group.writeStrings("insertion_code", ["", "", ""])
        try file.commit()
        let report = LayoutSchemas.validator.validate(try HDF5File.open(path))
        #expect(!report.isValid)
        let text = report.problems.joined(separator: "\n")
        #expect(text.contains("/proteins/ids: expected unique values"))
        #expect(text.contains("/proteins/residue_offsets: expected non-decreasing offsets"))
        #expect(text.contains("/proteins/residue_number: expected dtype int32, found int64"))
        #expect(text.contains("/proteins/ca: axis 0: expected 1 rows (the last value of residue_offsets), found 3"))
    }
}


/// A collection stage for the tests: sums each file's byte histogram into `/files/total_bytes`.
struct TotalBytesStage: CollectionStage {
    struct Configuration: StageConfiguration {
        var scale: Int64 = 1
        static var parameters: [StageParameter] { [StageParameter("scale", .number, help: "A factor.")] }
    }
    static let name = "total_bytes"
    static let startupNeeds: StartupNeeds = []
    static let version = 1
    static let summary = "test stage"
    static let inputCollection = "files"
    static let outputSchema = "bioembed/files/1"
    let configuration: Configuration
    init(_ configuration: Configuration) { self.configuration = configuration }

    func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        let reader = try CollectionReader(input.root.group(Self.inputCollection))
        let histograms: [Int64] = try input.root.dataset("files/byte_histogram").read()
        var totals: [Int64] = []
        for k in 0..<reader.count {
            totals.append(histograms[(k * 256)..<((k + 1) * 256)].reduce(0, +) * configuration.scale)
        }
        let group = try output.root.group("files")
        if group.contains("total_bytes") { try group.remove("total_bytes") }
        try group.write("total_bytes", totals)
        try errors.append(id: "none", stage: Self.name, category: .badInput, message: "a recorded failure")
        return CollectionStageResult(done: reader.count, failed: 1)
    }
}

struct CollectionStageTests {
    /// `--input` and `--output` naming the same file: the stage adds its group and keeps the rest.
    @Test func collectionStageAddsGroupsToItsInputFile() throws {
        let folder = TestSupport.temporaryDirectory("collection")
        try "abc".write(toFile: folder + "/a.txt", atomically: true, encoding: .utf8)
        try "hello!".write(toFile: folder + "/b.txt", atomically: true, encoding: .utf8)
        let items = try InputDiscovery.items([folder + "/a.txt", folder + "/b.txt"])
        let path = folder + "/files.h5"
        _ = try StageExecutor.execute(AnyStage(FileChecksumStage(.init())), items: items, output: path, options: RunOptions(progress: .off))
        let summary = try StageExecutor.execute(
            AnyCollectionStage(TotalBytesStage(.init(scale: 2))), input: path, output: path, previous: nil, options: RunOptions(progress: .off))
        #expect(summary.done == 2 && summary.failed == 1)
        let file = try HDF5File.open(path)
        #expect(try file.root.dataset("files/total_bytes").read(as: Int64.self) == [6, 12])
        #expect(try file.root.dataset("files/sha256").readStrings().count == 2)
        #expect(try file.root.dataset("errors/message").readStrings() == ["a recorded failure"])
        #expect(file.root.contains("provenance/checksum") && file.root.contains("provenance/total_bytes"))
        #expect(LayoutSchemas.validator.validate(file).isValid)
    }
}
