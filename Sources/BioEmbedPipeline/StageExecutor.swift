import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Dispatch
import Foundation

/// Runs one stage over a list of items into one collection file: the engine under `bioembed run`
/// and under every per-stage command.
///
/// **Resumable by content.** Each input gets a key: SHA-256 of the stage name, version, parameters
/// and its input files' content hashes (cached by path, size and mtime). Work is committed in
/// parts (`.bioembed/parts/<output>/part-NNNNN.h5`, each written under a temporary name and
/// renamed, then its done record `part-NNNNN.json`); a part without its record does not count.
/// A fresh run also writes each record into the output as it goes (the parts are then only what a
/// resumed run would use); otherwise, when all inputs are done, the parts (and, with `--resume`,
/// the previous output for inputs whose key is unchanged) are merged in input order into the output, whose done record
/// `<output>.done.json` then lists every input with its key. `--resume` skips inputs whose key is
/// done and redoes only what changed or failed; a run killed at any moment loses at most the
/// part in progress.
///
/// Items are processed in batches with at most `jobs` in flight; results are written in input
/// order by this thread alone (the only HDF5 writer), so memory stays bounded by the batch and
/// the output does not depend on `jobs`.
public enum StageExecutor {
    // MARK: Named constants

    /// Rows of one source copied per read by the merge (a part holds its items in input order, so
    /// consecutive items come from one source): one read per field and block, not per item.
    static let mergeBlockRows = 512
    /// How many finished items the workers may hold ahead of the writer: enough that no worker
    /// waits for a slow item's neighbour to be written, few enough that memory stays bounded.
    static func lookahead(jobs: Int) -> Int { max(16, jobs * 4) }
    /// Sources the merge keeps open at once (they are met in input order, so two suffice).
    static let openSources = 2

    // MARK: Types

    private struct Outcome: Sendable {
        var result: Result<[StageOutput], any Error>
    }

    /// Where an input's results are: a source file (the previous output or a part) and its record.
    private struct Cached {
        var source: Int
        var item: DoneRecord.Item
    }

    /// The files of one output: the output, its done record, its parts.
    private struct Layout {
        let output: String
        let outputName: String
        let state: String
        let partsDirectory: String
        let recordPath: String

        init(output: String) {
            self.output = output
            let folder = (output as NSString).deletingLastPathComponent
            outputName = (output as NSString).lastPathComponent
            state = PathText.joined(folder.isEmpty ? "." : folder, ".bioembed")
            partsDirectory = state + "/parts/" + outputName
            recordPath = output + ".done.json"
        }
    }

    /// What earlier runs already did (`--resume`): the files holding done items (the previous
    /// output first, then the committed parts), which input is where, and what is left to do.
    private struct ResumePlan {
        var sources: [String] = []
        var cached: [String: Cached] = [:]
        var previousRecord: DoneRecord?
        var nextPart = 0
        var todo: [ManifestItem] = []

