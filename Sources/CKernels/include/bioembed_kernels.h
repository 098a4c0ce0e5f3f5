#pragma once
#include <stddef.h>
/* Element-wise float32 kernels of the neural-network runtime, compiled for AVX-512, AVX2 and
 * baseline x86-64 and chosen at load time (target_clones): Swift code is built for the baseline
 * (SSE2) only, which runs these transcendental-heavy loops 4 lanes at a time. */

/* y[i] = GELU(x[i]) = x/2 (1 + erf(x/sqrt 2)); erf by Abramowitz & Stegun 7.1.26 (abs. error < 2e-7). */
void bio_gelu_f32(const float *x, float *y, size_t n);
/* dy[i] *= GELU'(x[i]) = (1 + erf(x/sqrt 2))/2 + x phi(x). */
void bio_gelu_backward_f32(float *dy, const float *x, size_t n);
