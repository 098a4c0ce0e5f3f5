import BioEmbedCore
import CNetCDF
import Foundation

/// A NetCDF-4 file being written: named dimensions, typed variables, attributes.
///
/// Define everything first (`addDimension`, `addVariable`, attributes), then write data (the
/// define mode ends on the first write). As with `HDF5File`, the file is written under a temporary
/// name and renamed on `commit()`. netcdf-c is not thread-safe: every call runs under one lock.
public final class NetCDFFile {
    public let path: String
    let workingPath: String
    private var ncid: Int32 = -1
    private var dimensions: [String: Int32] = [:]
    private var variables: [String: (id: Int32, type: ElementType)] = [:]
    private var defining = true
    private var finished = false

    private static let lock = NSLock()

    public static func create(_ path: String) throws(HDF5Error) -> NetCDFFile {
        let file = NetCDFFile(path: path)
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        var id: Int32 = -1
        try file.call("nc_create") { nc_create(file.workingPath, NC_NETCDF4 | NC_CLOBBER, &id) }
        file.ncid = id
        return file
    }

    private init(path: String) {
        self.path = path
        workingPath = HDF5File.temporaryName(for: path)
    }

    deinit {
        if !finished {
            if ncid >= 0 { _ = try? call("nc_close") { nc_close(ncid) } }
            unlink(workingPath)
        }
    }

    private func call(_ operation: String, _ body: () -> Int32) throws(HDF5Error) {
        Self.lock.lock()
        let status = body()
        let message = status == NC_NOERR ? "" : String(cString: nc_strerror(status))
        Self.lock.unlock()
        if status != NC_NOERR { throw HDF5Error.netCDF(file: path, operation: operation, detail: message) }
    }

    /// Defines a dimension of fixed length.
    public func addDimension(_ name: String, length: Int) throws(HDF5Error) {
        var id: Int32 = -1
        try call("nc_def_dim \(name)") { nc_def_dim(ncid, name, length, &id) }
        dimensions[name] = id
    }

    /// Defines a variable over named dimensions (row-major, first dimension slowest).
    public func addVariable(_ name: String, type: ElementType, dimensions names: [String], compressed: Bool = false) throws(HDF5Error) {
        var ids: [Int32] = []
        for dimension in names {
            guard let id = dimensions[dimension] else {
                throw HDF5Error.missingObject(file: path, object: "dimension '\(dimension)' of variable '\(name)'")
            }
            ids.append(id)
        }
        let ncType: nc_type
        switch type {
        case .float32: ncType = NC_FLOAT
        case .float64: ncType = NC_DOUBLE
        case .int32: ncType = NC_INT
        case .int64: ncType = NC_INT64
        case .uint8: ncType = NC_UBYTE
        case .string: ncType = NC_STRING
        }
        var id: Int32 = -1
        try call("nc_def_var \(name)") { nc_def_var(ncid, name, ncType, Int32(ids.count), ids, &id) }
        if compressed && !ids.isEmpty {
            try call("nc_def_var_deflate \(name)") { nc_def_var_deflate(ncid, id, 1, 1, 4) }
        }
        variables[name] = (id, type)
    }

    /// Sets a text or numeric attribute on a variable, or on the file when `variable` is nil.
    public func setAttribute(_ name: String, _ value: MetadataValue, variable: String? = nil) throws(HDF5Error) {
        let target: Int32
        if let variable {
            guard let known = variables[variable] else { throw HDF5Error.missingObject(file: path, object: "variable '\(variable)'") }
            target = known.id
        } else {
            target = NC_GLOBAL
        }
        try enterDefineMode()
        switch value {
        case let .string(text):
            try call("nc_put_att_text \(name)") { nc_put_att_text(ncid, target, name, text.utf8.count, text) }
        case let .int(number):
            var v = number
            try call("nc_put_att_longlong \(name)") { nc_put_att_longlong(ncid, target, name, NC_INT64, 1, &v) }
        case let .double(number):
            var v = number
            try call("nc_put_att_double \(name)") { nc_put_att_double(ncid, target, name, NC_DOUBLE, 1, &v) }
        case let .ints(values):
            try call("nc_put_att_longlong \(name)") { nc_put_att_longlong(ncid, target, name, NC_INT64, values.count, values) }
        case let .doubles(values):
            try call("nc_put_att_double \(name)") { nc_put_att_double(ncid, target, name, NC_DOUBLE, values.count, values) }
        }
    }

    /// Writes a whole variable (values row-major; count must match the dimensions).
    public func write(_ variable: String, _ data: FieldData) throws(HDF5Error) {
        guard let known = variables[variable] else { throw HDF5Error.missingObject(file: path, object: "variable '\(variable)'") }
        guard known.type == data.type else {
            throw HDF5Error.typeMismatch(file: path, object: "variable '\(variable)'", expected: known.type.rawValue, found: data.type.rawValue)
        }
        try leaveDefineMode()
        let id = known.id
        switch data {
        case let .float32(v): try call("nc_put_var_float \(variable)") { nc_put_var_float(ncid, id, v) }
        case let .float64(v): try call("nc_put_var_double \(variable)") { nc_put_var_double(ncid, id, v) }
        case let .int32(v): try call("nc_put_var_int \(variable)") { nc_put_var_int(ncid, id, v) }
        case let .int64(v): try call("nc_put_var_longlong \(variable)") { nc_put_var_longlong(ncid, id, v) }
        case let .uint8(v): try call("nc_put_var_uchar \(variable)") { nc_put_var_uchar(ncid, id, v) }
        case let .strings(v):
            let copies: [UnsafeMutablePointer<CChar>?] = v.map { strdup($0) }
            defer { copies.forEach { free($0) } }
            var pointers = copies.map { UnsafePointer($0) }
            try call("nc_put_var_string \(variable)") { nc_put_var_string(ncid, id, &pointers) }
        }
    }

    /// Closes the file and renames it into place.
    public func commit() throws(HDF5Error) {
        guard !finished else { return }
        try call("nc_close") { nc_close(ncid) }
        ncid = -1
        finished = true
        if rename(workingPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(workingPath)
            throw HDF5Error.netCDF(file: path, operation: "rename from \(workingPath)", detail: reason)
        }
    }

    private func enterDefineMode() throws(HDF5Error) {
        if !defining {
            try call("nc_redef") { nc_redef(ncid) }
            defining = true
        }
    }

    private func leaveDefineMode() throws(HDF5Error) {
        if defining {
            try call("nc_enddef") { nc_enddef(ncid) }
            defining = false
        }
    }
}
