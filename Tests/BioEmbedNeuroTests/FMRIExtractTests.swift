import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedNeuro

/// NIfTI ingest, extraction, confound selection and `signal.clean` against nilearn 0.14.1.
@Suite(.serialized)
struct FMRIExtractTests {
    let fixture: FMRIFixture
    init() throws { fixture = try FMRIFixture() }

    func cleanParameters(highPass: Bool = true, lowPass: Bool = true) throws -> (CleanParameters, Double) {
        let p = try fixture.json("meta", attribute: "clean_params")
        let tR = p["t_r"] as? Double ?? 0
        var c = CleanParameters()
        c.detrend = p["detrend"] as? Bool ?? true
        c.highPass = highPass ? p["high_pass"] as? Double : nil
        c.lowPass = lowPass ? p["low_pass"] as? Double : nil
        return (c, tR)
    }

    func confoundModel() throws -> ConfoundModel {
        let config = try fixture.json("meta", attribute: "config")
        let m = config["confound_model"] as? [String: Any] ?? [:]
        var model = ConfoundModel()
        model.strategy = m["strategy"] as? [String] ?? model.strategy
        model.motion = m["motion"] as? String ?? model.motion
        model.wmCSF = m["wm_csf"] as? String ?? model.wmCSF
        model.globalSignal = m["global_signal"] as? String ?? model.globalSignal
        return model
    }

    func bold(_ subject: String) throws -> String {
        fixture.path(try fixture.reference.root.group(subject).stringAttribute("bold"))
    }

    func confoundsPath(_ subject: String) throws -> String {
        fixture.path(try fixture.reference.root.group(subject).stringAttribute("confounds"))
    }

    @Test func headerMatchesWhatNibabelReports() throws {
        for subject in try fixture.subjects() {
            let header = try NIfTIReader.header(of: try bold(subject))
            let group = try fixture.reference.root.group(subject)
            #expect(header.version == Int(try group.attribute("nifti_version").intValue ?? -1))
            #expect(header.sformCode == Int(try group.attribute("sform_code").intValue ?? -1))
            #expect(header.qformCode == Int(try group.attribute("qform_code").intValue ?? -1))
            #expect(header.storage?.description == (try group.stringAttribute("dtype")))
            let (_, tR) = try cleanParameters()
            #expect(abs((header.repetitionTime ?? 0) - tR) < 1e-9)
            #expect(header.volumeCount == (try fixture.matrix("\(subject)/raw_timeseries")).rows)
        }
    }

    @Test func rawTimeSeriesMatchNiftiLabelsMasker() throws {
        let atlas = try LabelAtlas(fixture.path("atlas_labels.nii.gz"))
        for subject in try fixture.subjects() {
            let (signals, _) = try RegionExtractor.labels(bold: try bold(subject), atlas: atlas)
            let expected = try fixture.matrix("\(subject)/raw_timeseries")
            let ids: [Int64] = try fixture.reference.root.dataset("\(subject)/region_ids").read(as: Int64.self)
            #expect(atlas.regionIDs == ids)
            let error = FMRIFixture.errorRelativeToColumnStd(signals, expected)
            #expect(error <= 1e-9, "\(subject): raw time series off by \(error) column std")
        }
    }

    @Test func confoundsAreSelectedAsLoadConfounds() throws {
        let model = try confoundModel()
        for subject in try fixture.subjects() {
            let table = try ConfoundsTable.load(try confoundsPath(subject))
            let expected = try fixture.matrix("\(subject)/confounds")
            let (values, names, _) = try model.matrix(from: table, volumes: expected.rows)
            let columnsText = try fixture.reference.root.dataset("\(subject)/confounds").stringAttribute("columns")
            let expectedNames = try JSONSerialization.jsonObject(with: Data(columnsText.utf8)) as? [String] ?? []
            #expect(names == expectedNames)
            let error = FMRIFixture.maxAbs(values, expected.storage) / max(1, expected.storage.map(abs).max() ?? 1)
            #expect(error <= 1e-12, "\(subject): confounds off by \(error)")
        }
    }

    @Test func butterworthDesignMatchesScipy() throws {
        let (p, tR) = try cleanParameters()
        let filter = Butterworth.nilearn(order: p.order, highPass: p.highPass, lowPass: p.lowPass, tR: tR)
        let sos = try fixture.matrix("meta/butter_sos")
        #expect(FMRIFixture.maxAbs(filter.sos.flatMap { $0 }, sos.storage) <= 1e-12 * max(1, sos.storage.map(abs).max()!))
        let zi = try fixture.matrix("meta/butter_sosfilt_zi")
        #expect(FMRIFixture.maxAbs(filter.initialConditions.flatMap { $0 }, zi.storage) <= 1e-10 * max(1, zi.storage.map(abs).max()!))
        let pad = try fixture.reference.root.group("meta").attribute("butter_padlen_odd").intValue
        #expect(filter.padLength == Int(pad ?? -1))
    }