        init(stage: AnyStage, items: [ManifestItem], keys: [String: String], layout: Layout, resume: Bool) {
            if resume, let record = DoneRecord.load(layout.recordPath), record.stage == stage.name,
               FileManager.default.fileExists(atPath: layout.output) {
                previousRecord = record
                sources.append(layout.output)
                for item in record.items where item.status == "done" && keys[item.id] == item.key {
                    cached[item.id] = Cached(source: 0, item: item)
                }
            }
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: layout.partsDirectory)) ?? []).sorted()
            where name.hasPrefix("part-") && name.hasSuffix(".json") {
                let number = Int(name.dropFirst(5).dropLast(5)) ?? 0
                nextPart = max(nextPart, number + 1)
                guard let record = DoneRecord.load(layout.partsDirectory + "/" + name), record.stage == stage.name,
                      FileManager.default.fileExists(atPath: layout.partsDirectory + "/" + record.file) else { continue }
                sources.append(layout.partsDirectory + "/" + record.file)
                for item in record.items where item.status == "done" && keys[item.id] == item.key {
                    cached[item.id] = Cached(source: sources.count - 1, item: item)
                }
            }
            let cached = self.cached
            todo = items.filter { cached[$0.id] == nil }
        }

        /// Nothing changed: the previous output, as it is, is the answer.
        func previousOutputIsTheAnswer(for items: [ManifestItem]) -> DoneRecord? {
            guard todo.isEmpty, let previousRecord, previousRecord.items.map(\.id) == items.map(\.id),
                  items.allSatisfy({ cached[$0.id]?.source == 0 }) else { return nil }
            return previousRecord
        }

        /// Adds a committed part of this run.
        mutating func add(part path: String, items: [DoneRecord.Item]) {
            sources.append(path)
            for entry in items where entry.status == "done" { cached[entry.id] = Cached(source: sources.count - 1, item: entry) }
        }
    }

    /// The output file being written and its collection.
    private struct Output {
        var file: HDF5File
        /// Nil when the collection was copied whole from a part.
        var writer: CollectionWriter?
        var group: HDF5Group
        var errors: ErrorLog

        /// Creates the output (under its temporary name) with the stage's collection: new, or
        /// `wholePart`'s collection copied as stored (H5Ocopy, no inflate/deflate).
        init(stage: AnyStage, path: String, command: String, copyingWholePart wholePart: String?) throws {
            file = try HDF5File.create(path)
            try file.writeRootAttributes(schema: BioEmbedVersion.schema(of: stage.collection), command: command)
            if let wholePart {
                let partFile = try HDF5File.open(wholePart)
                defer { partFile.close() }
                try file.root.copy(stage.collection, from: partFile.root)
                group = try file.root.group(stage.collection)
                writer = nil
            } else {
                writer = try CollectionWriter(in: file.root, name: stage.collection, fields: stage.fields)
                group = writer!.group
            }
            for (key, value) in stage.collectionAttributes {
                // "graph/radius/cutoff": an attribute of a subgroup the fields created
                if let slash = key.lastIndex(of: "/"), group.contains(String(key[..<slash])) {
                    try group.group(String(key[..<slash])).setAttribute(String(key[key.index(after: slash)...]), value)
                } else {
                    try group.setAttribute(key, value)
                }
            }
            errors = ErrorLog(file: file)
        }
    }

    /// What the work loop did: every input it ran, with its record, and the output when it was
    /// written as the work went.
    private struct WorkDone {
        var thisRun: [String: DoneRecord.Item] = [:]
        var direct: Output?
        /// The run's only part was written compressed, to become the output as it is.
        var wholeOutputPart = false
    }

    // MARK: Running a stage

    /// Runs one stage over `items` into the collection file `output` (replaced when complete).
    ///
    /// Configuration problems throw before anything is written; item failures go to `/errors`.
    public static func execute(_ stage: AnyStage, items inputs: [ManifestItem], output: String, options: RunOptions) throws -> StageSummary {
        try execute(stage, items: inputs, output: output, options: options, keepingOpen: false).0
    }

    /// As `execute(_:items:output:options:)`; with `keepingOpen`, a new output is returned open
    /// and uncommitted (with its parts kept) for the caller to add to and commit. No output is
    /// returned when the previous one is still the answer.
    static func execute(
        _ stage: AnyStage, items inputs: [ManifestItem], output: String, options: RunOptions, keepingOpen: Bool
    ) throws -> (StageSummary, PendingOutput?) {
        let started = Date()
        let startedUTC = Timestamp.nowUTC()
        // Inputs the stage cuts into several work units (large SDF files) are run unit by unit.
        var items: [ManifestItem] = []
        var inputOfUnit: [Int] = []
        for (k, input) in inputs.enumerated() {
            let units = stage.workUnits(for: input)
            items += units
            inputOfUnit += Array(repeating: k, count: units.count)
        }
        let layout = Layout(output: output)
        removeStaleTemporaries(of: output)
        if !options.resume {
            try? FileManager.default.removeItem(atPath: layout.partsDirectory)
            try? FileManager.default.removeItem(atPath: layout.recordPath)
        }
        try? FileManager.default.createDirectory(atPath: layout.partsDirectory, withIntermediateDirectories: true)
        removeStaleTemporaries(inFolder: layout.partsDirectory)

        // 1. Content keys (input hashes are read in parallel, cached by path, size and mtime).
        try? FileManager.default.removeItem(atPath: layout.state + "/hashes.json")   // the JSON cache of earlier versions
        let hashes = FileHashCache(location: layout.state + "/hashes.txt", hasher: FileDigest.sha256(ofFile:))
        let keyed = keys(for: items, inputOfUnit: inputOfUnit, stage: stage, hashes: hashes, jobs: options.jobs)
        hashes.save()
        Diagnostics.debug("\(stage.name): \(items.count) inputs keyed \(String(format: "%.2f", Date().timeIntervalSince(started))) s after the start")

        // 2. What earlier runs already did.
        var plan = ResumePlan(stage: stage, items: items, keys: keyed.keys, layout: layout, resume: options.resume)
        if let previous = plan.previousOutputIsTheAnswer(for: items) {
            try? FileManager.default.removeItem(atPath: layout.partsDirectory)
            let kept = previous.items.reduce(0) { $0 + ($1.outputs?.count ?? 0) }
            let failures = previous.items.flatMap { $0.failures ?? [] }
            return (StageSummary(
                stage: stage.name, output: output, done: 0, failed: failures.count, seconds: Date().timeIntervalSince(started),
                failures: failures.prefix(20).map { ($0.id, $0.message) }, cached: kept, wroteOutput: false), nil)
        }
        if !plan.cached.isEmpty { Diagnostics.info("\(stage.name): \(plan.cached.count) of \(items.count) inputs already done, \(plan.todo.count) to do") }

        // 3. The work, committed part by part.
        let work = try runWork(stage, plan: &plan, keys: keyed.keys, layout: layout, options: options)
        let mergeStarted = Date()
        Diagnostics.debug("\(stage.name): work \(String(format: "%.2f", mergeStarted.timeIntervalSince(started))) s")

        // 4. Merge, in input order, into the output (unless it was written as the work went).
        let (made, finalItems) = try merge(stage, items: items, plan: plan, work: work, output: output, options: options)
        let written = try made.writer?.count ?? (made.group.dataset("ids").shape.first ?? 0)
        // Items computed by this run; the rest of `written` came from earlier runs (--resume).
        let newlyDone = work.thisRun.values.reduce(0) { $0 + ($1.outputs?.count ?? 0) }
        if written > 0 {
            for (name, data) in try stage.collectionArrays().sorted(by: { $0.key < $1.key }) {
                switch data {
                case let .int64(v): _ = try made.group.write(name, v, shape: [v.count])
                case let .float64(v): _ = try made.group.write(name, v, shape: [v.count])
                case let .int32(v): _ = try made.group.write(name, v, shape: [v.count])
                case let .float32(v): _ = try made.group.write(name, v, shape: [v.count])
                case let .uint8(v): _ = try made.group.write(name, v, shape: [v.count])
                case let .strings(v): _ = try made.group.writeStrings(name, v)
                }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        try made.file.writeProvenance(Provenance(
            stage: stage.name, version: stage.version, parameters: stage.parametersJSON, inputs: keyed.inputs,
            startedUTC: startedUTC, seconds: seconds))
        let pending = PendingOutput(
            file: made.file, record: DoneRecord(stage: stage.name, file: layout.outputName, items: finalItems), recordPath: layout.recordPath,
            partsDirectory: layout.partsDirectory)
        if !keepingOpen { try pending.commit() }
        Diagnostics.debug("\(stage.name): merge into \(output) \(String(format: "%.2f", Date().timeIntervalSince(mergeStarted))) s")
        let summary = StageSummary(
            stage: stage.name, output: output, done: newlyDone, failed: made.errors.count, seconds: seconds,
            failures: made.errors.firstFailures, cached: written - newlyDone)
        return (summary, keepingOpen ? pending : nil)
    }

    /// Runs every input of `plan.todo`: `jobs` workers side by side, in input order, at most
    /// `lookahead(jobs:)` ahead of this thread, which appends each finished input to the current
    /// part (and, for a fresh run of several parts, to the output directly) in input order, so
    /// writing overlaps the work and no batch waits for its slowest item. Parts are committed as
    /// they fill (`checkpointItems` inputs or `PartWriter`'s time limit) and added to `plan`.
    private static func runWork(_ stage: AnyStage, plan: inout ResumePlan, keys: [String: String], layout: Layout, options: RunOptions) throws -> WorkDone {
        let todo = plan.todo
        var work = WorkDone()
        // One BLAS thread per item, whatever --jobs and --threads say: OpenBLAS's results depend on
        // its thread count with some kernels (its Zen/Haswell dgemm differs in the last bits between
        // one and two threads), and an output must not depend on how the run was split. The cores
        // go to items side by side instead (--jobs).
        let blasThreads = BLASRuntime.threads
        BLASRuntime.setThreads(1)
        defer { BLASRuntime.setThreads(blasThreads) }
        let progress = ProgressReporter(label: stage.name, total: todo.count, mode: options.progress)
        // One input per core, or (stages that split their inputs' records themselves) one input at a
        // time with every core.
        let within = stage.parallelizesWithinItems && options.jobs > 1
        let context = StageContext(threads: within ? options.jobs : (options.jobs > 1 ? 1 : (options.threads ?? 1)))
        let itemWorkers = within ? 1 : options.jobs
        // A fresh run of several parts writes the output as it goes (each record also goes to its
        // part, which is what a resumed run would use): the output is then complete when the last
        // part is, instead of being merged from the parts after the work.
        if plan.cached.isEmpty && todo.count > options.checkpointItems {
            work.direct = try Output(stage: stage, path: layout.output, command: options.command, copyingWholePart: nil)
        }
        let pipeline = OrderedPipeline<Outcome>(count: todo.count, window: within ? 2 : lookahead(jobs: options.jobs))
        let workers = DispatchGroup()
        if options.jobs > 1 {
            let queue = DispatchQueue(label: "bioembed.items", attributes: .concurrent)
            for _ in 0..<min(itemWorkers, todo.count) {
                queue.async(group: workers) {
                    while let index = pipeline.claim() {
                        pipeline.put(index, Outcome(result: Result { try stage.outputs(todo[index], context: context) }))
                    }
                }
            }
        }
        defer {
            pipeline.cancel()
            workers.wait()
        }
        var part: PartWriter?
        for index in todo.indices {
            let item = todo[index]
            let outcome = options.jobs > 1
                ? pipeline.take(index)
                : Outcome(result: Result { try stage.outputs(item, context: context) })
            if part == nil {
                // A fresh run that fits one part: that part becomes the output (copied whole), so it
                // is written compressed, on this thread while the workers go on.
                let whole = index == 0 && plan.cached.isEmpty && todo.count <= options.checkpointItems
                part = try PartWriter(stage: stage, directory: layout.partsDirectory, number: plan.nextPart, maxItems: options.checkpointItems, compressed: whole)
                work.wholeOutputPart = whole
                plan.nextPart += 1
            }
            let entry = try record(outcome, of: item, key: keys[item.id]!, stage: stage, part: part!, direct: work.direct)
            part!.items.append(entry)
            work.thisRun[item.id] = entry
            if let direct = work.direct { try logErrors(of: entry, stage: stage.name, into: direct.errors) }
            progress.advance(failed: entry.status == "failed" || entry.failures != nil)
            if part!.isDue || index == todo.count - 1 {
                plan.add(part: try part!.commit(), items: part!.items)
                part = nil
                MemoryTuning.releaseFreeMemory()  // resident memory stays that of the live data
            }
        }
        progress.finish()
        return work
    }

    /// Appends an input's records to the part (and the direct output); returns its done-record entry.
    private static func record(
        _ outcome: Outcome, of item: ManifestItem, key: String, stage: AnyStage, part: PartWriter, direct: Output?
    ) throws -> DoneRecord.Item {
        let entry: DoneRecord.Item
        switch outcome.result {
        case let .success(outputs):
            var produced: [String] = []
            var failures: [DoneRecord.Failure] = []
            for output in outputs {
                switch output {
                case let .record(record):
                    do {
                        try part.writer.append(record)
                        produced.append(record.id)
                    } catch let error where error.isStorageFull {
                        throw error
                    } catch {
                        failures.append(.init(id: record.id, category: ErrorLog.Category.crash.rawValue,
                                              message: "stage '\(stage.name)' produced an invalid record: \(error)"))
                        continue
                    }
                    try direct?.writer?.append(record)
                case let .failure(id, message):
                    failures.append(.init(id: id, category: ErrorLog.Category.badInput.rawValue, message: message))
                }
            }
            entry = DoneRecord.Item(id: item.id, key: key, status: "done", outputs: produced, failures: failures.isEmpty ? nil : failures)
        case let .failure(error):
            entry = DoneRecord.Item(id: item.id, key: key, status: "failed", category: category(of: error).rawValue, message: message(for: error, item: item))
        }
        for failure in entry.failures ?? [] { Diagnostics.debug("\(failure.id): \(failure.message)") }
        if let message = entry.message { Diagnostics.debug("\(item.id): \(message)") }
        return entry
    }

    /// Makes the output in input order: the direct output as it is, the run's one part copied whole
    /// (a fresh run that fit one part), or the rows of every input copied from where they are
    /// (the previous output or a part), in blocks of up to `mergeBlockRows` consecutive rows.
    /// Returns the output (not yet committed) and every input's done-record entry.
    private static func merge(
        _ stage: AnyStage, items: [ManifestItem], plan: ResumePlan, work: WorkDone, output: String, options: RunOptions
    ) throws -> (Output, [DoneRecord.Item]) {
        let copyWhole = work.wholeOutputPart && plan.sources.count == 1 && work.thisRun.count == items.count
        let made = try work.direct ?? Output(stage: stage, path: output, command: options.command, copyingWholePart: copyWhole ? plan.sources[0] : nil)
        var readers: [Int: (reader: CollectionReader, rows: [String: Int])] = [:]
        var readerOrder: [Int] = []
        var finalItems: [DoneRecord.Item] = []
        var run: (source: Int, rows: Range<Int>)?
        func flushRun() throws {
            if let current = run, let reader = readers[current.source]?.reader {
                try made.writer?.append(contentsOf: reader, items: current.rows)
            }
            run = nil
        }
        for item in items {
            if work.direct != nil, let entry = work.thisRun[item.id] {
                finalItems.append(entry)
            } else if let hit = plan.cached[item.id], copyWhole {
                try logErrors(of: hit.item, stage: stage.name, into: made.errors)
                finalItems.append(hit.item)
            } else if let hit = plan.cached[item.id] {
                if readers[hit.source] == nil {
                    // Sources are met in input order (parts are written in that order): keep few open,
                    // so memory does not grow with the number of parts.
                    try flushRun()
                    if readers.count >= openSources, let oldest = readerOrder.first {
                        readers[oldest] = nil
                        readerOrder.removeFirst()
                    }
                    readerOrder.append(hit.source)
                    let reader = try CollectionReader(try HDF5File.open(plan.sources[hit.source]).root.group(stage.collection))
                    readers[hit.source] = (reader, Dictionary(reader.ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }))
                }
                let rows = readers[hit.source]!.rows
                for id in hit.item.outputs ?? [] {
                    guard let row = rows[id] else {
                        throw HDF5Error.missingObject(file: plan.sources[hit.source], object: "/\(stage.collection) item '\(id)' (listed in its done record)")
                    }
                    if let current = run, current.source == hit.source, current.rows.upperBound == row, current.rows.count < mergeBlockRows {
                        run = (hit.source, current.rows.lowerBound..<(row + 1))
                    } else {
                        try flushRun()
                        run = (hit.source, row..<(row + 1))
                    }
                }
                try logErrors(of: hit.item, stage: stage.name, into: made.errors)
                finalItems.append(hit.item)
            } else if let entry = work.thisRun[item.id] {
                try logErrors(of: entry, stage: stage.name, into: made.errors)
                finalItems.append(entry)
            }
        }
        try flushRun()
        readers.removeAll()
        try made.writer?.finish()
        return (made, finalItems)
    }

    /// Content keys and provenance inputs of every item.
    private static func keys(for items: [ManifestItem], inputOfUnit: [Int], stage: AnyStage, hashes: FileHashCache, jobs: Int)
        -> (keys: [String: String], inputs: [Provenance.Input])
    {
        let slots = ResultSlots<(String, [Provenance.Input])>(count: items.count)
        // the files of path parameters, hashed once: an atlas or a vocabulary changed in place redoes every item
        var parameterHashes: [String: String] = [:]
        for (role, path) in stage.parameterFiles {
            if let digest = try? hashes.sha256(of: path) { parameterHashes["parameter " + role] = digest }
        }
        let shared = parameterHashes
        let work: @Sendable (Int) -> Void = { index in
            let item = items[index]
            var inputHashes = shared
            var inputs: [Provenance.Input] = []
            for (column, path) in stage.inputFiles(for: item).sorted(by: { $0.key < $1.key }) {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                if column == "path", let member = TarArchive.member(of: item) {
                    // a tar member is keyed by its own bytes: changing one member redoes only it
                    guard let digest = try? FileDigest.sha256(ofFile: path, range: (member.offset, member.size)) else { continue }
                    inputHashes[column] = digest
                    inputs.append(Provenance.Input(path: "\(path)/\(member.name)", sha256: digest))
                    continue
                }
                guard let digest = try? hashes.sha256(of: path) else { continue }
                inputHashes[column] = digest
                inputs.append(Provenance.Input(path: path, sha256: digest))
            }
            let key = DoneRecord.key(stage: stage.name, version: stage.version, parameters: stage.parametersJSON, item: item, inputHashes: inputHashes)
            slots.set(index, (key, inputs))
        }
        DispatchQueue.concurrentPerform(iterations: items.count) { work($0) }
        var keys: [String: String] = [:]
        var inputs: [Provenance.Input] = []
        var listed: (input: Int, paths: Set<String>) = (-1, [])
        for (unit, (item, (key, itemInputs))) in zip(items, slots.values).enumerated() {
            keys[item.id] = key
            // the units of one input list its files once
            if inputOfUnit[unit] != listed.input { listed = (inputOfUnit[unit], []) }
            for input in itemInputs where listed.paths.insert(input.path).inserted { inputs.append(input) }
        }
        return (keys, inputs)
    }

    /// Writes an input's failures to `/errors`: the outputs it could not make, or the input itself
    /// when it failed as a whole.
    private static func logErrors(of entry: DoneRecord.Item, stage: String, into errors: ErrorLog) throws {
        for failure in entry.failures ?? [] {
            try errors.append(id: failure.id, stage: stage, category: ErrorLog.Category(rawValue: failure.category) ?? .badInput, message: failure.message)
        }
        if entry.status == "failed" {
            try errors.append(id: entry.id, stage: stage, category: ErrorLog.Category(rawValue: entry.category ?? "") ?? .crash, message: entry.message ?? "failed")
        }
    }

    /// Errors from reading inputs are the input's fault; anything else is a crash of the stage.
    static func category(of error: any Error) -> ErrorLog.Category {
        error is any BioEmbedError ? .badInput : .crash
    }

    /// The error's message, prefixed with the item's file when the message does not name it.
    static func message(for error: any Error, item: ManifestItem) -> String {
        let text = (error as? any BioEmbedError)?.description ?? "\(error)"
        let file = item.path() ?? item.id
        return text.contains(file) ? text : "\(file): \(text)"
    }

    /// Removes temporary files of killed runs in a folder (parts).
    private static func removeStaleTemporaries(inFolder folder: String) {
        removeStaleTemporaries(in: folder) { $0.contains(".tmp-") }
    }

    /// Removes `<output>.tmp-<pid>-<n>` files left by killed runs.
    static func removeStaleTemporaries(of output: String) {
        let folder = (output as NSString).deletingLastPathComponent
        let prefix = (output as NSString).lastPathComponent + ".tmp-"
        removeStaleTemporaries(in: folder.isEmpty ? "." : folder) { $0.hasPrefix(prefix) }
    }

    /// Removes the `*.tmp-<pid>[-<n>]` files of `folder` that `matches` selects, except those of a
    /// live process on this machine (another run writing them).
    private static func removeStaleTemporaries(in folder: String, matching matches: (String) -> Bool) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where matches(name) {
            if let pid = Int32(name.components(separatedBy: ".tmp-").last?.split(separator: "-").first ?? ""), pid != getpid(), kill(pid, 0) == 0 {
                continue
            }
            try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name))
        }
    }
}
