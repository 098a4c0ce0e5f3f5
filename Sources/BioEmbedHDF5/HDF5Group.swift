import BioEmbedCore
import CHDF5
import Foundation

/// Something in an HDF5 file that can carry attributes: a group or a dataset.
public protocol HDF5Node: AnyObject {
    var file: HDF5File { get }
    /// Absolute path inside the file, e.g. `/fmri/timeseries`.
    var path: String { get }
}

extension HDF5Node {
    var fileName: String { file.path }
}

protocol HDF5Located: HDF5Node {
    var locationID: hid_t { get }
}

/// A group: creates and opens its children, lists them.
public final class HDF5Group: HDF5Located {
    public let file: HDF5File
    public let path: String
    private let handle: H5Handle?

    init(file: HDF5File, handle: H5Handle?, path: String) {
        self.file = file
        self.handle = handle
        self.path = path
    }

    var locationID: hid_t { handle?.id ?? file.handle.id }

    func childPath(_ name: String) -> String {
        path == "/" ? "/" + name : path + "/" + name
    }

    /// What a child is.
    public enum ChildKind: Sendable, Equatable { case group, dataset, other }

    // MARK: Navigation

    /// Whether `name` (which may contain `/`) exists below this group.
    public func contains(_ name: String) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            if H5Lexists(locationID, prefix, H5.defaultList) <= 0 { return false }
        }
        return !prefix.isEmpty
    }

    /// True when `name` or a group on the way to it is an external link (a link into another
    /// file). BioEmbed reads only the files it is given, so such links are never followed.
    func passesExternalLink(_ name: String) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            var info = H5L_info_t()
            if H5Lget_info(locationID, prefix, &info, H5.defaultList) >= 0, info.type == H5L_TYPE_EXTERNAL { return true }
        }
        return false
    }

    /// The address of the object `name` leads to (hard and soft links to one object give one
    /// address): how a walk recognizes a group it has already visited.
    public func objectAddress(of name: String) -> UInt64? {
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(locationID, name, &info, UInt32(H5O_INFO_BASIC), H5.defaultList) >= 0 else { return nil }
        return UInt64(info.addr)
    }

    /// The kind of an existing child (`.other` for an external link, which is not followed).
    public func kind(of name: String) -> ChildKind? {
        guard contains(name) else { return nil }
        if passesExternalLink(name) { return .other }
        let object = H5Oopen(locationID, name, H5.defaultList)
        guard object >= 0 else { return .other }
        defer { H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Direct children in name order.
    public func children() throws(HDF5Error) -> [(name: String, kind: ChildKind)] {
        var info = H5G_info_t()
        try H5.check(H5Gget_info(locationID, &info), "H5Gget_info", file: fileName, object: path)
        var result: [(String, ChildKind)] = []
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(locationID, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, H5.defaultList)
            try H5.check(length, "H5Lget_name_by_idx", file: fileName, object: path)
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            try H5.check(
                H5Lget_name_by_idx(locationID, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, Int(length) + 1, H5.defaultList),
                "H5Lget_name_by_idx", file: fileName, object: path)
            let name = string(fromCBuffer: buffer)
            result.append((name, kind(of: name) ?? .other))
        }
        return result
    }

    /// Renames the child `name` to `newName` (a link move within the group).
    public func move(_ name: String, to newName: String) throws(HDF5Error) {
        try H5.check(H5Lmove(locationID, name, locationID, newName, H5.defaultList, H5.defaultList), "H5Lmove", file: fileName, object: childPath(name))
    }

    /// Opens an existing child group.
    public func group(_ name: String) throws(HDF5Error) -> HDF5Group {
        guard contains(name) else { throw HDF5Error.missingObject(file: fileName, object: childPath(name)) }
        if passesExternalLink(name) {
            throw HDF5Error.foreignData(file: fileName, object: childPath(name), detail: "an external link into another file")
        }
        let id = try H5.check(H5Gopen2(locationID, name, H5.defaultList), "H5Gopen2", file: fileName, object: childPath(name))
        return HDF5Group(file: file, handle: H5Handle(id, .group), path: childPath(name))
    }

    /// Creates a group (and any missing intermediate groups).
    ///
    /// - Parameter denseAttributes: store attributes densely, so one attribute may exceed 64 KiB
    ///   (long provenance input lists).
    public func createGroup(_ name: String, denseAttributes: Bool = false) throws(HDF5Error) -> HDF5Group {
        let object = childPath(name)
        let lcpl = try linkCreationList(object)
        let gcpl = H5Handle(try H5.check(H5Pcreate(bio_H5P_GROUP_CREATE()), "H5Pcreate", file: fileName, object: object), .propertyList)
        if denseAttributes {
            try H5.check(H5Pset_attr_phase_change(gcpl.id, 0, 0), "H5Pset_attr_phase_change", file: fileName, object: object)
        }
        let id = try H5.check(H5Gcreate2(locationID, name, lcpl.id, gcpl.id, H5.defaultList), "H5Gcreate2", file: fileName, object: object)
        return HDF5Group(file: file, handle: H5Handle(id, .group), path: object)
    }

    /// Opens `name` if it exists, else creates it.
    public func openOrCreateGroup(_ name: String) throws(HDF5Error) -> HDF5Group {
        contains(name) ? try group(name) : try createGroup(name)
    }

    /// Removes a link (the space is not reclaimed until the file is repacked).
    public func remove(_ name: String) throws(HDF5Error) {
        try H5.check(H5Ldelete(locationID, name, H5.defaultList), "H5Ldelete", file: fileName, object: childPath(name))
    }

    /// Copies object `name` of `source` (another file or group) here under the same name, as HDF5
    /// stores it: chunks are copied without decoding or type conversion, attributes included.
    public func copy(_ name: String, from source: HDF5Group) throws(HDF5Error) {
        guard source.contains(name) else { throw HDF5Error.missingObject(file: source.fileName, object: source.childPath(name)) }
        let lcpl = try linkCreationList(childPath(name))
        try H5.check(
            H5Ocopy(source.locationID, name, locationID, name, H5.defaultList, lcpl.id), "H5Ocopy",
            file: fileName, object: childPath(name))
    }

    // MARK: Datasets

    /// Opens an existing dataset.
    public func dataset(_ name: String) throws(HDF5Error) -> HDF5Dataset {
        guard contains(name) else { throw HDF5Error.missingObject(file: fileName, object: childPath(name)) }
        if passesExternalLink(name) {
            throw HDF5Error.foreignData(file: fileName, object: childPath(name), detail: "an external link into another file")
        }
        let id = try H5.check(H5Dopen2(locationID, name, H5.defaultList), "H5Dopen2", file: fileName, object: childPath(name))
        let handle = H5Handle(id, .dataset)
        if let foreign = Self.foreignStorage(of: id) {
            throw HDF5Error.foreignData(file: fileName, object: childPath(name), detail: foreign)
        }
        return HDF5Dataset(file: file, handle: handle, path: childPath(name))
    }

    /// Why a dataset's data would come from another file, or nil: external raw storage (the
    /// bytes of any file named in the dataset), or a virtual dataset with a source outside the
    /// file's own folder (BioEmbed's merge index maps files of its folder by plain name: allowed).
    static func foreignStorage(of dataset: hid_t) -> String? {
        let plist = H5Dget_create_plist(dataset)
        guard plist >= 0 else { return nil }
        defer { H5Pclose(plist) }
        let external = H5Pget_external_count(plist)
        if external > 0 { return "external raw storage in \(external) other file(s)" }
        guard H5Pget_layout(plist) == H5D_VIRTUAL else { return nil }
        var count = 0
        guard H5Pget_virtual_count(plist, &count) >= 0 else { return "a virtual dataset whose mappings cannot be read" }
        for index in 0..<count {
            let length = H5Pget_virtual_filename(plist, index, nil, 0)
            guard length >= 0 else { return "a virtual dataset whose source cannot be read" }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            _ = H5Pget_virtual_filename(plist, index, &buffer, Int(length) + 1)
            let source = string(fromCBuffer: buffer)
            if source != "." && (source.contains("/") || source == ".." || source.isEmpty) {
                return "a virtual dataset reading '\(source)', outside the file's folder"
            }
        }
        return nil
    }

    /// Creates a dataset.
    ///
    /// - Parameters:
    ///   - shape: the initial shape. With `appendable`, the first dimension is unlimited (often 0 at first).
    ///   - chunks: chunk shape; chosen automatically (about 1 MiB per chunk) when nil and chunking is needed.
    ///   - compressed: shuffle + gzip level 1 (forces chunking).
    ///   - rowsAtMost: for an appendable dataset, the most rows it will hold when known: automatic
    ///     chunks are no taller (a chunk is allocated whole, so a 1 MiB chunk for one row wastes it).
    public func createDataset(
        _ name: String, type: ElementType, shape: [Int], chunks: [Int]? = nil,
        compressed: Bool = false, appendable: Bool = false, stringWidth: Int? = nil, rowsAtMost: Int? = nil
    ) throws(HDF5Error) -> HDF5Dataset {
        let object = childPath(name)
        guard !shape.isEmpty || !appendable else {
            throw HDF5Error.shapeMismatch(file: fileName, object: object, expected: "at least one dimension for an appendable dataset", found: "[]")
        }
        var dims = shape.map { hsize_t($0) }
        var maxDims = dims
        if appendable { maxDims[0] = bio_H5S_UNLIMITED() }
        let space = H5Handle(
            try H5.check(
                shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), &dims, &maxDims),
                "H5Screate_simple", file: fileName, object: object),
            .dataspace)
        let dcpl = H5Handle(try H5.check(H5Pcreate(bio_H5P_DATASET_CREATE()), "H5Pcreate", file: fileName, object: object), .propertyList)
        let needsChunks = appendable || compressed || chunks != nil
        if needsChunks && !shape.isEmpty {
            var chunkDims = (chunks ?? Self.defaultChunks(shape: shape, width: type.byteWidth)).map { hsize_t(max(1, $0)) }
            if let rowsAtMost { chunkDims[0] = min(chunkDims[0], hsize_t(max(1, rowsAtMost))) }
            guard chunkDims.count == shape.count else {
                throw HDF5Error.shapeMismatch(
                    file: fileName, object: object, expected: "chunks of rank \(shape.count)", found: "\(chunkDims.map { Int($0) })")
            }
            if !appendable {  // a chunk may not exceed a fixed dimension
                for i in 0..<shape.count where shape[i] > 0 { chunkDims[i] = min(chunkDims[i], hsize_t(shape[i])) }
            }
            try H5.check(H5Pset_chunk(dcpl.id, Int32(chunkDims.count), &chunkDims), "H5Pset_chunk", file: fileName, object: object)
            if compressed {
                try H5.check(H5Pset_shuffle(dcpl.id), "H5Pset_shuffle", file: fileName, object: object)
                try H5.check(H5Pset_deflate(dcpl.id, 1), "H5Pset_deflate", file: fileName, object: object)
            }
        }
        let fileType = try type == .string && stringWidth != nil
            ? fixedStringType(width: stringWidth!, file: fileName, object: object)
            : type.fileTypeHandle(file: fileName, object: object)
        let lcpl = try linkCreationList(object)
        let id = try H5.check(
            H5Dcreate2(locationID, name, fileType.id, space.id, lcpl.id, dcpl.id, H5.defaultList),
            "H5Dcreate2", file: fileName, object: object)
        return HDF5Dataset(file: file, handle: H5Handle(id, .dataset), path: object)
    }

    /// Creates and fills a numeric dataset in one call.
    @discardableResult
    public func write<Scalar: HDF5Scalar>(
        _ name: String, _ values: [Scalar], shape: [Int]? = nil, chunks: [Int]? = nil, compressed: Bool = false
    ) throws(HDF5Error) -> HDF5Dataset {
        let dataset = try createDataset(
            name, type: Scalar.elementType, shape: shape ?? [values.count], chunks: chunks, compressed: compressed)
        try dataset.write(values)
        return dataset
    }

    /// Creates and fills a 1-D variable-length UTF-8 string dataset.
    @discardableResult
    public func writeStrings(_ name: String, _ values: [String], compressed: Bool = false) throws(HDF5Error) -> HDF5Dataset {
        let dataset = try createDataset(name, type: .string, shape: [values.count], compressed: compressed && !values.isEmpty)
        try dataset.writeStrings(values)
        return dataset
    }

    /// Creates a virtual dataset that concatenates whole source datasets along axis 0.
    ///
    /// Each source is `rows` rows of `rowShape` in another file (same element type; numeric types
    /// only). Source file names are stored as given: a relative name is found next to this file,
    /// so the index and its shards can move together.
    @discardableResult
    public func createVirtualDataset(
        _ name: String, type: ElementType, rowShape: [Int], sources: [(file: String, dataset: String, rows: Int)]
    ) throws(HDF5Error) -> HDF5Dataset {
        let object = childPath(name)
        guard type != .string else {
            throw HDF5Error.typeMismatch(file: fileName, object: object, expected: "a numeric type for a virtual dataset", found: "strings")
        }
        let total = sources.reduce(0) { $0 + $1.rows }
        var dims = ([total] + rowShape).map { hsize_t($0) }
        let rank = Int32(dims.count)
        let space = H5Handle(try H5.check(H5Screate_simple(rank, &dims, nil), "H5Screate_simple", file: fileName, object: object), .dataspace)
        let mapping = H5Handle(try H5.check(H5Screate_simple(rank, &dims, nil), "H5Screate_simple", file: fileName, object: object), .dataspace)
        let dcpl = H5Handle(try H5.check(H5Pcreate(bio_H5P_DATASET_CREATE()), "H5Pcreate", file: fileName, object: object), .propertyList)
        var start = 0
        for source in sources where source.rows > 0 {
            var sourceDims = ([source.rows] + rowShape).map { hsize_t($0) }
            let sourceSpace = H5Handle(
                try H5.check(H5Screate_simple(rank, &sourceDims, nil), "H5Screate_simple", file: fileName, object: object), .dataspace)
            var offset = [hsize_t](repeating: 0, count: dims.count)
            offset[0] = hsize_t(start)
            try H5.check(H5Sselect_hyperslab(mapping.id, H5S_SELECT_SET, &offset, nil, &sourceDims, nil), "H5Sselect_hyperslab", file: fileName, object: object)
            try H5.check(H5Pset_virtual(dcpl.id, mapping.id, source.file, source.dataset, sourceSpace.id), "H5Pset_virtual", file: fileName, object: object)
            start += source.rows
        }
        let fileType = try type.fileTypeHandle(file: fileName, object: object)
        let lcpl = try linkCreationList(object)
        let id = try H5.check(
            H5Dcreate2(locationID, name, fileType.id, space.id, lcpl.id, dcpl.id, H5.defaultList), "H5Dcreate2", file: fileName, object: object)
        return HDF5Dataset(file: file, handle: H5Handle(id, .dataset), path: object)
    }

    /// About 1 MiB per chunk, whole rows, at least one row.
    static func defaultChunks(shape: [Int], width: Int) -> [Int] {
        let rowElements = max(1, shape.dropFirst().reduce(1, *))
        let rows = max(1, min(1 << 16, (1 << 20) / max(1, rowElements * width)))
        return [rows] + shape.dropFirst()
    }

    private func linkCreationList(_ object: String) throws(HDF5Error) -> H5Handle {
        let lcpl = H5Handle(try H5.check(H5Pcreate(bio_H5P_LINK_CREATE()), "H5Pcreate", file: fileName, object: object), .propertyList)
        try H5.check(H5Pset_create_intermediate_group(lcpl.id, 1), "H5Pset_create_intermediate_group", file: fileName, object: object)
        return lcpl
    }
}
