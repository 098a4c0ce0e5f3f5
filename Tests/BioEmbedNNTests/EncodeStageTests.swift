import BioEmbedCore
import BioEmbedHDF5
import BioEmbedNN
import BioEmbedPipeline
import Foundation
import Testing
import _BioEmbedTestSupport

/// The three encoder stages end to end through the executor, on small collections written here.
@Suite(.serialized)
struct EncodeStageTests {
    func run<S: CollectionStage>(_ stage: S, input: String, output: String) throws -> StageSummary {
        try StageExecutor.execute(AnyCollectionStage(stage), input: input, output: output, previous: nil, options: RunOptions(command: "test"))
    }

    func errorMessages(_ path: String) throws -> [String: String] {
        let file = try HDF5File.open(path)
        guard file.root.contains("errors") else { return [:] }
        let group = try file.root.group("errors")
        return Dictionary(uniqueKeysWithValues: zip(try group.dataset("ids").readStrings(), try group.dataset("message").readStrings()))
    }

    @Test func pstStageMatchesReferenceAndReportsLongChains() throws {
        let dir = TestSupport.temporaryDirectory("encode-pst")
        let reference = try HDF5File.open(TestSupport.fixture("encoders/pst/pst_reference.h5"))
        let proteins = try reference.root.group("proteins")
        let names = try proteins.children().map(\.name)
        var sequences: [String] = [], ca: [Float] = [], offsets: [Int64] = [0]
        for name in names {
            let g = try proteins.group(name)
            sequences.append(try g.stringAttribute("sequence"))
            ca += try FixtureCheck.floats(g, "ca_coords")
            offsets.append(offsets.last! + Int64(sequences.last!.count))
        }
        let input = dir + "/proteins.h5"
        let file = try HDF5File.create(input)
        let group = try file.root.createGroup("proteins")
        try group.writeStrings("ids", names)
        try group.writeStrings("sequence", sequences)
        try group.write("residue_offsets", offsets)
        try group.write("ca", ca, shape: [ca.count / 3, 3])
        try file.commit()
        file.close()

        // A config that allows one residue less than the longest chain: that chain fails, the others are encoded.
        var values = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("encoders/pst/config.json")))) as! [String: Any]
        let longest = sequences.indices.max { sequences[$0].count < sequences[$1].count }!
        let limit = sequences[longest].count - 1
        values["max_residues"] = limit
        let d = values["embed_dim"] as! Int
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: values).write(to: URL(fileURLWithPath: config))
        let output = dir + "/pst.h5"
        let summary = try run(
            PSTEncodeStage(.init(weights: TestSupport.fixture("encoders/pst/weights.safetensors"), config: config, batchTokens: 100)),
            input: input, output: output)
        #expect(summary.done == names.count - 1 && summary.failed == 1)
        #expect(try errorMessages(output)[names[longest]]?.contains("\(limit + 1) residues, the model allows at most \(limit)") == true)
        let out = try HDF5File.open(output)
        let emb = try out.root.group("embeddings/pst")
        let ids = try emb.dataset("ids").readStrings()
        #expect(ids == names.filter { $0 != names[longest] })
        let pooled = try FixtureCheck.floats(emb, "pooled")
        let perToken = try FixtureCheck.floats(emb, "per_token")
        let tokenOffsets = try emb.dataset("per_token_offsets").read(as: Int64.self)
        for (i, id) in ids.enumerated() {
            let g = try proteins.group(id)
            FixtureCheck.expectClose(Array(pooled[(i * d)..<((i + 1) * d)]), try FixtureCheck.floats(g, "protein_embedding"), atol: 5e-5, "\(id) pooled")
            FixtureCheck.expectClose(
                Array(perToken[(Int(tokenOffsets[i]) * d)..<(Int(tokenOffsets[i + 1]) * d)]), try FixtureCheck.floats(g, "residue_embeddings"),
                atol: 2e-4, "\(id) per-residue")
        }
        #expect(try emb.stringAttribute("model") == "pst")
        #expect(try emb.stringAttribute("weights_sha256").count == 64)
        let report = LayoutSchemas.validator.validate(out)
        #expect(report.isValid, "\(report.problems)")
    }

    @Test func molt5StageMatchesReferenceAndRejectsOutOfVocabulary() throws {
        let dir = TestSupport.temporaryDirectory("encode-molt5")
        let io = try HDF5File.open(TestSupport.fixture("encoders/molt5/encoder_io.h5"))
        let single = try io.root.group("single")
        let names = try single.children().map(\.name)
        var ids: [String] = [], tokens: [Int32] = [], fp: [Int32] = [], offsets: [Int64] = [0]
        for name in names {
            let g = try single.group(name)
            ids.append(name)
            tokens += try FixtureCheck.ints(g, "input_ids")
            fp += try FixtureCheck.ints(g, "molecule_fp_ids")
            offsets.append(Int64(tokens.count))
        }
        // A bad molecule: an id past the vocabulary.
        let config = try MolT5Config(try ModelConfigFile(path: TestSupport.fixture("encoders/molt5/config.json")))
        let bad = Int32(config.vocabSize + 7)
        ids.append("bad_token")
        tokens += [Int32(config.bomID), bad, Int32(config.eomID), 1]
        fp += [Int32](repeating: -1, count: 16)
        offsets.append(Int64(tokens.count))
        let input = dir + "/molecules.h5"
        let file = try HDF5File.create(input)
        let group = try file.root.createGroup("molecules")
        try group.writeStrings("ids", ids)
        try group.writeStrings("smiles", ids.map { _ in "C" })
        try group.writeStrings("selfies", ids.map { _ in "[C]" })
        try group.write("token_offsets", offsets)
        try group.write("input_ids", tokens)
        try group.write("fp_tokens", fp, shape: [tokens.count, 4])
        try group.write("e3fp_offsets", [Int64](repeating: 0, count: ids.count + 1))
        try group.write("e3fp_bits", [Int32]())
        try file.commit()
        file.close()
        let output = dir + "/out.h5"
        let summary = try run(
            MolT5EncodeStage(.init(
                weights: TestSupport.fixture("encoders/molt5/weights.safetensors"), config: TestSupport.fixture("encoders/molt5/config.json"),
                batchTokens: 64)),
            input: input, output: output)
        #expect(summary.done == names.count && summary.failed == 1)
        #expect(try errorMessages(output)["bad_token"]?.contains("token id \(bad) at position 1 is outside the vocabulary") == true)
        let out = try HDF5File.open(output)
        let emb = try out.root.group("embeddings/molt5")
        #expect(try emb.dataset("ids").readStrings() == names)
        let pooled = try FixtureCheck.floats(emb, "pooled")
        for (i, name) in names.enumerated() {
            let reference = try single.group(name).dataset("pooled_mean_selfies_f64").read(as: Double.self).map(Float.init)
            let d = config.dModel
            FixtureCheck.expectClose(Array(pooled[(i * d)..<((i + 1) * d)]), reference, atol: 1e-4, "\(name) pooled")
        }
        #expect(LayoutSchemas.validator.validate(out).isValid)
    }

    @Test func brainmaeStageMatchesReferenceAndRejectsShortSeries() throws {
        let dir = TestSupport.temporaryDirectory("encode-brainmae")
        let fixtures = try HDF5File.open(TestSupport.fixture("encoders/brainmae/sg/fixtures.h5"))
        let shape = try fixtures.root.dataset("input").shape
        let (b, n, t) = (shape[0], shape[1], shape[2])
        let raw = try FixtureCheck.floats(fixtures.root, "input")  // already z-scored; the stage's z-score leaves it unchanged
        let folder = TestSupport.fixture("encoders/brainmae/sg")
        let config = try BrainMAEConfig(try ModelConfigFile(path: folder + "/config.json"))
        let short = config.segmentLength - 1
        var series: [Double] = [], offsets: [Int64] = [0], ids: [String] = []
        for i in 0..<b {
            for f in 0..<t { for r in 0..<n { series.append(Double(raw[(i * n + r) * t + f])) } }
            offsets.append(offsets.last! + Int64(t))
            ids.append("sub-\(i)")
        }
        ids.append("short")  // fewer frames than one segment
        for f in 0..<short { for r in 0..<n { series.append(Double(raw[r * t + f])) } }
        offsets.append(offsets.last! + Int64(short))
        let input = dir + "/fmri.h5"
        let file = try HDF5File.create(input)
        let group = try file.root.createGroup("fmri")
        try group.writeStrings("ids", ids)
        try group.write("t_r", [Double](repeating: 2, count: ids.count))
        try group.write("region_ids", (1...n).map(Int64.init))
        try group.write("timeseries_offsets", offsets)
        try group.write("timeseries", series, shape: [series.count / n, n])
        try file.commit()
        file.close()
        let output = dir + "/out.h5"
        let summary = try run(
            BrainMAEEncodeStage(.init(weights: folder + "/model.safetensors", config: folder + "/config.json")), input: input, output: output)
        #expect(summary.done == b && summary.failed == 1)
        #expect(try errorMessages(output)["short"]?.contains("\(short) frames, fewer than one segment") == true)
        let out = try HDF5File.open(output)
        let emb = try out.root.group("embeddings/brainmae")
        FixtureCheck.expectClose(
            try FixtureCheck.floats(emb, "pooled"), try FixtureCheck.floats(fixtures.root, "embedding_cls"), atol: 1e-4, rtol: 1e-4, "brainmae pooled")
        let k = t / config.segmentLength
        #expect(try emb.dataset("per_token_offsets").read(as: Int64.self) == (0...b).map { Int64($0 * k) })
        // per_token = the segment tokens: compare with tokens[:, 1:].
        let tokens = try FixtureCheck.floats(fixtures.root, "tokens")
        let dm = config.encDim
        var segmentTokens: [Float] = []
        for i in 0..<b {
            let first = (i * (k + 1) + 1) * dm, end = (i + 1) * (k + 1) * dm
            segmentTokens += tokens[first..<end]
        }
        FixtureCheck.expectClose(try FixtureCheck.floats(emb, "per_token"), Array(segmentTokens), atol: 1e-4, rtol: 1e-4, "brainmae per_token")
        #expect(LayoutSchemas.validator.validate(out).isValid)
    }

    /// A series longer than max_segments segments is encoded as consecutive windows; `cls` pools
    /// their [CLS] embeddings, `mean` the segment tokens.
    @Test func brainmaeLongSeriesUsesWindows() throws {
        let dir = TestSupport.temporaryDirectory("encode-brainmae-long")
        let folder = TestSupport.fixture("encoders/brainmae/ag")
        let config = try BrainMAEConfig(try ModelConfigFile(path: folder + "/config.json"))
        let model = try BrainMAEModel(config: config, weights: try WeightStore(path: folder + "/model.safetensors"))
        let n = config.rois, tau = config.segmentLength
        let k = config.maxSegments + 2, frames = k * tau + 1
        var rng = TestSupport.SplitMix(seed: 11)
        let series = rng.doubles(frames * n)  // [T, R]
        let input = dir + "/fmri.h5"
        let file = try HDF5File.create(input)
        let group = try file.root.createGroup("fmri")
        try group.writeStrings("ids", ["long"])
        try group.write("t_r", [2.0])
        try group.write("region_ids", (1...n).map(Int64.init))
        try group.write("timeseries_offsets", [Int64(0), Int64(frames)])
        try group.write("timeseries", series, shape: [frames, n])
        try file.commit()
        file.close()

        var roiMajor = [Float](repeating: 0, count: n * frames)
        for t in 0..<frames { for r in 0..<n { roiMajor[r * frames + t] = Float(series[t * n + r]) } }
        let segments = model.segment(BrainMAEModel.zscore(roiMajor, rois: n, frames: frames), frames: frames)
        let first = model.encode(segments: Array(segments[0..<(config.maxSegments * n * tau)]), batch: 1, segmentCount: config.maxSegments)
        let second = model.encode(segments: Array(segments[(config.maxSegments * n * tau)...]), batch: 1, segmentCount: 2)
        let dm = config.encDim
        let expectedCLS = (0..<dm).map { (first.tokens[$0] + second.tokens[$0]) / 2 }
        let tokens = Array(first.tokens[dm...]) + Array(second.tokens[dm...])
        let expectedMean = (0..<dm).map { j in (0..<k).reduce(Float(0)) { $0 + tokens[$1 * dm + j] } / Float(k) }

        for (pooling, expected) in [("cls", expectedCLS), ("mean", expectedMean)] {
            let output = dir + "/out-\(pooling).h5"
            let summary = try run(
                BrainMAEEncodeStage(.init(weights: folder + "/model.safetensors", config: folder + "/config.json", pooling: pooling)),
                input: input, output: output)
            #expect(summary.done == 1 && summary.failed == 0)
            let emb = try HDF5File.open(output).root.group("embeddings/brainmae")
            FixtureCheck.expectClose(try FixtureCheck.floats(emb, "pooled"), expected, atol: 1e-5, rtol: 1e-5, "\(pooling) pooled")
            FixtureCheck.expectClose(try FixtureCheck.floats(emb, "per_token"), tokens, atol: 1e-5, rtol: 1e-5, "\(pooling) per_token")
            #expect(try emb.stringAttribute("pooling") == pooling)
        }
    }
}
