#pragma once
/* bfloat16 matrix products through oneDNN (Debian's libdnnl 2.6), wrapped once for BioEmbedLinalg.
 *
 * C[m,n] (float32, row stride ldc) = A[m,k] (float32, row stride lda, rounded to bf16) · W[n,k]ᵀ (bf16,
 * row-major, the PyTorch Linear layout), accumulated in float32; with `accumulate`, C += A·Wᵀ. Primitives are made
 * once per shape and reused (a small cache shared by all threads); calls from several threads at
 * once are safe. `threads` caps oneDNN's OpenMP team for this call (1 inside BioEmbed's own
 * parallel loops). */
#include <stddef.h>
#include <stdint.h>

/* 1 when oneDNN has a native bfloat16 matmul on this CPU (AVX-512 BF16 or AMX), 0 otherwise; `why`
 * receives the implementation found or the reason there is none. */
int bio_bf16_matmul_available(char *why, size_t why_size);

/* The product above; A is rounded to bfloat16 into a buffer the calling thread keeps for its next
 * call. 0 on success, oneDNN's status otherwise. */
int bio_bf16_linear_f32(const float *a, long lda, const uint16_t *w, long m, long n, long k, float *c, long ldc, int accumulate, int threads);

/* float32 → bfloat16, round to nearest even (NaN kept NaN): rows × cols from x (row stride ldx) into
 * a dense rows × cols array. */
void bio_f32_to_bf16(const float *x, long rows, long cols, long ldx, uint16_t *out);
