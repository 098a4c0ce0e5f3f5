/// Reads the `_atom_site` table (and `_entity` types) of the first data block of an mmCIF file
/// into a `StructureModel`.
///
/// Columns are found by name, in any order. Author numbering is used when present (gemmi's
/// default): chain `auth_asym_id`, number `auth_seq_id`, insertion code `pdbx_PDB_ins_code`; the
/// `label_*` columns are the fallback when an `auth_*` column is absent. Residue name
/// `label_comp_id` (else `auth_comp_id`), atom name `label_atom_id` (else `auth_atom_id`), altloc
/// `label_alt_id`, model `pdbx_PDB_model_num`, entity type through `label_entity_id` and
/// `_entity.type`, B-factor `B_iso_or_equiv`, or for ModelCIF files (any `_ma_` category marks a
/// predicted model) the residue's local pLDDT from `_ma_qa_metric_local` by (label_asym_id,
/// label_seq_id). Errors (a loop whose value count is not a multiple of its columns, a missing
/// coordinate column, an unterminated quote or text field, a non-numeric coordinate) name the
/// file and line. Cost: one tokenizer pass; the atom table is kept as byte ranges (unless every
/// model is wanted, only up to the first row of model 2).
public enum MMCIFReader {
    /// A value's byte range (and whether it was quoted), 12 bytes instead of a full token.
    struct Value {
        private var start32: UInt32
        private var end32: UInt32
        private var line32: UInt32
        var quoted: Bool
        init(_ t: CIFTokenizer.Token) {
            start32 = UInt32(truncatingIfNeeded: t.start)
            end32 = UInt32(truncatingIfNeeded: t.end)
            quoted = t.quoted
            line32 = UInt32(truncatingIfNeeded: t.line)
        }
        /// An unquoted value from `CIFTokenizer.plainLine`.
        init(start: Int32, end: Int32, line: Int) {
            start32 = UInt32(bitPattern: start)
            end32 = UInt32(bitPattern: end)
            quoted = false
            line32 = UInt32(truncatingIfNeeded: line)
        }
        var start: Int { Int(start32) }
        var end: Int { Int(end32) }
        var line: Int { Int(line32) }
    }

    /// The columns of one category that the reader uses (others are skipped while tokenizing).
    struct Table {
        var tags: [String] = []
        var values: [Value] = []
        var line = 0
        var rows: Int { tags.isEmpty ? 0 : values.count / tags.count }
        func column(_ name: String) -> Int? { tags.firstIndex(of: name) }
    }

    /// `_atom_site` items the reader needs.
    static let atomSiteItems: Set<String> = [
        "group_pdb", "auth_asym_id", "label_asym_id", "auth_seq_id", "label_seq_id", "pdbx_pdb_ins_code",
        "label_comp_id", "auth_comp_id", "label_alt_id", "cartn_x", "cartn_y", "cartn_z", "occupancy",
        "pdbx_pdb_model_num", "label_entity_id", "label_atom_id", "auth_atom_id", "b_iso_or_equiv",
    ]

    static let atomSitePrefix = Array("_atom_site.".utf8), entityPrefix = Array("_entity.".utf8)
    /// ModelCIF: per-residue quality metrics and their definitions (`ConfidenceSource.modelCIF`),
    /// and the prefix of every ModelCIF category (a predicted model).
    static let localMetricPrefix = Array("_ma_qa_metric_local.".utf8), metricPrefix = Array("_ma_qa_metric.".utf8)
    static let modelCIFPrefix = Array("_ma_".utf8)

