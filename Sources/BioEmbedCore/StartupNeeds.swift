/// What a command needs from the process before it does any work: decided from the parsed command
/// (and, for `run`, from the stages of its pipeline), never from the words of the command line.
public struct StartupNeeds: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Calls BLAS/LAPACK: fast kernels for this CPU, idle BLAS threads that sleep.
    public static let blas = StartupNeeds(rawValue: 1 << 0)
    /// Builds and frees many small objects per item (RDKit): glibc's larger per-thread cache
    /// (`MemoryTuning.allocatorTunable`).
    public static let smallObjectAllocator = StartupNeeds(rawValue: 1 << 1)
}
