import BioEmbedHDF5

// The child process of `HDF5Probe`: reads each file's variable-length data and exits 0, or dies by
// the signal libhdf5 raises on a corrupt global heap. A program of its own (HDF5 only) starts in a
// fraction of the time `bioembed` takes to load its libraries.
for path in CommandLine.arguments.dropFirst() { HDF5Probe.readVariableLengthData(path) }
