#if canImport(Glibc)
import Glibc
#endif

/// Reads PDB-format coordinates (fixed columns) into a `StructureModel`.
///
/// Records used: `ATOM`/`HETATM` (chain = columns 21–22, residue name 18–20, number 23–26 in
/// decimal or hybrid-36, insertion code 27, atom name 13–16, altloc 17, x/y/z 31–54, occupancy
/// 55–60), `MODEL`/`ENDMDL`, `TER` (polymer ends, as gemmi: the residues of the chain part before
/// a `TER` are polymer, later ones ligands/waters; two `TER`s in one chain make every entity
/// unknown), `SEQRES` (the names of each chain's sequence) and `END`; B-factors (61–66). The segment id (columns 73–76) is part of a residue's identity, as in
/// gemmi (atoms of one residue number in two segments are two residues). Old files carry an ID
/// code and a line serial in columns 73–80 instead (gemmi rejects their two-digit "charge"): when an
/// atom line ends in two digits there, the file is read again without segment ids, as the fixtures
/// read such files after blanking those columns. Lines shorter than 80 columns are fine; an
/// `ATOM`/`HETATM` line shorter than 54 columns or with a non-numeric coordinate is an error that
/// names the line, except in waters and ligands (skipped with one warning per file, so that a
/// GROMACS water line shifted by a 5-digit residue number does not cost the file's chains); a
/// residue number that is not a number is read as its leading digits, as gemmi does (`271a` → 271). Cost: one pass over the bytes, O(atoms) memory.
public enum PDBReader {
    static let carbon = PackedName("C"), carbonLower = PackedName("c")

