import BioEmbedCore
import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedHDF5

@Suite(.serialized)
struct NetCDFTests {
    /// Writes a NetCDF-4 file (read back here through the HDF5 layer, and by netCDF4 in the Python checks).
    @Test func writesNamedDimensionsVariablesAndAttributes() throws {
        let path = TestSupport.artifactsDirectory() + "/netcdf_roundtrip.nc"
        let file = try NetCDFFile.create(path)
        try file.addDimension("subject", length: 2)
        try file.addDimension("time", length: 5)
        try file.addDimension("region", length: 3)
        try file.addVariable("subject", type: .string, dimensions: ["subject"])
        try file.addVariable("region", type: .int64, dimensions: ["region"])
        try file.addVariable("timeseries", type: .float64, dimensions: ["subject", "time", "region"], compressed: true)
        try file.setAttribute("units", .string("z-score"), variable: "timeseries")
        try file.setAttribute("title", .string("BioEmbed test ✓"))
        try file.setAttribute("t_r", .double(2.0))
        try file.write("subject", .strings(["sub-01", "sub-02"]))
        try file.write("region", .int64([1, 2, 5]))
        try file.write("timeseries", .float64((0..<30).map { Double($0) / 4 }))
        #expect(!FileManager.default.fileExists(atPath: path))
        try file.commit()

        let back = try HDF5File.open(path)  // NetCDF-4 is HDF5 underneath
        #expect(try back.root.dataset("timeseries").read(as: Double.self) == (0..<30).map { Double($0) / 4 })
        #expect(try back.root.dataset("timeseries").shape == [2, 5, 3])
        #expect(try back.root.dataset("timeseries").stringAttribute("units") == "z-score")
        #expect(try back.root.dataset("region").read(as: Int64.self) == [1, 2, 5])
    }

    @Test func undefinedDimensionsAreNamedInTheError() throws {
        let file = try NetCDFFile.create(TestSupport.temporaryDirectory("nc") + "/bad.nc")
        #expect(throws: HDF5Error.self) { try file.addVariable("x", type: .float64, dimensions: ["nope"]) }
    }
}

struct FileDigestTests {
    /// libcrypto's SHA-256 equals the portable Swift implementation (and FIPS vectors through it).
    @Test func libcryptoDigestEqualsThePortableOne() throws {
        let folder = TestSupport.temporaryDirectory("digest")
        var rng = TestSupport.SplitMix(seed: 3)
        for size in [0, 3, 64, 1_000_003, 3 << 20] {
            let path = folder + "/f\(size).bin"
            let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            #expect(try FileDigest.sha256(ofFile: path) == SHA256.hex(ofFile: path), "size \(size)")
        }
        try "abc".write(toFile: folder + "/abc", atomically: true, encoding: .utf8)
        #expect(try FileDigest.sha256(ofFile: folder + "/abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(throws: CoreError.self) { try FileDigest.sha256(ofFile: folder + "/missing") }
    }
}
