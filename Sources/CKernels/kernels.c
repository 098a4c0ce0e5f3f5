#include "bioembed_kernels.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
/* x86-64-v3 (AVX2, FMA, ...) rather than "avx2": FMA is a feature of its own, and an "avx2" clone
 * spends a multiply and an add per product (the AVX-512 clone has FMA through avx512f). */
#define BIO_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define BIO_CLONES
#endif

/* exp for float32 without libm (Cephes range reduction + degree-6 polynomial; relative error ~2e-7). */
static inline float fast_exp(float value) {
    float x = value < -87.3f ? -87.3f : (value > 88.7f ? 88.7f : value);
    float shifted = x * 1.44269504088896341f + 12582912.0f;
    float n = shifted - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &shifted, 4);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    float result = p * scale;
    return value < -87.3f ? 0.0f : result;
}

/* 1 - erf(|x|/sqrt 2) times sign handling is done by callers; e = exp(-x^2/2). */
static inline float erf_half(float x, float e) {
    float a = (x < 0 ? -x : x) * 0.70710678118654752f;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float y = 1.061405429f;
    y = y * t - 1.453152027f;
    y = y * t + 1.421413741f;
    y = y * t - 0.284496736f;
    y = y * t + 0.254829592f;
    float r = 1.0f - y * t * e;
    return x < 0 ? -r : r;
}

/* 8 float64 lanes: the sums of a row are formed lane by lane in this fixed order on every CPU (the
 * clones only change how many lanes one instruction handles). */
typedef double bio_d8 __attribute__((vector_size(64)));
typedef float bio_f8 __attribute__((vector_size(32)));

/* a macro, not a function: a vector argument would change the calling convention between clones */
#define LANE_SUM(v) ((((v)[0] + (v)[1]) + ((v)[2] + (v)[3])) + (((v)[4] + (v)[5]) + ((v)[6] + (v)[7])))

BIO_CLONES
void bio_layer_norm_f32(const float *x, size_t rows, size_t width, const float *gamma, const float *beta, float eps, float *y) {
    size_t blocks = width / 8;
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * width;
        bio_d8 acc = {0};
        for (size_t b = 0; b < blocks; b++) {
            bio_f8 v;
            memcpy(&v, row + 8 * b, sizeof v);
            acc += __builtin_convertvector(v, bio_d8);
        }
        double sum = LANE_SUM(acc);
        for (size_t j = blocks * 8; j < width; j++) sum += row[j];
        double mean = sum / (double)width;
        bio_d8 squares = {0};
        for (size_t b = 0; b < blocks; b++) {
            bio_f8 v;
            memcpy(&v, row + 8 * b, sizeof v);
            bio_d8 d = __builtin_convertvector(v, bio_d8) - mean;
            squares += d * d;
        }
        double total = LANE_SUM(squares);
        for (size_t j = blocks * 8; j < width; j++) {
            double d = row[j] - mean;
            total += d * d;
        }
        float inv = (float)(1.0 / __builtin_sqrt(total / (double)width + (double)eps));
        float m = (float)mean;
        float *out = y + r * width;
        if (out == row) { /* in place: one pointer, so the loop is not split on an overlap check */
            if (beta) for (size_t j = 0; j < width; j++) out[j] = (out[j] - m) * inv * gamma[j] + beta[j];
            else for (size_t j = 0; j < width; j++) out[j] = (out[j] - m) * inv * gamma[j];
        } else {
            if (beta) for (size_t j = 0; j < width; j++) out[j] = (row[j] - m) * inv * gamma[j] + beta[j];
            else for (size_t j = 0; j < width; j++) out[j] = (row[j] - m) * inv * gamma[j];
        }
    }
}

BIO_CLONES
void bio_gelu_f32(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float e = fast_exp(-0.5f * v * v);
        y[i] = 0.5f * v * (1.0f + erf_half(v, e));
    }
}

BIO_CLONES
void bio_gelu_backward_f32(float *dy, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float e = fast_exp(-0.5f * v * v);
        dy[i] *= 0.5f * (1.0f + erf_half(v, e)) + v * 0.39894228040143267794f * e;
    }
}