    @Test func cleanedTimeSeriesMatchSignalClean() throws {
        let (p, tR) = try cleanParameters()
        let model = try confoundModel()
        for subject in try fixture.subjects() {
            var signals = try fixture.matrix("\(subject)/raw_timeseries")
            let conf = try fixture.matrix("\(subject)/confounds")
            try SignalCleaner.clean(&signals, confounds: conf, tR: tR, parameters: p, file: subject)
            let expected = try fixture.matrix("\(subject)/clean_timeseries")
            let error = FMRIFixture.errorRelativeToColumnStd(signals, expected)
            #expect(error <= 1e-9, "\(subject): cleaned time series off by \(error) column std")
            // The whole path from files, through the stage's own extractor.
            let config = FMRIExtractStage.Configuration(
                atlas: fixture.path("atlas_labels.nii.gz"), strategy: model.strategy, motion: model.motion, wmCSF: model.wmCSF,
                globalSignal: model.globalSignal, tR: tR, highPass: p.highPass, lowPass: p.lowPass)
            let out = try FMRIExtractor.run(bold: try bold(subject), confounds: try confoundsPath(subject), configuration: config, regions: RegionCache(config))
            let fromFiles = FMRIFixture.errorRelativeToColumnStd(out.cleaned, expected)
            #expect(fromFiles <= 1e-9, "\(subject): cleaned from files off by \(fromFiles) column std")
        }
    }

    @Test func eachCleaningStepMatches() throws {
        guard fixture.exists("sub-01/clean_steps") else { return }
        let (full, tR) = try cleanParameters()
        let raw = try fixture.matrix("sub-01/raw_timeseries")
        let conf = try fixture.matrix("sub-01/confounds")
        let none = CleanParameters.Standardize.none
        let cases: [(String, CleanParameters, Bool)] = [
            ("detrend", CleanParameters(detrend: true, standardize: none), false),
            ("detrend_bandpass", CleanParameters(detrend: true, standardize: none, highPass: full.highPass, lowPass: full.lowPass), false),
            ("detrend_confounds", CleanParameters(detrend: true, standardize: none), true),
            ("detrend_confounds_bandpass_zscore", full, true),
            ("cosine_highpass_zscore", CleanParameters(detrend: true, filter: .cosine, highPass: full.highPass), false),
        ]
        for (name, parameters, useConfounds) in cases {
            var x = raw
            try SignalCleaner.clean(&x, confounds: useConfounds ? conf : nil, tR: tR, parameters: parameters, file: name)
            let error = FMRIFixture.errorRelativeToColumnStd(x, try fixture.matrix("sub-01/clean_steps/\(name)"))
            #expect(error <= 1e-9, "\(name): off by \(error) column std")
        }
    }

    @Test func atlasOnAnotherGridIsResampledNearest() throws {
        guard fixture.exists("extras/resampled_atlas_on_data_grid"), let subject = try fixture.subjects().first(where: { $0 == "sub-01" }) else { return }
        let path = fixture.path("atlas_labels_2mm_shifted.nii.gz")
        guard FileManager.default.fileExists(atPath: path) else { return }
        let atlas = try LabelAtlas(path)
        let header = try NIfTIReader.header(of: try bold(subject))
        let columns = atlas.columnIndex(on: header)
        let labels = columns.map { $0 < 0 ? 0.0 : Double(atlas.regionIDs[Int($0)]) }
        let expected = try fixture.reference.root.dataset("extras/resampled_atlas_on_data_grid").read(as: Double.self)
        // h5py stores the volume C-ordered (x slowest); NIfTI data are x fastest.
        let s = header.gridShape
        var mismatches = 0
        for x in 0..<s[0] {
            for y in 0..<s[1] {
                for z in 0..<s[2] {
                    let ours: Double = labels[x + s[0] * (y + s[1] * z)]
                    let theirs: Double = expected[(x * s[1] + y) * s[2] + z]
                    if ours != theirs { mismatches += 1 }
                }
            }
        }
        #expect(mismatches == 0)
        var (signals, _) = try RegionExtractor.labels(bold: try bold(subject), atlas: atlas)
        if fixture.exists("extras/resampled_atlas_region_ids") {
            // nilearn drops labels that vanish on the data grid; BioEmbed keeps them as NaN columns.
            let kept: [Int64] = try fixture.reference.root.dataset("extras/resampled_atlas_region_ids").read()
            let columns = kept.compactMap { atlas.regionIDs.firstIndex(of: $0) }
            #expect(columns.count == kept.count)
            var sub = Matrix<Double>(rows: signals.rows, columns: columns.count)
            for i in 0..<signals.rows { for (k, j) in columns.enumerated() { sub[i, k] = signals[i, j] } }
            signals = sub
        }
        let error = FMRIFixture.errorRelativeToColumnStd(signals, try fixture.matrix("extras/sub-01_raw_timeseries_resampled_atlas"))
        #expect(error <= 1e-9, "resampled atlas: off by \(error) column std")
    }

    @Test func probabilisticMapsAreFittedByLeastSquares() throws {
        guard fixture.exists("extras/sub-01_raw_timeseries_maps"), try fixture.subjects().contains("sub-01") else { return }
        let (signals, _) = try RegionExtractor.maps(bold: try bold("sub-01"), maps: fixture.path("atlas_maps_8.nii.gz"))
        let error = FMRIFixture.errorRelativeToColumnStd(signals, try fixture.matrix("extras/sub-01_raw_timeseries_maps"))
        #expect(error <= 1e-9, "maps: off by \(error) column std")
    }
}
