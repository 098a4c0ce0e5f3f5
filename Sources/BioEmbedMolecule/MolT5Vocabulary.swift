import BioEmbedCore
import Foundation

/// The SELFIES part of the 3D-MolT5 tokenizer: token on line `i` of the dictionary has id
/// `32100 + i` (after T5 v1.1's 32000 pieces and 100 sentinels); `<bom>`/`<eom>` follow it
/// (molt5.md §3.2: the reference code builds `<eom>` = 35044, `<bom>` = 35045).
public struct MolT5Vocabulary: Sendable {
    public static let selfiesOffset = 32100
    public static let padID: Int32 = 0
    public static let eosID: Int32 = 1

    /// Token → id.
    public let ids: [String: Int32]
    public let tokenCount: Int
    public var bomID: Int32
    public var eomID: Int32

    /// The bundled dictionary (data/molt5/selfies_dict.txt, compiled in).
    public static let bundled: MolT5Vocabulary = MolT5Vocabulary(lines: SelfiesVocabularyData.text.split(separator: "\n").map(String.init))

    /// A vocabulary from dictionary lines; `<bom>`/`<eom>` default to the reference's order.
    public init(lines: [String], bomID: Int32? = nil, eomID: Int32? = nil) {
        var ids: [String: Int32] = [:]
        for (i, token) in lines.enumerated() where ids[token] == nil {
            ids[token] = Int32(MolT5Vocabulary.selfiesOffset + i)
        }
        self.ids = ids
        tokenCount = lines.count
        let end = Int32(MolT5Vocabulary.selfiesOffset + lines.count)
        self.eomID = eomID ?? end
        self.bomID = bomID ?? end + 1
    }

    /// Reads a dictionary file (one token per line, id order).
    public init(file: String, bomID: Int32? = nil, eomID: Int32? = nil) throws(MoleculeError) {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw MoleculeError.invalidInput(file: file, expected: "a readable SELFIES dictionary (one token per line)", found: "an unreadable file")
        }
        let lines = TextLines.split(text).map { $0.trimmingCharacters(in: .whitespaces) }
        let tokens = lines.last == "" ? Array(lines.dropLast()) : lines
        guard !tokens.isEmpty else {
            throw MoleculeError.invalidInput(file: file, expected: "a SELFIES dictionary (one token per line)", found: "an empty file")
        }
        self.init(lines: tokens, bomID: bomID, eomID: eomID)
    }
}