BIO_CLONES
void bio_softmax_row_f32(float *row, size_t n, const unsigned char *allowed) {
    float maximum = -__builtin_inff();
    if (allowed) {
        for (size_t j = 0; j < n; j++) { float v = allowed[j] ? row[j] : -__builtin_inff(); maximum = v > maximum ? v : maximum; }
    } else {
        for (size_t j = 0; j < n; j++) maximum = row[j] > maximum ? row[j] : maximum;
    }
    if (!(maximum > -__builtin_inff())) {
        for (size_t j = 0; j < n; j++) row[j] = 0.0f;
        return;
    }
    if (allowed) {
        for (size_t j = 0; j < n; j++) { float e = fast_exp(row[j] - maximum); row[j] = allowed[j] ? e : 0.0f; }
    } else {
        for (size_t j = 0; j < n; j++) row[j] = fast_exp(row[j] - maximum);
    }
    float lanes[16] = {0};
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++) lanes[l] += row[j + l];
    for (int l = 0; j < n; j++, l++) lanes[l] += row[j];
    float sum = 0.0f;
    for (int l = 0; l < 16; l++) sum += lanes[l];
    float inv = 1.0f / sum;
    for (size_t k = 0; k < n; k++) row[k] *= inv;
}

BIO_CLONES
void bio_gelu_tanh_f32(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float u = 0.79788456080286536f * (v + 0.044715f * v * v * v);
        float e = fast_exp(-2.0f * (u < 0 ? -u : u));
        float t = (1.0f - e) / (1.0f + e);
        x[i] = 0.5f * v * (1.0f + (u < 0 ? -t : t));
    }
}

BIO_CLONES
void bio_gelu_inplace_f32(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float e = fast_exp(-0.5f * v * v);
        x[i] = 0.5f * v * (1.0f + erf_half(v, e));
    }
}

typedef float bio_f8 __attribute__((vector_size(32), aligned(4)));
typedef double bio_d8 __attribute__((vector_size(64), aligned(8)));

/* Macros, not functions: a 64-byte vector crossing a call changes the ABI between the clones. */
#define bio_widen8(p) __extension__({ bio_f8 bio_v_; memcpy(&bio_v_, (p), sizeof bio_v_); __builtin_convertvector(bio_v_, bio_d8); })
#define bio_sum8(v) (((v)[0] + (v)[4]) + ((v)[1] + (v)[5])) + (((v)[2] + (v)[6]) + ((v)[3] + (v)[7]))

/* The factor rows padded with zero rows to a multiple of 4 (NULL when out of memory). */
static double *bio_padded_rows(const double *m, size_t rank, size_t n, size_t *padded) {
    *padded = (rank + 3) / 4 * 4;
    double *p = calloc(*padded * n, sizeof(double));
    if (p) memcpy(p, m, rank * n * sizeof(double));
    return p;
}

/* The dot passes' buffers: 4 widened rows and the factor rows padded to a multiple of 4 (false, with
 * nothing held, when out of memory). */
static bool bio_dot_buffers(const double *mt, size_t rank, size_t n, double **wide, double **m, size_t *padded) {
    *wide = malloc(4 * n * sizeof(double));
    *m = bio_padded_rows(mt, rank, n, padded);
    if (*wide && *m) return true;
    free(*wide);
    free(*m);
    return false;
}

/* One finished dot product: the accumulator's lanes (`sum`) plus the columns past the vector body. */
static inline __attribute__((always_inline)) void bio_finish_dot(double sum, const double *wide_row, const double *mc, size_t body, size_t n, double *dst) {
    for (size_t j = body; j < n; j++) sum += wide_row[j] * mc[j];
    *dst = sum;
}

/* Rows [row, row + block) widened to double into `wide` (block × n, zero rows past `rows`). */
static inline __attribute__((always_inline)) void bio_widen_rows(const float *x, size_t row, size_t block, size_t rows, size_t n, double *wide) {
    size_t body = n - n % 8;
    for (size_t b = 0; b < block; b++) {
        double *dst = wide + b * n;
        if (row + b >= rows) {
            memset(dst, 0, n * sizeof(double));
            continue;
        }
        const float *src = x + (row + b) * n;
        size_t j = 0;
        for (; j < body; j += 8) {
            bio_d8 v = bio_widen8(src + j);
            memcpy(dst + j, &v, sizeof v);
        }
        for (; j < n; j++) dst[j] = src[j];
    }
}

