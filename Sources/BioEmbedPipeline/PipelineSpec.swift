import BioEmbedCore
import BioEmbedNeuro
import Foundation
import Yams

/// A pipeline file (`pipelines/*.yaml`): its manifest, output folder and stages in order.
///
/// ```yaml
/// name: demo
/// manifest: ../examples/manifest.tsv    # relative paths resolve against this file's folder
/// output_dir: ../out/demo
/// stages:
///   - stage: checksum                   # a name from `bioembed run --list-stages`
///     manifest: other.tsv               # optional: this stage's own manifest
///     output: files.h5                  # default: <stage>.h5 (collection stages: their input)
///   - stage: some_collection_stage      # reads a collection written by an earlier stage
///     input: files.h5                   # default: the previous stage's output
///     with: {block_size: 65536}         # the stage's parameters (CLI flag names, snake_case)
/// ```
/// Unknown keys anywhere are errors that name the key and its line.
public struct PipelineSpec: Sendable {
    public struct StageEntry: Sendable {
        public var stage: String
        /// For a collection stage: the file it reads (default: the previous stage's output).
        public var input: String?
        /// The file written; for a collection stage the default is its input (groups are added to it).
        public var output: String
        /// This item stage's own manifest (resolved), when it is not the pipeline's.
        public var manifest: String? = nil
        /// An fMRIPrep folder whose runs replace the manifest (`bids:`; the runner writes them as a
        /// manifest in the run folder, so shards and the merge see one list).
        public var bids: BIDSDerivatives? = nil
        /// A file of input paths, one per line (`input_list:`), replacing the manifest the same way.
        public var inputList: String? = nil
        /// The `with:` mapping re-serialised as YAML ("{}" when absent), decoded by the stage.
        public var parametersYAML: String
        /// Line of the `stage:` entry (for messages).
        public var line: Int
        /// Each parameter key of `with:` and the line it is on.
        public var parameterLines: [String: Int]
        /// SLURM resources of this stage's jobs (`resources:`), over the pipeline's `slurm:`.
        public var resources: [String: String] = [:]
    }

    /// SLURM resources for every stage (`slurm:` mapping: partition, time, mem, cpus_per_task,
    /// account, qos, throttle, extra).
    public var slurm: [String: String] = [:]
    /// Extra `#SBATCH` lines from `slurm: {extra: [...]}`.
    public var slurmExtra: [String] = []

    static let resourceKeys = ["partition", "time", "mem", "cpus_per_task", "account", "qos", "throttle", "extra"]

    public var file: String
    public var name: String
    public var manifest: String
    public var outputDirectory: String
    public var stages: [StageEntry]

    static let topLevelKeys = ["name", "description", "manifest", "output_dir", "stages", "slurm"]
    static let stageKeys = ["stage", "manifest", "bids", "input_list", "input", "output", "with", "resources"]
    static let bidsKeys = ["root", "space", "task", "desc", "participant", "session"]

    /// A stage's `bids:` mapping (`root` required; `participant`/`session` a value or a list).
    static func bidsQuery(_ node: Node, file: String, resolve: (String) -> String) throws(PipelineError) -> BIDSDerivatives {
        let line = node.mark?.line ?? 1
        guard let mapping = node.mapping else {
            throw PipelineError.invalidYAML(file: file, line: line, problem: "'bids' must be a mapping with 'root' (an fMRIPrep folder) and optional space, task, desc, participant, session")
        }
        try checkKeys(mapping, allowed: bidsKeys, file: file)
        func text(_ key: String) -> String? { mapping[key]?.scalar?.string }
        func list(_ key: String) -> [String] {
            guard let value = mapping[key] else { return [] }
            return value.sequence.map { $0.compactMap { $0.scalar?.string } } ?? [value.scalar?.string].compactMap { $0 }
        }
        guard let root = text("root"), !root.isEmpty else { throw PipelineError.missingKey(file: file, line: line, key: "bids.root") }
        return BIDSDerivatives(root: resolve(root), space: text("space"), task: text("task"), desc: text("desc") ?? "preproc",
                               participants: list("participant"), sessions: list("session"))
    }

