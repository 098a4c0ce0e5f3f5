#pragma once
/* LAPACK 3.11's lapack.h ignores LAPACK_COMPLEX_STRUCTURE; plain struct complex types keep the
 * complex routines importable (same x86-64 ABI as _Complex). Must precede the includes. */
#define LAPACK_COMPLEX_CUSTOM 1
typedef struct { float real, imag; } bio_complex_float;
typedef struct { double real, imag; } bio_complex_double;
#define lapack_complex_float  bio_complex_float
#define lapack_complex_double bio_complex_double
#include <cblas.h>
#include <lapacke.h>
/* OpenBLAS's cblas.h also declares openblas_get_corename(), openblas_set_num_threads() and
 * openblas_get_num_threads(), which BioEmbedLinalg uses to report and bound the kernels. */
/* OpenBLAS joins its worker threads (restarted on the next threaded call); not in cblas.h. */
int blas_thread_shutdown_(void);
/* OpenBLAS reads its environment (OPENBLAS_THREAD_TIMEOUT among it) again, and reports the
 * thread timeout it read (log2 of cycles; 0 for its built-in default). Not in cblas.h. */
void openblas_read_env(void);
int openblas_thread_timeout(void);
