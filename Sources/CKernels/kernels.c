#include "bioembed_kernels.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#define BIO_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
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