    /// Reads and validates a pipeline file (stage names and parameters are checked by `StageRegistry`).
    /// The first line where the nesting may exceed `maximumDepth` (indentation, compact `- - -`
    /// sequences and `[`/`{` flow collections counted conservatively, outside quotes and comments).
    static func excessiveNesting(_ text: String) -> (line: Int, depth: Int)? {
        var flow = 0
        for (index, line) in TextLines.split(text).enumerated() {
            var depth = 0, indentation = 0, atStart = true
            var quote: Character?
            var previous: Character = " "
            for ch in line {
                if let open = quote {
                    if ch == open { quote = nil }
                } else if ch == "#" && (previous == " " || previous == "\t") {
                    break
                } else if ch == "\"" || ch == "'" {
                    if previous == " " || previous == "[" || previous == "{" || previous == "," || previous == ":" || atStart { quote = ch }
                    atStart = false
                } else if ch == "[" || ch == "{" {
                    flow += 1
                    atStart = false
                } else if ch == "]" || ch == "}" {
                    flow = max(0, flow - 1)
                } else if atStart && ch == " " {
                    indentation += 1
                } else if atStart && ch == "-" {
                    depth += 1  // a block sequence entry (compact ones nest on one line)
                } else if ch != " " {
                    atStart = false
                }
                previous = ch
                let total = flow + depth + indentation / 2
                if total > maximumDepth { return (index + 1, total) }
            }
        }
        return nil
    }

    /// Counts the nodes of `node` with aliases expanded, stopping once `budget` is spent.
    static func fits(_ node: Node, within budget: inout Int) -> Bool {
        budget -= 1
        if budget < 0 { return false }
        switch node {
        case .scalar: return true
        case let .mapping(mapping):
            for (key, value) in mapping where !fits(key, within: &budget) || !fits(value, within: &budget) { return false }
            return true
        case let .sequence(sequence):
            for element in sequence where !fits(element, within: &budget) { return false }
            return true
        }
    }

