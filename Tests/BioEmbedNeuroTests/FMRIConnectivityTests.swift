import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedNeuro

/// ConnectivityMeasure, sliding windows and bctpy graph measures against the reference file,
/// computed from its own cleaned time series (`/sub-XX/clean_timeseries`).
@Suite(.serialized)
struct FMRIConnectivityTests {
    let fixture: FMRIFixture
    let series: [Matrix<Double>]
    let subjects: [String]

    init() throws {
        let fixture = try FMRIFixture()
        let subjects = try fixture.reference.root.children().map(\.name).filter { $0.hasPrefix("sub-") }.sorted()
        var series: [Matrix<Double>] = []
        for s in subjects { series.append(try fixture.matrix("\(s)/clean_timeseries")) }
        self.fixture = fixture
        self.subjects = subjects
        self.series = series
    }

    func reference(_ name: String, subject k: Int) throws -> [Double] {
        let all = try fixture.array(name)
        let per = all.count / subjects.count
        return Array(all[(k * per)..<((k + 1) * per)])
    }

    @Test func ledoitWolfShrinkageMatchesSklearn() throws {
        let expected = try fixture.array("fc/ledoitwolf_shrinkage_correlation_input")
        for (k, x) in series.enumerated() {
            var z = x
            SignalCleaner.zscore(&z, centred: false)
            let s = Connectivity.covariance(z, estimator: .ledoitWolf).shrinkage
            #expect(abs(s - expected[k]) <= 1e-12, "\(subjects[k]): shrinkage \(s) vs \(expected[k])")
        }
    }

    @Test func everyKindMatchesConnectivityMeasure() throws {
        for kind in [ConnectivityKind.correlation, .partialCorrelation, .covariance, .precision] {
            for (k, x) in series.enumerated() {
                let ours = try Connectivity.measure(x, kind: kind, estimator: .ledoitWolf).storage
                let theirs = try reference("fc/\(kind.rawValue)", subject: k)
                let error = FMRIFixture.maxAbs(ours, theirs)
                let scale = kind == .precision || kind == .covariance ? max(1, theirs.map(abs).max()!) : 1
                #expect(error <= 1e-9 * scale, "\(kind.rawValue) \(subjects[k]): off by \(error)")
            }
        }
        for (k, x) in series.enumerated() {
            let ours = try Connectivity.measure(x, kind: .correlation, estimator: .empirical).storage
            #expect(FMRIFixture.maxAbs(ours, try reference("fc/correlation_empirical", subject: k)) <= 1e-9)
        }
    }

    @Test func tangentSpaceMatchesWithinTheIterationTolerance() throws {
        let covariances = series.map { Connectivity.covariance($0, estimator: .ledoitWolf).matrix }
        let t = try Connectivity.tangent(covariances)
        for k in series.indices {
            let error = FMRIFixture.maxAbs(t.matrices[k].storage, try reference("fc/tangent", subject: k))
            #expect(error <= 1e-7, "tangent \(subjects[k]): off by \(error)")
        }
        let mean = try fixture.array("fc/tangent_mean")
        #expect(FMRIFixture.maxAbs(t.mean.storage, mean) <= 1e-7 * max(1, mean.map(abs).max()!))
        let whitening = try fixture.array("fc/tangent_whitening")
        #expect(FMRIFixture.maxAbs(t.whitening.storage, whitening) <= 1e-7 * max(1, whitening.map(abs).max()!))
    }

    @Test func vectorizationFollowsSymMatrixToVec() throws {
        let n = series[0].columns
        for k in series.indices {
            let corr = Matrix(rows: n, columns: n, storage: try reference("fc/correlation", subject: k))
            #expect(FMRIFixture.maxAbs(Connectivity.vectorize(corr, discardDiagonal: true), try reference("fc/correlation_vectorized_nodiag", subject: k)) <= 1e-12)
            #expect(FMRIFixture.maxAbs(Connectivity.vectorize(corr, discardDiagonal: false), try reference("fc/correlation_vectorized_withdiag", subject: k)) <= 1e-12)
        }
    }

    @Test func slidingWindowsAndFisherZStd() throws {
        guard fixture.exists("dfc") else { return }
        let dfc = try fixture.reference.root.group("dfc")
        let window = Int(try dfc.attribute("window").intValue ?? 0), step = Int(try dfc.attribute("step").intValue ?? 0)
        let names = try dfc.children().map(\.name).filter { $0.hasSuffix("_window_correlation") }
        #expect(!names.isEmpty)
        for name in names {
            let subject = String(name.dropLast("_window_correlation".count))
            let x = try fixture.matrix("\(subject)/clean_timeseries")
            let windows = Connectivity.slidingWindowCorrelation(x, window: window, step: step)
            let expected = try fixture.array("dfc/\(name)")
            #expect(windows.count * x.columns * x.columns == expected.count)
            #expect(FMRIFixture.maxAbs(windows.flatMap { $0 }, expected) <= 1e-9)
            let z = Connectivity.fisherZStd(windows, regions: x.columns)
            #expect(FMRIFixture.maxAbs(z, try fixture.array("dfc/\(name)_fisherz_std_over_windows")) <= 1e-9)
        }
    }