    /// Whether `bytes[start..<end]` begins with `prefix` (lower-case ASCII), ignoring ASCII case.
    @inline(__always)
    static func hasPrefixIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ prefix: [UInt8]) -> Bool {
        guard end - start >= prefix.count else { return false }
        for k in 0..<prefix.count {
            let b = bytes[start + k]
            if (b >= 0x41 && b <= 0x5A ? b | 0x20 : b) != prefix[k] { return false }
        }
        return true
    }

    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, file: String, allModels: Bool) throws(StructureError) -> StructureModel {
        guard bytes.count < Int(UInt32.max) else {
            throw .invalidInput(file: file, expected: "an mmCIF file under 4 GiB", found: "\(bytes.count) bytes")
        }
        var tokenizer = CIFTokenizer(bytes, file: file)
        // Closures capture only `bytes` (a let), so `tokenizer` stays a plain local without dynamic
        // exclusivity checks on every token.
        let textOf = { (t: CIFTokenizer.Token) -> String in
            String(decoding: UnsafeBufferPointer(rebasing: bytes[t.start..<t.end]), as: UTF8.self)
        }
        var atomSite = Table()
        var entity = Table()
        var localMetric = Table(), metric = Table()
        var modelCIF = false
        var blocks = 0
        var pending: CIFTokenizer.Token? = nil

        // the category of a tag from its bytes (most tags of a file are neither: no String made)
        func category(_ t: CIFTokenizer.Token) -> Int {
            if hasPrefixIgnoringCase(bytes, t.start, t.end, Self.atomSitePrefix) { return 1 }
            if hasPrefixIgnoringCase(bytes, t.start, t.end, Self.entityPrefix) { return 2 }
            if hasPrefixIgnoringCase(bytes, t.start, t.end, Self.modelCIFPrefix) {
                modelCIF = true
                if hasPrefixIgnoringCase(bytes, t.start, t.end, Self.localMetricPrefix) { return 3 }
                if hasPrefixIgnoringCase(bytes, t.start, t.end, Self.metricPrefix) { return 4 }
            }
            return 0
        }
        func tagName(_ t: CIFTokenizer.Token) -> String {
            let full = textOf(t).lowercased()
            if let dot = full.firstIndex(of: ".") { return String(full[full.index(after: dot)...]) }
            return full
        }

        scan: while true {
            let token: CIFTokenizer.Token
            if let p = pending { token = p; pending = nil } else { token = try tokenizer.next() }
            switch token.kind {
            case .end:
                break scan
            case .data:
                blocks += 1
                if blocks > 1 { break scan }
            case .save, .global, .stop:
                continue
            case .value:
                throw .malformedLine(file: file, line: token.line, expected: "a tag (_category.item), loop_ or data_", found: "the value '\(textOf(token).prefix(30))'")
            case .tag:
                let value = try tokenizer.next()
                guard value.kind == .value else {
                    throw .malformedLine(file: file, line: token.line, expected: "a value after \(textOf(token))", found: value.kind == .end ? "end of file" : "'\(textOf(value).prefix(30))'")
                }
                let cat = category(token)
                if cat == 1 { atomSite.tags.append(tagName(token)); atomSite.values.append(Value(value)); atomSite.line = token.line }
                else if cat == 2 { entity.tags.append(tagName(token)); entity.values.append(Value(value)); entity.line = token.line }
                else if cat == 3 { localMetric.tags.append(tagName(token)); localMetric.values.append(Value(value)) }
                else if cat == 4 { metric.tags.append(tagName(token)); metric.values.append(Value(value)) }
            case .loop:
                var tags: [CIFTokenizer.Token] = []
                var t = try tokenizer.next()
                while t.kind == .tag { tags.append(t); t = try tokenizer.next() }
                guard !tags.isEmpty else {
                    throw .malformedLine(file: file, line: token.line, expected: "column tags after loop_", found: t.kind == .end ? "end of file" : "'\(textOf(t).prefix(30))'")
                }
                let cat = category(tags[0])
                var table = Table()
                table.line = token.line
                var keep = [Bool](repeating: false, count: tags.count)
                if cat != 0 {
                    let names = tags.map(tagName)
                    for (k, name) in names.enumerated() where cat >= 2 || atomSiteItems.contains(name) {
                        keep[k] = true
                        table.tags.append(name)
                    }
                }
                var count = 0
                var column = 0
                let width = tags.count
                // Only model 1 wanted: atoms are kept until the model number first changes (models
                // are stored one after another); the rest of the loop is still tokenized and counted,
                // so that a broken loop anywhere is still an error.
                var modelColumn = -1
                var keptBeforeModel = 0
                if cat == 1 && !allModels, let m = tags.firstIndex(where: { tagName($0) == "pdbx_pdb_model_num" }) {
                    modelColumn = m
                    keptBeforeModel = keep[..<m].filter { $0 }.count
                }
                var firstModel: Range<Int>? = nil
                var storing = true
                let keptColumns = table.tags.count
                let loopStart = t.start
                // rows of plain values are split a line at a time (CIFTokenizer.plainLine)
                let lineCapacity = 256
                let lineStarts = UnsafeMutablePointer<Int32>.allocate(capacity: lineCapacity)
                let lineEnds = UnsafeMutablePointer<Int32>.allocate(capacity: lineCapacity)
                defer { lineStarts.deallocate(); lineEnds.deallocate() }
                valueLoop: while t.kind == .value {
                    if count == width && keptColumns > 0 {
                        // one row read: room for as many rows as the rest of the file could hold
                        // (pages never written cost nothing), instead of growing by copies
                        let rowBytes = max(t.start - loopStart, 1)
                        table.values.reserveCapacity(keptColumns * ((bytes.count - loopStart) / rowBytes + 1))
                    }
                    if column == modelColumn && storing {
                        if let first = firstModel {
                            if !bytes[first].elementsEqual(bytes[t.start..<t.end]) {
                                table.values.removeLast(keptBeforeModel)
                                storing = false
                            }
                        } else {
                            firstModel = t.start..<t.end
                        }
                    }
                    if !storing || cat == 0 {
                        // nothing more of this loop is kept: only its value count matters
                        let rest = try tokenizer.countValues()
                        count += 1 + rest.count
                        t = rest.next
                        break
                    }
                    if keep[column] { table.values.append(Value(t)) }
                    count += 1
                    column += 1
                    if column == width { column = 0 }
                    // the following plain lines of a kept table (the model column ends the fast path)
                    if cat != 0 && count > width {   // (after the first row: the table is reserved)
                        while let found = tokenizer.plainLine(starts: lineStarts, ends: lineEnds, capacity: lineCapacity) {
                            let line = tokenizer.line
                            for v in 0..<found {
                                if column == modelColumn, let first = firstModel,
                                   !bytes[first].elementsEqual(bytes[Int(lineStarts[v])..<Int(lineEnds[v])]) {
                                    // model 2 starts here: the rest of the loop is only counted
                                    table.values.removeLast(keptBeforeModel)
                                    storing = false
                                    let rest = try tokenizer.countValues()
                                    count += found - v + rest.count
                                    t = rest.next
                                    break valueLoop
                                }
                                if keep[column] { table.values.append(Value(start: lineStarts[v], end: lineEnds[v], line: line)) }
                                count += 1
                                column += 1
                                if column == width { column = 0 }
                            }
                        }
                    }
                    t = try tokenizer.next()
                }
                pending = t
                if count % tags.count != 0 {
                    throw .malformedLine(file: file, line: token.line, expected: "the loop_ of \(textOf(tags[0]).split(separator: ".").first ?? "") to hold whole rows of its \(tags.count) columns", found: "\(count) values (\(count / tags.count) full rows and \(count % tags.count) left over; the loop ends before line \(t.line))")
                }
                switch cat {
                case 1: atomSite = table
                case 2: entity = table
                case 3: localMetric = table
                case 4: metric = table
                default: break
                }
            }
        }
        guard blocks > 0 else {
            throw .invalidInput(file: file, expected: "an mmCIF data_ block", found: "no data_ line")
        }
        guard !atomSite.tags.isEmpty else {
            throw .noProteinChains(file: file, detail: "no _atom_site table")
        }
        let confidence = residueConfidence(localMetric, metric, bytes: bytes)
        var model = try build(atomSite, entity, confidence: confidence, tokenizer: tokenizer, allModels: allModels)
        model.isPredicted = modelCIF
        return model
    }

    /// A residue of ModelCIF's per-residue metrics: (label_asym_id, label_seq_id).
    struct ResidueKey: Hashable { var asym: UInt32; var seq: Int32 }

    /// The local pLDDT of each residue from `_ma_qa_metric_local` (the rows of metrics whose
    /// `_ma_qa_metric` mode is local and type pLDDT; every row when that table is missing), on the
    /// 0–100 scale (a type `pLDDT in [0,1]` is scaled); empty when the file has none.
    static func residueConfidence(_ local: Table, _ metric: Table, bytes: UnsafeBufferPointer<UInt8>) -> [ResidueKey: Float] {
        func text(_ v: Value) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[v.start..<v.end]), as: UTF8.self) }
        guard local.rows > 0, let ca = local.column("label_asym_id"), let cs = local.column("label_seq_id"),
              let cv = local.column("metric_value") else { return [:] }
        var scale: [String: Float]? = nil   // metric id -> factor to 0–100
        if metric.rows > 0, let id = metric.column("id"), let type = metric.column("type") {
            let mode = metric.column("mode")
            var found: [String: Float] = [:]
            for r in 0..<metric.rows {
                let row = r * metric.tags.count
                let kind = text(metric.values[row + type]).lowercased()
                guard kind.hasPrefix("plddt"), mode.map({ text(metric.values[row + $0]).lowercased() == "local" }) ?? true else { continue }
                found[text(metric.values[row + id])] = kind.contains("[0,1]") ? 100 : 1
            }
            scale = found
        }
        let cm = local.column("metric_id")
        var result: [ResidueKey: Float] = [:]
        for r in 0..<local.rows {
            let row = r * local.tags.count
            var factor: Float = 1
            if let scale {
                guard let cm, let f = scale[text(local.values[row + cm])] else { continue }
                factor = f
            }
            let a = local.values[row + ca], sv = local.values[row + cs], v = local.values[row + cv]
            guard let seq = PDBReader.parseInteger(bytes, sv.start, sv.end), let value = CIFNumber.parse(bytes, v.start, v.end),
                  value.isFinite else { continue }
            result[ResidueKey(asym: PackedName(trimming: bytes, a.start, a.end).raw, seq: seq)] = Float(value) * factor
        }
        return result
    }

    static func build(_ t: Table, _ entity: Table, confidence: [ResidueKey: Float] = [:], tokenizer: CIFTokenizer,
                      allModels: Bool) throws(StructureError) -> StructureModel {
        let file = tokenizer.file
        let bytes = tokenizer.bytes
        func text(_ v: Value) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: bytes[v.start..<v.end]), as: UTF8.self)
        }
        func col(_ names: String...) -> Int? {
            for n in names { if let c = t.column(n) { return c } }
            return nil
        }
        guard let cx = col("cartn_x"), let cy = col("cartn_y"), let cz = col("cartn_z") else {
            throw .malformedLine(file: file, line: t.line, expected: "_atom_site columns Cartn_x, Cartn_y and Cartn_z", found: "columns \(t.tags.joined(separator: ", "))")
        }
        guard let cAtom = col("label_atom_id", "auth_atom_id") else {
            throw .malformedLine(file: file, line: t.line, expected: "an _atom_site.label_atom_id or auth_atom_id column", found: "neither")
        }
        let cGroup = col("group_pdb")
        let cChain = col("auth_asym_id", "label_asym_id")
        let cSeq = col("auth_seq_id", "label_seq_id")
        let cIns = col("pdbx_pdb_ins_code")
        let cComp = col("label_comp_id", "auth_comp_id")
        let cAlt = col("label_alt_id")
        let cOcc = col("occupancy")
        let cModel = col("pdbx_pdb_model_num")
        let cEntity = col("label_entity_id")
        let cBFactor = col("b_iso_or_equiv")
        let cLabelAsym = t.column("label_asym_id"), cLabelSeq = t.column("label_seq_id")
        let useConfidence = !confidence.isEmpty && cLabelAsym != nil && cLabelSeq != nil

        var entityTypes: [String: EntityType] = [:]
        if let ei = entity.column("id"), let et = entity.column("type") {
            for r in 0..<entity.rows {
                let id = text(entity.values[r * entity.tags.count + ei])
                let type = text(entity.values[r * entity.tags.count + et]).lowercased()
                switch type {
                case "polymer": entityTypes[id] = .polymer
                case "water": entityTypes[id] = .water
                case "branched": entityTypes[id] = .branched
                default: entityTypes[id] = .nonPolymer
                }
            }
        }
        let useEntities = !entityTypes.isEmpty && cEntity != nil
        var entityCache: [UInt64: EntityType] = [:]

        var builder = StructureBuilder(expectedAtoms: t.rows)
        let width = t.tags.count
        var modelsSeen = 0
        var currentModel: Int32 = .min
        var firstModelDone = false
        @inline(__always) func isNull(_ v: Value) -> Bool {
            !v.quoted && v.end - v.start == 1 && (bytes[v.start] == 0x3F || bytes[v.start] == 0x2E)
        }
        for r in 0..<t.rows {
            let row = r * width
            if let cm = cModel {
                let v = t.values[row + cm]
                let m = PDBReader.parseInteger(bytes, v.start, v.end) ?? 1
                if m != currentModel {
                    if builder.hasModel && !allModels { firstModelDone = true; break }
                    currentModel = m
                    modelsSeen += 1
                    builder.beginModel(Int(m))
                }
            } else if !builder.hasModel {
                modelsSeen = 1
                builder.beginModel(1)
            }
            let chainToken = cChain.map { t.values[row + $0] }
            let chain = chainToken.map { isNull($0) ? PackedName(raw: 0) : PackedName(trimming: bytes, $0.start, $0.end) } ?? PackedName(raw: 0)
            builder.selectChain(chain)
            var number: Int32 = 0
            if let cs = cSeq {
                let v = t.values[row + cs]
                if !isNull(v) {
                    guard let n = PDBReader.parseInteger(bytes, v.start, v.end) else {
                        throw .malformedLine(file: file, line: v.line, expected: "an integer residue number (\(t.tags[cs]))", found: "'\(text(v).prefix(20))'")
                    }
                    number = n
                } else if let label = t.column("label_seq_id"), label != cs, !isNull(t.values[row + label]) {
                    let lv = t.values[row + label]
                    number = PDBReader.parseInteger(bytes, lv.start, lv.end) ?? 0
                }
            }
            var icode: UInt8 = 0x20
            if let ci = cIns {
                let v = t.values[row + ci]
                if !isNull(v) && v.end > v.start { icode = bytes[v.start] }
            }
            let name = cComp.map { PackedName(trimming: bytes, t.values[row + $0].start, t.values[row + $0].end) } ?? PackedName(raw: 0)
            var het = false, otherRecord = false
            if let cg = cGroup {
                let v = t.values[row + cg]
                // ATOM or HETATM (as gemmi: by the first letter); anything else is neither
                let first = v.end > v.start ? bytes[v.start] | 0x20 : 0
                het = first == 0x68
                otherRecord = first != 0x68 && first != 0x61
            }
            var type = EntityType.unknown
            if useEntities, let ce = cEntity {
                let v = t.values[row + ce]
                var key: UInt64 = 0
                if v.end - v.start <= 7 {
                    for k in v.start..<v.end { key = key << 8 | UInt64(bytes[k]) }
                    key |= UInt64(v.end - v.start) << 56
                    if let cached = entityCache[key] { type = cached }
                    else {
                        type = entityTypes[text(v)] ?? .unknown
                        entityCache[key] = type
                    }
                } else {
                    type = entityTypes[text(v)] ?? .unknown
                }
            }
            builder.selectResidue(number: number, icode: icode, name: name, het: het, entity: type, otherRecord: otherRecord)
            let vx = t.values[row + cx], vy = t.values[row + cy], vz = t.values[row + cz]
            guard let x = CIFNumber.parse(bytes, vx.start, vx.end),
                  let y = CIFNumber.parse(bytes, vy.start, vy.end),
                  let z = CIFNumber.parse(bytes, vz.start, vz.end)
            else {
                throw .malformedLine(file: file, line: vx.line, expected: "numeric Cartn_x, Cartn_y, Cartn_z", found: "'\(text(vx))' '\(text(vy))' '\(text(vz))'")
            }
            var altloc: UInt8 = 0
            if let ca = cAlt {
                let v = t.values[row + ca]
                if !isNull(v) && v.end > v.start { altloc = bytes[v.start] }
            }
            var occupancy: Float = 1
            if let co = cOcc {
                let v = t.values[row + co]
                if let o = CIFNumber.parse(bytes, v.start, v.end) { occupancy = Float(o) }
            }
            var bFactor = Float.nan
            if useConfidence, let la = cLabelAsym, let ls = cLabelSeq {
                let a = t.values[row + la], sv = t.values[row + ls]
                if let seq = PDBReader.parseInteger(bytes, sv.start, sv.end) {
                    bFactor = confidence[ResidueKey(asym: PackedName(trimming: bytes, a.start, a.end).raw, seq: seq)] ?? .nan
                }
            } else if let cb = cBFactor {
                let v = t.values[row + cb]
                if let b = CIFNumber.parse(bytes, v.start, v.end) { bFactor = Float(b) }
            }
            let av = t.values[row + cAtom]
            builder.addAtom(name: PackedName(trimming: bytes, av.start, av.end), altloc: altloc, occupancy: occupancy, bFactor: bFactor,
                            x: x, y: y, z: z, line: vx.line)
        }
        _ = firstModelDone
        var model = builder.build(modelCountInFile: modelsSeen)
        model.entitiesFromFile = useEntities
        if useConfidence { model.confidenceSource = .modelCIF }
        PolymerHeuristics.addEntityTypes(&model)
        return model
    }
}
