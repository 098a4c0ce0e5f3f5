import BioEmbedLinalg

// OpenBLAS picks its kernels before main runs; re-execute once with the fast kernels for this CPU
// when the user has not chosen any (see BLASRuntime.ensureFastKernels).
BLASRuntime.ensureFastKernels()
BioEmbedCommand.main()
