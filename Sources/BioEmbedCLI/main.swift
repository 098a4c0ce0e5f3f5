import BioEmbedLinalg

// OpenBLAS picks its kernels before main runs; re-execute once with the fast kernels for this CPU
// when the user has not chosen any (see BLASRuntime.ensureFastKernels). Molecule commands also
// start with glibc's larger per-thread cache (RDKit's small-object churn; MemoryTuning). The
// protein commands do no linear algebra: they start without the re-execution.
let command = CommandLine.arguments.dropFirst().first
BLASRuntime.ensureFastKernels(allocatorTunable: command == "molecule", blasUsed: command != "protein")
BioEmbedCommand.main()