/* The tensor is read in bursts of four rows between long stretches of arithmetic, which the hardware
 * prefetchers do not run far enough ahead of: the rows two blocks ahead are requested into the outer
 * caches (prefetcht2), a share of their cache lines per factor block (1.3-1.5x on a streaming 64 MB
 * tensor, AMD EPYC Zen 4). */
enum { bio_prefetch_rows = 8 };
/* Share `share` of `shares` of the cache lines of rows [first, first + count) (clipped to `rows`). */
static inline __attribute__((always_inline)) void bio_prefetch_rows_share(const float *x, size_t first, size_t count, size_t rows, size_t n, size_t share, size_t shares) {
    if (first >= rows) return;
    if (rows - first < count) count = rows - first;
    const char *start = (const char *)(x + first * n);
    size_t lines = (count * n * sizeof(float) + 63) / 64;
    for (size_t l = share * lines / shares; l < (share + 1) * lines / shares; l++) __builtin_prefetch(start + l * 64, 0, 1);
}
/* The 4-row kernels: the four rows two blocks ahead of `row`. */
static inline __attribute__((always_inline)) void bio_prefetch_share(const float *x, size_t row, size_t rows, size_t n, size_t share, size_t shares) {
    bio_prefetch_rows_share(x, row + bio_prefetch_rows, 4, rows, n, share, shares);
}

#if defined(__x86_64__) && defined(__linux__)
typedef double bio_d4 __attribute__((vector_size(32), aligned(8)));
#define bio_sum4(v) (((v)[0] + (v)[2]) + ((v)[1] + (v)[3]))

/* bio_rows_dot_factor_f32 for CPUs without AVX-512: its 16 accumulators of 8 doubles fill 16 AVX-512
 * registers but would take 32 of AVX2's 16 (spilled to the stack in every step, as measured on an
 * AVX2-only AMD EPYC Zen 3). Here blocks of 4 rows × 2 factor columns of 4
 * doubles: 8 accumulators, 4 row and 2 factor vectors, 14 registers. */
static inline __attribute__((always_inline)) void bio_rows_dot_factor_narrow(const float *x, size_t rows, size_t n, const double *mt, size_t rank, double *out) {
    size_t body = n - n % 4, padded;
    double *wide, *m;
    if (!bio_dot_buffers(mt, rank, n, &wide, &m, &padded)) return;
    for (size_t i = 0; i < rows; i += 4) {
        size_t block = rows - i < 4 ? rows - i : 4;
        bio_widen_rows(x, i, 4, rows, n, wide);
        for (size_t r = 0; r < rank; r += 2) {  /* m has a zero row past an odd rank */
            bio_prefetch_share(x, i, rows, n, r / 2, (rank + 1) / 2);
            const double *m0 = m + r * n, *m1 = m0 + n;
            bio_d4 a[4][2];
            memset(a, 0, sizeof a);
            for (size_t j = 0; j < body; j += 4) {
                bio_d4 f0, f1, v[4];
                memcpy(&f0, m0 + j, sizeof f0);
                memcpy(&f1, m1 + j, sizeof f1);
                for (int b = 0; b < 4; b++) memcpy(&v[b], wide + b * n + j, sizeof v[0]);
                for (int b = 0; b < 4; b++) {
                    a[b][0] += v[b] * f0;
                    a[b][1] += v[b] * f1;
                }
            }
            for (size_t b = 0; b < block; b++) {
                for (size_t c = 0; c < 2 && r + c < rank; c++)
                    bio_finish_dot(bio_sum4(a[b][c]), wide + b * n, m + (r + c) * n, body, n, out + (i + b) * rank + r + c);
            }
        }
    }
    free(wide);
    free(m);
}

#endif

/* Blocks of 4 rows × 4 factor columns (16 accumulators), rows widened to double once per block,
 * eight columns per step: 8 loads feed 16 vector FMAs. */