    @Test func graphMeasuresMatchBctpy() throws {
        let graph = try fixture.reference.root.group("graph")
        let density = try graph.attribute("density").doubleValue ?? 0
        let partition: [Int64] = try fixture.reference.root.dataset("meta/network_of_column").read()
        let n = series[0].columns
        for (k, subject) in subjects.enumerated() where graph.contains(subject) {
            let w = try reference("fc/correlation", subject: k)
            let t = GraphMeasures.thresholdProportional(w, n: n, density: density)
            #expect(FMRIFixture.maxAbs(t, try fixture.array("graph/\(subject)/weights_thresholded")) == 0)
            let a = GraphMeasures.adjacency(t)
            #expect(a.map(Double.init) == (try fixture.array("graph/\(subject)/adjacency")))
            #expect(GraphMeasures.degree(a, n: n).map(Double.init) == (try fixture.array("graph/\(subject)/degree")))
            #expect(GraphMeasures.triangles(a, n: n).map(Double.init) == (try fixture.array("graph/\(subject)/triangles")))
            #expect(FMRIFixture.maxAbs(GraphMeasures.clustering(a, n: n), try fixture.array("graph/\(subject)/clustering_binary")) <= 1e-12)
            #expect(FMRIFixture.maxAbs(GraphMeasures.strength(t, n: n), try fixture.array("graph/\(subject)/strength")) <= 1e-12)
            let edges = a.reduce(0) { $0 + Int($1) } / 2
            #expect(edges == Int(try graph.group(subject).attribute("n_edges").intValue ?? -1))
            let q = GraphMeasures.modularity(a, n: n, partition: partition)
            #expect(abs(q - (try graph.group(subject).attribute("modularity_Q_truth_partition").doubleValue ?? .nan)) <= 1e-12)
        }
    }

    /// The collection stages end to end on an `/fmri` file holding the reference cleaned series.
    @Test func connectivityAndGraphStagesWriteTheContractLayout() throws {
        let folder = TestSupport.temporaryDirectory("fmri-stages")
        let path = folder + "/fc.h5"
        let file = try HDF5File.create(path)
        let group = try file.root.createGroup("fmri")
        _ = try group.writeStrings("ids", subjects)
        let n = series[0].columns
        _ = try group.write("timeseries", series.flatMap(\.storage), shape: [series.reduce(0) { $0 + $1.rows }, n])
        var offsets: [Int64] = [0]
        for s in series { offsets.append(offsets.last! + Int64(s.rows)) }
        _ = try group.write("timeseries_offsets", offsets, shape: [offsets.count])
        _ = try group.write("t_r", [Double](repeating: 2, count: subjects.count), shape: [subjects.count])
        try file.commit()
        let input = try HDF5File.open(path)
        let output = try HDF5File.create(folder + "/out.h5")
        let errors = ErrorLog(file: output)
        let stage = FMRIConnectivityStage(.init(kind: ["correlation,partial-correlation,tangent"], window: 30, step: 5))
        let result = try stage.run(input: input, output: output, errors: errors, context: CollectionStageContext())
        #expect(result.done == subjects.count && result.failed == 0)
        let corr: [Double] = try output.root.dataset("fmri/connectivity/correlation").read()
        #expect(FMRIFixture.maxAbs(corr, try fixture.array("fc/correlation")) <= 1e-9)
        let pc: [Double] = try output.root.dataset("fmri/connectivity/partial_correlation").read()
        #expect(FMRIFixture.maxAbs(pc, try fixture.array("fc/partial_correlation")) <= 1e-9)
        let tangent: [Double] = try output.root.dataset("fmri/connectivity/tangent").read()
        #expect(FMRIFixture.maxAbs(tangent, try fixture.array("fc/tangent")) <= 1e-7)
        #expect(try output.root.dataset("fmri/dynamic/correlation_offsets").read(as: Int64.self).last == Int64(35 * subjects.count))
        let graphStage = FMRIGraphStage(.init(density: 0.1))
        _ = try graphStage.run(input: output, output: output, errors: errors, context: CollectionStageContext())
        let degree: [Int64] = try output.root.dataset("fmri/graph/correlation/degree").read()
        #expect(degree.count == subjects.count * n)
        if let first = subjects.first, fixture.exists("graph/\(first)/degree") {
            #expect(Array(degree.prefix(n)).map(Double.init) == (try fixture.array("graph/\(first)/degree")))
        }
        try output.commit()
    }
}