    public static func load(_ path: String) throws(PipelineError) -> PipelineSpec {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PipelineError.unreadable(file: path, reason: FileManager.default.fileExists(atPath: path) ? "not UTF-8 text" : "no such file")
        }
        return try parse(text, file: path)
    }

    /// Bounds on a pipeline file, checked around the YAML parser: nesting (the parser recurses per
    /// level, so thousands of levels would overflow the stack) and the size of the document with
    /// every alias expanded (nested aliases grow exponentially: a few hundred bytes can stand for
    /// gigabytes).
    static let maximumDepth = 64
    static let maximumExpandedNodes = 100_000

    public static func parse(_ text: String, file: String) throws(PipelineError) -> PipelineSpec {
        if let (line, depth) = Self.excessiveNesting(text) {
            throw PipelineError.invalidYAML(file: file, line: line, problem: "expected at most \(maximumDepth) levels of nesting, found \(depth) or more")
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PipelineError.invalidYAML(file: file, line: 1, problem: "the file is empty; expected a mapping with 'manifest' and 'stages'")
            }
            root = node
        } catch let error as PipelineError {
            throw error
        } catch let error as YamlError {
            throw PipelineError.invalidYAML(file: file, line: Self.line(of: error), problem: "not valid YAML: \(error)")
        } catch {
            throw PipelineError.invalidYAML(file: file, line: 1, problem: "not valid YAML: \(error)")
        }
        var budget = maximumExpandedNodes
        guard Self.fits(root, within: &budget) else {
            throw PipelineError.invalidYAML(
                file: file, line: 1, problem: "expected at most \(maximumExpandedNodes) values once aliases are expanded, found more (nested aliases?)")
        }
        guard let mapping = root.mapping else {
            throw PipelineError.invalidYAML(file: file, line: root.mark?.line ?? 1, problem: "expected a mapping at the top level")
        }
        try checkKeys(mapping, allowed: topLevelKeys, file: file)
        let base = (file as NSString).deletingLastPathComponent
        func resolve(_ value: String) -> String {
            PathText.joined(base, value)
        }
        func string(_ key: String, required: Bool) throws(PipelineError) -> String? {
            guard let node = mapping[key] else {
                if required { throw PipelineError.missingKey(file: file, line: root.mark?.line ?? 1, key: key) }
                return nil
            }
            guard let value = node.scalar?.string, !value.isEmpty else {
                throw PipelineError.invalidYAML(file: file, line: node.mark?.line ?? 1, problem: "'\(key)' must be a non-empty string")
            }
            return value
        }
        let name = try string("name", required: false) ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        // Optional when every item stage names its own manifest or BIDS folder (checked by the runner).
        let manifest = try string("manifest", required: false).map(resolve) ?? ""
        let output = resolve(try string("output_dir", required: false) ?? "out/\(name)")
        guard let stagesNode = mapping["stages"] else { throw PipelineError.missingKey(file: file, line: root.mark?.line ?? 1, key: "stages") }
        guard let sequence = stagesNode.sequence, !sequence.isEmpty else {
            throw PipelineError.invalidYAML(file: file, line: stagesNode.mark?.line ?? 1, problem: "'stages' must be a non-empty list")
        }
        var stages: [StageEntry] = []
        for entry in sequence {
            let line = entry.mark?.line ?? 1
            guard let stageMapping = entry.mapping else {
                throw PipelineError.invalidYAML(file: file, line: line, problem: "each stage must be a mapping with a 'stage' key")
            }
            try checkKeys(stageMapping, allowed: stageKeys, file: file)
            guard let stageName = stageMapping["stage"]?.scalar?.string, !stageName.isEmpty else {
                throw PipelineError.missingKey(file: file, line: line, key: "stage")
            }
            let outputName = stageMapping["output"]?.scalar?.string ?? ""
            let inputName = stageMapping["input"]?.scalar?.string
            var parameters = "{}"
            var parameterLines: [String: Int] = [:]
            if let with = stageMapping["with"] {
                guard let withMapping = with.mapping else {
                    throw PipelineError.invalidYAML(file: file, line: with.mark?.line ?? line, problem: "'with' must be a mapping of parameter names to values")
                }
                try checkUnique(withMapping, file: file)
                for (key, _) in withMapping { parameterLines[key.scalar?.string ?? "\(key)"] = key.mark?.line ?? line }
                parameters = (try? Yams.serialize(node: with)) ?? "{}"
            }
            var entry = StageEntry(stage: stageName, input: inputName, output: outputName, parametersYAML: parameters, line: line, parameterLines: parameterLines)
            if let own = stageMapping["manifest"]?.scalar?.string, !own.isEmpty { entry.manifest = resolve(own) }
            if let list = stageMapping["input_list"]?.scalar?.string, !list.isEmpty { entry.inputList = resolve(list) }
            if [entry.manifest != nil, stageMapping["bids"] != nil, entry.inputList != nil].filter({ $0 }).count > 1 {
                throw PipelineError.invalidYAML(file: file, line: line, problem: "a stage reads one of 'manifest', 'bids' or 'input_list', not several")
            }
            if let bids = stageMapping["bids"] {
                entry.bids = try bidsQuery(bids, file: file, resolve: resolve)
                if entry.manifest != nil {
                    throw PipelineError.invalidYAML(file: file, line: line, problem: "a stage reads either a 'manifest' or a 'bids' folder, not both")
                }
            }
            if let resources = stageMapping["resources"] {
                entry.resources = try resourceMap(resources, file: file, key: "resources").values
            }
            stages.append(entry)
        }
        var spec = PipelineSpec(file: file, name: name, manifest: manifest, outputDirectory: output, stages: stages)
        if let slurm = mapping["slurm"] {
            let parsed = try resourceMap(slurm, file: file, key: "slurm")
            spec.slurm = parsed.values
            spec.slurmExtra = parsed.extra
        }
        return spec
    }

    /// A `slurm:` or `resources:` mapping: scalar values, plus `extra:` (a list of #SBATCH lines).
    static func resourceMap(_ node: Node, file: String, key: String) throws(PipelineError) -> (values: [String: String], extra: [String]) {
        guard let mapping = node.mapping else {
            throw PipelineError.invalidYAML(file: file, line: node.mark?.line ?? 1, problem: "'\(key)' must be a mapping of \(resourceKeys.joined(separator: ", "))")
        }
        try checkKeys(mapping, allowed: resourceKeys, file: file)
        var values: [String: String] = [:]
        var extra: [String] = []
        for (name, value) in mapping {
            let keyName = name.scalar?.string ?? ""
            if keyName == "extra" {
                extra = value.sequence?.compactMap { $0.scalar?.string } ?? value.scalar.map { [$0.string] } ?? []
            } else if let text = value.scalar?.string {
                values[keyName] = text
            } else {
                throw PipelineError.invalidYAML(file: file, line: value.mark?.line ?? 1, problem: "'\(keyName)' must be a single value")
            }
        }
        return (values, extra)
    }

    static func checkKeys(_ mapping: Node.Mapping, allowed: [String], file: String) throws(PipelineError) {
        try checkUnique(mapping, file: file)
        for (key, _) in mapping {
            let name = key.scalar?.string ?? "\(key)"
            if !allowed.contains(name) {
                throw PipelineError.unknownKey(file: file, line: key.mark?.line ?? 1, key: name, allowed: allowed)
            }
        }
    }

    /// A key given twice is an error (YAML parsers differ on which value wins).
    static func checkUnique(_ mapping: Node.Mapping, file: String) throws(PipelineError) {
        var seen: [String: Int] = [:]
        for (key, _) in mapping {
            let name = key.scalar?.string ?? "\(key)"
            let line = key.mark?.line ?? 1
            if let first = seen[name] {
                throw PipelineError.invalidYAML(file: file, line: line, problem: "duplicate key '\(name)' (first given on line \(first))")
            }
            seen[name] = line
        }
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): return mark.line
        default: return 1
        }
    }
}
