import BioEmbedNN
import Foundation
import Testing
import _BioEmbedTestSupport

/// Writes safetensors files byte by byte (the format is small enough to write by hand here).
enum SafeTensorsFile {
    static func bytes(_ tensors: [(name: String, dtype: String, shape: [Int], data: [UInt8])], headerPadding: Int = 0) -> [UInt8] {
        var offset = 0
        var entries: [String] = []
        for t in tensors {
            entries.append("\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":\(t.shape),\"data_offsets\":[\(offset),\(offset + t.data.count)]}")
            offset += t.data.count
        }
        let header = Array(("{" + entries.joined(separator: ",") + "}" + String(repeating: " ", count: headerPadding)).utf8)
        var out: [UInt8] = []
        var length = UInt64(header.count)
        for _ in 0..<8 { out.append(UInt8(length & 0xFF)); length >>= 8 }
        out += header
        for t in tensors { out += t.data }
        return out
    }

    static func f32(_ values: [Float]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) } }

    static func write(_ bytes: [UInt8], _ name: String) -> String {
        let path = TestSupport.temporaryDirectory("safetensors") + "/" + name
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }
}

@Suite struct SafeTensorsTests {
    @Test func readsF32F16BF16() throws {
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C]  // 1, -2, 2^-24, +inf
        let bf16: [UInt8] = [0x80, 0x3F, 0x40, 0xC0]  // 1, -3
        let path = SafeTensorsFile.write(SafeTensorsFile.bytes([
            ("a", "F32", [2, 2], SafeTensorsFile.f32([1, 2, 3, 4])), ("h", "F16", [4], f16), ("b", "BF16", [2], bf16),
        ]), "ok.safetensors")
        let file = try SafeTensors(path: path)
        #expect(try file.tensor("a") == Tensor(shape: [2, 2], data: [1, 2, 3, 4]))
        #expect(try file.tensor("h").data == [1, -2, Float(sign: .plus, exponent: -24, significand: 1), .infinity])
        #expect(try file.tensor("b").data == [1, -3])
    }

    @Test func truncatedFileIsAnError() throws {
        let full = SafeTensorsFile.bytes([("a", "F32", [4], SafeTensorsFile.f32([1, 2, 3, 4]))])
        let path = SafeTensorsFile.write(Array(full.dropLast(5)), "truncated.safetensors")
        #expect {
            _ = try SafeTensors(path: path)
        } throws: { error in
            "\(error)".contains("truncated") && "\(error)".contains(path)
        }
    }

    @Test func headerClaimingMoreBytesThanTheFileIsAnError() throws {
        var bytes = SafeTensorsFile.bytes([("a", "F32", [1], SafeTensorsFile.f32([1]))])
        bytes[0] = 0xFF; bytes[1] = 0xFF; bytes[2] = 0x0F
        let path = SafeTensorsFile.write(bytes, "header.safetensors")
        #expect {
            _ = try SafeTensors(path: path)
        } throws: { error in
            "\(error)".contains("header claims") && "\(error)".contains(path)
        }
        let short = SafeTensorsFile.write([1, 2, 3], "tiny.safetensors")
        #expect(throws: NNError.self) { _ = try SafeTensors(path: short) }
    }

    @Test func wrongModelWeightsNameTheTensor() throws {
        // BrainMAE weights given to the PST model.
        let config = try PSTConfig(try ModelConfigFile(path: TestSupport.fixture("encoders/pst/config.json")))
        let store = try WeightStore(path: TestSupport.fixture("encoders/brainmae/sg/model.safetensors"))
        #expect {
            _ = try PSTModel(config: config, weights: store)
        } throws: { error in
            "\(error)".contains("missing tensor 'embed_tokens.weight'") && "\(error)".contains("[\(config.vocabSize), \(config.embedDim)]")
        }
        // PST weights given to the 3D-MolT5 encoder.
        let t5 = try MolT5Config(try ModelConfigFile(path: TestSupport.fixture("encoders/molt5/config.json")))
        #expect {
            _ = try MolT5Encoder(config: t5, weights: try WeightStore(path: TestSupport.fixture("encoders/pst/weights.safetensors")))
        } throws: { error in
            "\(error)".contains("missing tensor 'shared.weight'")
        }
    }

    @Test func wrongShapeNamesExpectedAndFound() throws {
        // The PST weights with a config claiming a wider model.
        let real = try PSTConfig(try ModelConfigFile(path: TestSupport.fixture("encoders/pst/config.json")))
        let (d, h, l, v) = (real.embedDim, real.heads, real.layers, real.vocabSize)
        let file = ModelConfigFile(path: "wide.json", values: ["embed_dim": 2 * d, "num_heads": h, "num_layers": l, "k_hop": real.kHop])
        let store = try WeightStore(path: TestSupport.fixture("encoders/pst/weights.safetensors"))
        #expect {
            _ = try PSTModel(config: try PSTConfig(file), weights: store)
        } throws: { error in
            "\(error)".contains("'embed_tokens.weight' has shape [\(v), \(d)], expected [\(v), \(2 * d)]")
        }
        // Fewer layers than the weights: the extra tensors are reported.
        guard l > 1 else { return }
        let short = ModelConfigFile(path: "short.json", values: ["embed_dim": d, "num_heads": h, "num_layers": l - 1, "k_hop": real.kHop, "ffn_dim": real.ffnDim])
        #expect {
            _ = try PSTModel(config: try PSTConfig(short), weights: try WeightStore(path: TestSupport.fixture("encoders/pst/weights.safetensors")))
        } throws: { error in
            "\(error)".contains("not used by this model") && "\(error)".contains("layers.\(l - 1).")
        }
    }
}
