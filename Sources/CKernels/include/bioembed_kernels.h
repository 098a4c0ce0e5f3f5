#pragma once
#include <stddef.h>
/* Element-wise float32 kernels of the neural-network runtime, compiled for AVX-512, AVX2 and
 * baseline x86-64 and chosen at load time (target_clones): Swift code is built for the baseline
 * (SSE2) only, which runs these transcendental-heavy loops 4 lanes at a time. */

/* LayerNorm of each row (rows × width, x and y may be the same buffer): (x - mean)/sqrt(var + eps) ·
 * gamma (+ beta when not NULL), biased variance; mean and variance summed in float64 (8 lanes). */
void bio_layer_norm_f32(const float *x, size_t rows, size_t width, const float *gamma, const float *beta, float eps, float *y);
/* y[i] = GELU(x[i]) = x/2 (1 + erf(x/sqrt 2)); erf by Abramowitz & Stegun 7.1.26 (abs. error < 2e-7). */
void bio_gelu_f32(const float *x, float *y, size_t n);
/* dy[i] *= GELU'(x[i]) = (1 + erf(x/sqrt 2))/2 + x phi(x). */
void bio_gelu_backward_f32(float *dy, const float *x, size_t n);
/* Softmax of one row of n values in place; with `allowed` (may be NULL), keys with allowed[j] == 0
 * get weight 0 (a row with no allowed key, or all -inf, becomes zeros). The exponentials are
 * computed in one vectorised pass and summed in 16 lanes (deterministic for any SIMD width). */
void bio_softmax_row_f32(float *row, size_t n, const unsigned char *allowed);
/* x[i] = x/2 (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) in place (gelu_new), tanh from exp(-2|u|). */
void bio_gelu_tanh_f32(float *x, size_t n);
/* bio_gelu_f32 in place (a separate entry point: called with x == y, the two-pointer version
 * takes the compiler's scalar fallback for overlapping buffers). */
void bio_gelu_inplace_f32(float *x, size_t n);

/* Tensor-times-factor products for non-negative CP over a float32 tensor viewed as rows × n, in
 * double precision (each float widened exactly; sums in double). mt is a factor stored transposed,
 * rank × n. */
/* out[i, r] = sum_j x[i, j] mt[r, j] for rows i (out is rows × rank, row-major). */
void bio_rows_dot_factor_f32(const float *x, size_t rows, size_t n, const double *mt, size_t rank, double *out);
/* outt[r, j] += sum_i w[i, r] x[i, j]: the transposed tensor times the row weights w (rows × rank),
 * accumulated into outt (rank × n). */
void bio_rows_weighted_sum_f32(const float *x, size_t rows, size_t n, const double *w, size_t rank, double *outt);