BIO_CLONES
void bio_rows_dot_factor_f32(const float *x, size_t rows, size_t n, const double *mt, size_t rank, double *out) {
#if defined(__x86_64__) && defined(__linux__)
    if (!__builtin_cpu_supports("avx512f")) {  /* the x86-64-v3 clone (AVX2 + FMA), or the baseline one */
        bio_rows_dot_factor_narrow(x, rows, n, mt, rank, out);
        return;
    }
#endif
    size_t body = n - n % 8, padded;
    double *wide, *m;
    if (!bio_dot_buffers(mt, rank, n, &wide, &m, &padded)) return;
    for (size_t i = 0; i < rows; i += 4) {
        size_t block = rows - i < 4 ? rows - i : 4;
        bio_widen_rows(x, i, 4, rows, n, wide);
        for (size_t r = 0; r < padded; r += 4) {
            bio_prefetch_share(x, i, rows, n, r / 4, padded / 4);
            const double *m0 = m + r * n, *m1 = m0 + n, *m2 = m1 + n, *m3 = m2 + n;
            bio_d8 a[4][4];
            memset(a, 0, sizeof a);
            for (size_t j = 0; j < body; j += 8) {
                bio_d8 f[4], v[4];
                memcpy(&f[0], m0 + j, sizeof f[0]);
                memcpy(&f[1], m1 + j, sizeof f[0]);
                memcpy(&f[2], m2 + j, sizeof f[0]);
                memcpy(&f[3], m3 + j, sizeof f[0]);
                for (int b = 0; b < 4; b++) memcpy(&v[b], wide + b * n + j, sizeof v[0]);
                for (int b = 0; b < 4; b++)
                    for (int c = 0; c < 4; c++) a[b][c] += v[b] * f[c];
            }
            for (size_t b = 0; b < block; b++) {
                for (size_t c = 0; c < 4 && r + c < rank; c++)
                    bio_finish_dot(bio_sum8(a[b][c]), wide + b * n, m + (r + c) * n, body, n, out + (i + b) * rank + r + c);
            }
        }
    }
    free(wide);
    free(m);
}

/* Blocks of 4 rows × 4 factor columns, rows widened once per block: each accumulator row is loaded
 * and stored once per four tensor rows. */
static inline __attribute__((always_inline)) void bio_rows_weighted_sum(const float *x, size_t rows, size_t n, const double *w, size_t rank, double *outt) {
    size_t body = n - n % 8;
    double *wide = malloc(4 * n * sizeof(double));
    if (!wide) return;
    size_t shares = (rank + 3) / 4;
    for (size_t i = 0; i < rows; i += 4) {
        size_t block = rows - i < 4 ? rows - i : 4;
        bio_widen_rows(x, i, 4, rows, n, wide);
        for (size_t r = 0; r < rank; r += 4) {
            bio_prefetch_share(x, i, rows, n, r / 4, shares);
            size_t cols = rank - r < 4 ? rank - r : 4;
            double c[4][4] = {{0}};
            for (size_t b = 0; b < block; b++)
                for (size_t k = 0; k < cols; k++) c[k][b] = w[(i + b) * rank + r + k];
            for (size_t j = 0; j < body; j += 8) {
                bio_d8 v[4];
                for (int b = 0; b < 4; b++) memcpy(&v[b], wide + b * n + j, sizeof v[0]);
                for (size_t k = 0; k < cols; k++) {
                    double *o = outt + (r + k) * n + j;
                    bio_d8 acc;
                    memcpy(&acc, o, sizeof acc);
                    acc += v[0] * c[k][0] + v[1] * c[k][1] + v[2] * c[k][2] + v[3] * c[k][3];
                    memcpy(o, &acc, sizeof acc);
                }
            }
            for (size_t k = 0; k < cols; k++) {
                double *o = outt + (r + k) * n;
                for (size_t j = body; j < n; j++)
                    o[j] += wide[j] * c[k][0] + wide[n + j] * c[k][1] + wide[2 * n + j] * c[k][2] + wide[3 * n + j] * c[k][3];
            }
        }
    }
    free(wide);
}