    /// Parses `bytes` (the whole decompressed file). `file` is used in messages.
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, file: String, allModels: Bool) throws(StructureError) -> StructureModel {
        let (model, legacyColumns) = try read(bytes, file: file, allModels: allModels, segments: true)
        guard legacyColumns else { return model }
        return try read(bytes, file: file, allModels: allModels, segments: false).model
    }

    /// One pass; `legacyColumns`: segment ids were read and some atom line has an old-style line
    /// serial in columns 79–80 (then the caller reads again with `segments` false).
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, file: String, allModels: Bool, segments: Bool) throws(StructureError)
        -> (model: StructureModel, legacyColumns: Bool)
    {
        var sawSegment = false, sawLineSerial = false
        var builder = StructureBuilder(expectedAtoms: min(bytes.count / 81 + 16, 1 << 20))
        var lineNumber = 0
        var position = 0
        let count = bytes.count
        var modelsSeen = 0
        var inModel = false          // between MODEL and ENDMDL
        var modelClosed = false      // ENDMDL seen since the last ATOM model started
        var afterTer = false
        var terStatus: UInt8 = 0     // 0 none, y used, e broken
        var sawAtom = false
        var seqres: [String: [PackedName]] = [:]
        var residuesBeforeTer: [String: Int] = [:]
        var predicted = false
        var lenient = LenientRecords(file: file)

        guard let base = bytes.baseAddress else { throw .invalidInput(file: file, expected: "PDB text", found: "an empty buffer") }
        lineLoop: while position < count {
            lineNumber += 1
            // the line's end: memchr scans many bytes per step (a byte loop cost ~80 steps a line)
            let end = memchr(base + position, 0x0A, count - position).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? count
            let next = end + 1
            var len = end - position
            if len > 0 && bytes[position + len - 1] == 0x0D { len -= 1 }
            let p = position
            position = next
            if len < 3 { continue }
            let c0 = bytes[p] & 0xDF, c1 = bytes[p + 1] & 0xDF, c2 = bytes[p + 2] & 0xDF
            let c3: UInt8 = len > 3 ? bytes[p + 3] : 0x20

            let isAtom = len >= 4 && c0 == 0x41 && c1 == 0x54 && c2 == 0x4F && (c3 & 0xDF) == 0x4D        // ATOM
            let isHet = len >= 6 && c0 == 0x48 && c1 == 0x45 && c2 == 0x54 && (c3 & 0xDF) == 0x41          // HETA(TM)
            if isAtom || isHet {
                if len < 54 {
                    throw .malformedLine(file: file, line: lineNumber, expected: "an \(isAtom ? "ATOM" : "HETATM") record of at least 54 columns (x, y, z in 31–54)", found: "\(len) columns")
                }
                let resName = PackedName(trimming: bytes, p + 17, p + 20)
                let x = coordinate(base + p + 30) ?? parseDecimal(bytes, p + 30, p + 38)
                let y = coordinate(base + p + 38) ?? parseDecimal(bytes, p + 38, p + 46)
                let z = coordinate(base + p + 46) ?? parseDecimal(bytes, p + 46, p + 54)
                guard let x, let y, let z else {
                    guard Self.outsidePolymers(resName) else {
                        throw .malformedLine(file: file, line: lineNumber, expected: "x, y, z numbers in columns 31–54", found: quoted(bytes, p + 30, p + 54))
                    }
                    // a water or ligand line gemmi would read as garbage (a GROMACS water shifted by
                    // a 5-digit residue number): skipped, so the file's chains are kept
                    lenient.skipped(line: lineNumber, text: quoted(bytes, p + 17, p + 54))
                    continue
                }
                if modelClosed || !builder.hasModel {
                    // A new model: MODEL record missing (MD frames separated by ENDMDL) or the first atoms.
                    if builder.hasModel && !allModels { break lineLoop }
                    modelsSeen += 1
                    builder.beginModel(modelsSeen)
                    modelClosed = false
                    afterTer = false
                }
                let chain = PackedName(trimming: bytes, p + 20, p + 22)
                if builder.selectChain(chain) {
                    afterTer = builder.existingChainFirstEntity(chain).map { $0 == .polymer } ?? false
                    if builder.currentChainIsEmpty { afterTer = false }
                }
                var number: Int32
                if let strict = parseResidueNumber(bytes, p + 22, p + 26) {
                    number = strict
                } else if bytes[p + 22] < 0x41, let digits = leadingDigits(bytes, p + 22, p + 26) {
                    // gemmi reads the leading integer of the field (`271a` in a water record is 271)
                    number = digits
                    lenient.readNumber(line: lineNumber, text: quoted(bytes, p + 22, p + 26))
                } else {
                    throw .malformedLine(file: file, line: lineNumber, expected: "a residue number in columns 23–26", found: quoted(bytes, p + 22, p + 26))
                }
                let icode = bytes[p + 26] == 0x09 ? 0x20 : bytes[p + 26]
                let entity: EntityType = afterTer ? (ResidueTables.isWater(resName) ? .water : .nonPolymer) : .unknown
                var segment: UInt32 = 0
                if segments && len > 72 {
                    // four blanks (the usual case) without trimming
                    if len < 76 || UnsafeRawPointer(base + p + 72).loadUnaligned(as: UInt32.self) != 0x2020_2020 {
                        segment = PackedName(trimming: bytes, p + 72, p + min(len, 76)).raw
                        if segment != 0 { sawSegment = true }
                    }
                    if len >= 80 && bytes[p + 78] &- 0x30 < 10 && bytes[p + 79] &- 0x30 < 10 { sawLineSerial = true }
                    // an old-style file: start again at once without segment ids
                    if sawSegment && sawLineSerial { return (StructureModel(), true) }
                }
                builder.selectResidue(number: number, icode: icode, name: resName, het: isHet, entity: entity, segment: segment)
                var occupancy: Float = 1
                if len >= 60, let o = fixedDecimal(base + p + 54, width: 6, fraction: 2) { occupancy = Float(o) }
                else if len > 58, let o = parseDecimal(bytes, p + 54, p + min(60, len)) { occupancy = Float(o) }
                var bFactor = Float.nan
                if len >= 66, let b = fixedDecimal(base + p + 60, width: 6, fraction: 2) { bFactor = Float(b) }
                else if len > 64, let b = parseDecimal(bytes, p + 60, p + min(66, len)) { bFactor = Float(b) }
                let altByte = bytes[p + 16]
                let atomName = PackedName(trimming: bytes, p + 12, p + 16)
                var caElement: UInt8 = 0
                if atomName == .ca {
                    // element columns 77–78, else gemmi's inference: a name starting in column 13 is calcium
                    let element = len >= 78 ? PackedName(trimming: bytes, p + 76, p + 78) : PackedName(raw: 0)
                    let carbon = element.raw != 0 ? (element == Self.carbon || element == Self.carbonLower) : bytes[p + 12] == 0x20
                    caElement = carbon ? 1 : 2
                }
                builder.addAtom(name: atomName, altloc: altByte == 0x20 ? 0 : altByte,
                                occupancy: occupancy, bFactor: bFactor, x: x, y: y, z: z, line: lineNumber, caElement: caElement)
                sawAtom = true
                continue
            }
            // MODEL
            if len >= 5 && c0 == 0x4D && c1 == 0x4F && c2 == 0x44 && (c3 & 0xDF) == 0x45 && (bytes[p + 4] & 0xDF) == 0x4C {
                if builder.hasModel && !allModels { break lineLoop }
                modelsSeen += 1
                let number = Int(leadingInteger(bytes, p + 6, p + min(len, 14)))
                builder.beginModel(number)
                inModel = true
                modelClosed = false
                afterTer = false
                continue
            }
            // ENDMDL / END
            if c0 == 0x45 && c1 == 0x4E && c2 == 0x44 {
                if len >= 6 && (c3 & 0xDF) == 0x4D {
                    inModel = false
                    modelClosed = true
                    builder.endPart()
                    if !allModels && sawAtom { break lineLoop }
                    continue
                }
                if c3 == 0x20 || c3 == 0x09 || len == 3 { break lineLoop }
                continue
            }
            // a predicted model says so in its header (AlphaFold's TITLE) or writes PARENT (OpenFold,
            // ESMFold and AlphaFold's to_pdb)
            if !predicted && (c0 == 0x54 || c0 == 0x48 || c0 == 0x52 || c0 == 0x50) {
                predicted = PredictedModel.isPredictionLine(UnsafeBufferPointer(rebasing: bytes[p..<(p + len)]))
            }
            // SEQRES: the residue names of each chain's sequence (columns 20-22, 24-26, ...)
            if len >= 23 && c0 == 0x53 && c1 == 0x45 && c2 == 0x51 && (c3 & 0xDF) == 0x52 {
                let chain = bytes[p + 11] == 0x20 ? "" : String(decoding: [bytes[p + 11]], as: UTF8.self)
                var start = p + 19
                while start + 3 <= p + len {
                    let name = PackedName(trimming: bytes, start, start + 3)
                    if name.raw != 0 { seqres[chain, default: []].append(name) }
                    start += 4
                }
                continue
            }
            // TER
            if c0 == 0x54 && c1 == 0x45 && c2 == 0x52 && (c3 == 0x20 || c3 == 0x09 || len == 3) {
                if builder.models.count <= 1 {
                    // the chain the record names (not the current one), as libcifpp reads it
                    let named = len > 21 ? PackedName(trimming: bytes, p + 21, p + 22) : PackedName(raw: 0)
                    let key = named.description
                    if residuesBeforeTer[key] == nil { residuesBeforeTer[key] = builder.residueCountInFirstModel(chain: named) }
                }
                guard builder.currentChain >= 0, terStatus != UInt8(ascii: "e") else { continue }
                terStatus = UInt8(ascii: "y")
                if afterTer {
                    terStatus = UInt8(ascii: "e")
                    continue
                }
                if builder.markCurrentPart(.polymer, waterCheck: ResidueTables.isWater) { terStatus = UInt8(ascii: "e") }
                afterTer = true
                continue
            }
        }
        _ = inModel
        if terStatus == UInt8(ascii: "e") { builder.setAllEntities(.unknown) }
        var model = builder.build(modelCountInFile: modelsSeen)
        model.sequenceResidueNames = seqres
        model.residuesBeforeTer = residuesBeforeTer
        model.isPredicted = predicted
        lenient.report()
        PolymerHeuristics.addEntityTypes(&model)
        return (model, false)
    }

    /// Residues whose atom records may be skipped when unreadable: waters and names gemmi tabulates
    /// as neither peptide- nor nucleotide-linking (ions, buffers, ligands), or does not know (SOL).
    static func outsidePolymers(_ name: PackedName) -> Bool {
        if ResidueTables.isWater(name) { return true }
        guard let flags = GemmiResidueTable.flags(name) else { return ResidueTables.oneLetter(name) == UInt8(ascii: "X") }
        return !flags.contains(.peptideLinking) && !flags.contains(.nucleotideLinking)
    }

    /// gemmi's reading of a residue-number field that is not a number: its leading digits (after
    /// blanks and an optional sign), nil when there are none.
    static func leadingDigits(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int32? {
        var s = start
        while s < end && bytes[s] == 0x20 { s += 1 }
        if s < end && (bytes[s] == 0x2D || bytes[s] == 0x2B) { s += 1 }
        guard s < end, bytes[s] &- 0x30 < 10 else { return nil }
        return leadingInteger(bytes, start, end)
    }

    static func quoted(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        let e = min(end, bytes.count)
        let s = min(start, e)
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[s..<e]), as: UTF8.self)
        return "'\(text)'"
    }

    /// A residue number in columns `start..<end`: decimal (signed) or hybrid-36 (`A000` = 10000).
    static func parseResidueNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int32? {
        var s = start
        while s < end && bytes[s] == 0x20 { s += 1 }
        if s < end, bytes[s] >= 0x41 && bytes[s] <= 0x5A || bytes[s] >= 0x61 && bytes[s] <= 0x7A {
            // hybrid-36: exactly 4 characters (digits and letters of one case)
            guard end - start == 4, s == start else { return nil }
            let upper = bytes[s] <= 0x5A
            var value = 0
            for k in start..<end {
                let b = bytes[k]
                let digit: Int
                if b >= 0x30 && b <= 0x39 { digit = Int(b - 0x30) }
                else if upper && b >= 0x41 && b <= 0x5A { digit = Int(b - 0x41) + 10 }
                else if !upper && b >= 0x61 && b <= 0x7A { digit = Int(b - 0x61) + 10 }
                else { return nil }
                value = value * 36 + digit
            }
            // 'A000' = 10*36^3 encodes 10000; lower case continues after 'Z' (26 * 36^3 values).
            value = value - 10 * 46_656 + 10_000 + (upper ? 0 : 26 * 46_656)
            return Int32(value)
        }
        return parseInteger(bytes, start, end)
    }

    /// The integer at the start of `start..<end` after blanks (an optional sign, then digits up to
    /// the first other byte), 0 when there is none: gemmi's reading of the `MODEL` serial (columns
    /// 7–14), so a `MODEL` line without a number is model 0 there too.
    static func leadingInteger(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int32 {
        var s = start
        while s < end && bytes[s] == 0x20 { s += 1 }
        var negative = false
        if s < end && (bytes[s] == 0x2D || bytes[s] == 0x2B) { negative = bytes[s] == 0x2D; s += 1 }
        var value: Int64 = 0
        while s < end, bytes[s] &- 0x30 < 10, value < Int64(Int32.max) {
            value = value * 10 + Int64(bytes[s] &- 0x30)
            s += 1
        }
        return Int32(clamping: negative ? -value : value)
    }

    /// A signed decimal integer in `start..<end` (blanks around it allowed, nothing else).
    static func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int32? {
        var s = start
        var e = end
        while s < e && bytes[s] == 0x20 { s += 1 }
        while e > s && (bytes[e - 1] == 0x20 || bytes[e - 1] == 0x0D) { e -= 1 }
        guard s < e else { return nil }
        var negative = false
        if bytes[s] == 0x2D { negative = true; s += 1 } else if bytes[s] == 0x2B { s += 1 }
        guard s < e else { return nil }
        var value: Int64 = 0
        while s < e {
            let d = bytes[s] &- 0x30
            guard d < 10 else { return nil }
            value = value * 10 + Int64(d)
            if value > Int64(Int32.max) { return nil }
            s += 1
        }
        return Int32(negative ? -value : value)
    }

    /// An 8-column coordinate as PDB writes it (`%8.3f`: blanks, an optional `-`, digits, `.`, three
    /// digits); nil for anything else (then `parseDecimal` decides). The value is the integer of
    /// thousandths divided by 1000: correctly rounded, as `parseDecimal` gives.
    @inline(__always)
    static func coordinate(_ field: UnsafePointer<UInt8>) -> Double? {
        fixedDecimal(field, width: 8, fraction: 3)
    }

    /// A right-aligned fixed-point field of `width` columns with `fraction` (1...3) digits after the
    /// point (`%8.3f` coordinates, `%6.2f` occupancies): blanks, an optional `-`, at least one digit,
    /// `.`, the fraction digits. nil for anything else.
    @inline(__always)
    static func fixedDecimal(_ field: UnsafePointer<UInt8>, width: Int, fraction: Int) -> Double? {
        let point = width - fraction - 1
        guard field[point] == 0x2E else { return nil }
        var scaled = 0
        var i = point + 1
        while i < width {
            let d = field[i] &- 0x30
            guard d < 10 else { return nil }
            scaled = scaled &* 10 &+ Int(d)
            i &+= 1
        }
        i = 0
        while i < point && field[i] == 0x20 { i &+= 1 }
        let negative = i < point && field[i] == 0x2D
        if negative { i &+= 1 }
        guard i < point else { return nil }   // no integer digit ("   -.123" is left to parseDecimal)
        var whole = 0
        while i < point {
            let d = field[i] &- 0x30
            guard d < 10 else { return nil }
            whole = whole &* 10 &+ Int(d)
            i &+= 1
        }
        let unit = fraction == 3 ? 1000.0 : fraction == 2 ? 100.0 : 10.0
        let magnitude = Double(whole &* Int(unit) &+ scaled) / unit
        return negative ? -magnitude : magnitude
    }

    /// A decimal number (`-12.345`, `1e-3` also accepted) in `start..<end`, blanks allowed around it.
    /// Rounded once (mantissa / power of ten), so values with up to 15 significant digits are exact
    /// to the nearest double.
    static func parseDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        var s = start
        var e = min(end, bytes.count)
        while s < e && bytes[s] == 0x20 { s += 1 }
        while e > s && (bytes[e - 1] == 0x20 || bytes[e - 1] == 0x0D || bytes[e - 1] == 0x0A) { e -= 1 }
        return CIFNumber.parse(bytes, s, e)
    }
}