#if defined(__x86_64__) && defined(__linux__)
/* bio_rows_weighted_sum_f32 for CPUs without AVX-512. The 4-row blocks above load and store every
 * accumulator row of outt once per four tensor rows, and 16 accumulators do not fit AVX2's 16
 * registers. Here a block of up to 32 rows is widened at once; for each 8 columns the products of a
 * group of up to 5 components are summed over the block's rows in registers (10 accumulators of 4
 * doubles, 2 row vectors and a broadcast weight: 13 registers) and added to outt once per block.
 * AMD EPYC Zen 3: 1.3x the 4-row × 2-component version on 40,000 × 400 rows, rank 10. */
enum { bio_wsum_rows = 32, bio_wsum_group = 5 };

static inline __attribute__((always_inline)) void bio_wsum_group_8(const double *wide, size_t block, size_t n, size_t j, const double *w, size_t rank, size_t r, double *outt, const int count) {
    bio_d4 a[bio_wsum_group][2];
    memset(a, 0, sizeof a);
    for (size_t b = 0; b < block; b++) {
        bio_d4 v0, v1;
        memcpy(&v0, wide + b * n + j, sizeof v0);
        memcpy(&v1, wide + b * n + j + 4, sizeof v1);
        const double *c = w + b * rank + r;
        for (int k = 0; k < count; k++) {
            a[k][0] += v0 * c[k];
            a[k][1] += v1 * c[k];
        }
    }
    for (int k = 0; k < count; k++) {
        double *o = outt + (r + k) * n + j;
        bio_d4 o0, o1;
        memcpy(&o0, o, sizeof o0);
        memcpy(&o1, o + 4, sizeof o1);
        o0 += a[k][0];
        o1 += a[k][1];
        memcpy(o, &o0, sizeof o0);
        memcpy(o + 4, &o1, sizeof o1);
    }
}

static inline __attribute__((always_inline)) void bio_rows_weighted_sum_blocked(const float *x, size_t rows, size_t n, const double *w, size_t rank, double *outt) {
    size_t body = n - n % 8;
    double *wide = malloc(bio_wsum_rows * n * sizeof(double));
    if (!wide) return;
    for (size_t i = 0; i < rows; i += bio_wsum_rows) {
        size_t block = rows - i < bio_wsum_rows ? rows - i : bio_wsum_rows;
        bio_widen_rows(x, i, block, rows, n, wide);
        const double *wi = w + i * rank;
        for (size_t j = 0; j < body; j += 8) {
            bio_prefetch_rows_share(x, i + bio_wsum_rows, bio_wsum_rows, rows, n, j / 8, body / 8);
            size_t r = 0;
            for (; r + bio_wsum_group <= rank; r += bio_wsum_group) bio_wsum_group_8(wide, block, n, j, wi, rank, r, outt, bio_wsum_group);
            switch (rank - r) {  /* constant counts: the accumulators stay in registers */
            case 4: bio_wsum_group_8(wide, block, n, j, wi, rank, r, outt, 4); break;
            case 3: bio_wsum_group_8(wide, block, n, j, wi, rank, r, outt, 3); break;
            case 2: bio_wsum_group_8(wide, block, n, j, wi, rank, r, outt, 2); break;
            case 1: bio_wsum_group_8(wide, block, n, j, wi, rank, r, outt, 1); break;
            default: break;
            }
        }
        for (size_t k = 0; k < rank; k++) {
            double *o = outt + k * n;
            for (size_t b = 0; b < block; b++) {
                double c = wi[b * rank + k];
                for (size_t j = body; j < n; j++) o[j] += wide[b * n + j] * c;
            }
        }
    }
    free(wide);
}
#endif

BIO_CLONES
void bio_rows_weighted_sum_f32(const float *x, size_t rows, size_t n, const double *w, size_t rank, double *outt) {
#if defined(__x86_64__) && defined(__linux__)
    if (!__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2")) {  /* the x86-64-v3 clone */
        bio_rows_weighted_sum_blocked(x, rows, n, w, rank, outt);
        return;
    }
#endif
    bio_rows_weighted_sum(x, rows, n, w, rank, outt);
}
