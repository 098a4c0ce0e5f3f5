#include "bioembed_dnnl.h"
#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#define BIO_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BIO_CLONES
#endif

/* One cached primitive: the shape, strides and thread count it was made for, and the scratchpad
 * it needs. Primitives use a scratchpad the caller passes (`dnnl_scratchpad_mode_user`): with
 * oneDNN's own (library) scratchpad, one primitive run by two threads at once, as encoders
 * embedding items side by side do, shares one scratchpad and the results mix. */
typedef struct {
    long m, n, k, lda, ldc;
    int accumulate, threads;
    dnnl_primitive_t primitive;
    size_t scratchpad_size;
    unsigned long last_use;
} cached_matmul;

enum { cache_size = 64 };
static cached_matmul cache[cache_size];
static unsigned long use_clock;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static void (*set_omp_threads)(int);
/* Each calling thread's buffers (grown on demand, freed when the thread ends): oneDNN's scratchpad
 * and the bfloat16 copy of a float32 input. Kept across calls: allocating them per call cost a page
 * fault per 4 kB touched, every call. */
static pthread_key_t buffers_key;
enum { scratchpad_slot, input_slot, buffer_slots };
typedef struct {
    void *data[buffer_slots];
    size_t size[buffer_slots];
} thread_buffers;

static void free_buffers(void *p) {
    thread_buffers *b = p;
    for (int i = 0; i < buffer_slots; i++) free(b->data[i]);
    free(b);
}

static void make_engine(void) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
    if (pthread_key_create(&buffers_key, free_buffers) != 0) {
        if (engine) dnnl_engine_destroy(engine);
        engine = NULL;
    }
    /* libdnnl brings libgomp; its per-thread team size is set through this symbol. */
    set_omp_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
}

/* This thread's buffer `slot` with at least `size` bytes, or NULL when memory runs out. */
static void *thread_buffer(int slot, size_t size) {
    thread_buffers *b = pthread_getspecific(buffers_key);
    if (!b) {
        if (!(b = calloc(1, sizeof *b))) return NULL;
        if (pthread_setspecific(buffers_key, b) != 0) {
            free(b);
            return NULL;
        }
    }
    if (b->size[slot] < size) {
        void *grown = aligned_alloc(64, (size + 63) / 64 * 64);
        if (!grown) return NULL;
        free(b->data[slot]);
        b->data[slot] = grown;
        b->size[slot] = size;
    }
    return b->data[slot];
}

static int describe(dnnl_memory_desc_t *d, long rows, long cols, long row_stride, long col_stride, dnnl_data_type_t type) {
    dnnl_dims_t dims = {rows, cols}, strides = {row_stride, col_stride};
    return dnnl_memory_desc_init_by_strides(d, 2, dims, type, strides);
}

/* A new primitive for the shape, or NULL; `scratchpad_size` gets the bytes of scratchpad it
 * needs, `impl` (optional) its implementation name. Made in the calling thread, whose OpenMP team
 * size the caller has set: oneDNN fixes a primitive's thread count when it makes it. */
static dnnl_primitive_t make_matmul(long m, long n, long k, long lda, long ldc, int accumulate, size_t *scratchpad_size, char *impl,
                                    size_t impl_size) {
    dnnl_memory_desc_t src, weights, dst;
    if (describe(&src, m, k, lda, 1, dnnl_bf16) || describe(&weights, k, n, 1, k, dnnl_bf16) || describe(&dst, m, n, ldc, 1, dnnl_f32)) return NULL;
    dnnl_matmul_desc_t desc;
    if (dnnl_matmul_desc_init(&desc, &src, &weights, NULL, &dst) != dnnl_success) return NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    int failed = dnnl_primitive_attr_create(&attr) || dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (!failed && accumulate)
        failed = dnnl_post_ops_create(&ops) || dnnl_post_ops_append_sum(ops, 1.0f) || dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t status = failed ? dnnl_runtime_error : dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (status != dnnl_success) return NULL;
    if (impl) {
        const char *name = NULL;
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
        snprintf(impl, impl_size, "%s", name ? name : "?");
    }
    const dnnl_memory_desc_t *scratch = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    *scratchpad_size = scratch ? dnnl_memory_desc_get_size(scratch) : 0;
    dnnl_primitive_t primitive = NULL;
    if (dnnl_primitive_create(&primitive, pd) != dnnl_success) primitive = NULL;
    dnnl_primitive_desc_destroy(pd);
    return primitive;
}

int bio_bf16_matmul_available(char *why, size_t why_size) {
    pthread_once(&engine_once, make_engine);
    if (!engine) {
        snprintf(why, why_size, "oneDNN could not create a CPU engine");
        return 0;
    }
    char impl[128] = "";
    size_t scratchpad_size = 0;
    dnnl_primitive_t probe = make_matmul(64, 64, 64, 64, 64, 0, &scratchpad_size, impl, sizeof impl);
    if (!probe) {
        snprintf(why, why_size, "oneDNN %d.%d has no bfloat16 matmul for this CPU", dnnl_version()->major, dnnl_version()->minor);
        return 0;
    }
    dnnl_primitive_destroy(probe);
    /* Native kernels name the ISA (avx512_core_bf16, avx512_core_amx); anything else emulates bf16
     * (slower than float32). */
    int native = strstr(impl, "bf16") != NULL || strstr(impl, "amx") != NULL;
    snprintf(why, why_size, native ? "oneDNN %d.%d matmul %s" : "oneDNN %d.%d only emulates bfloat16 on this CPU (%s)", dnnl_version()->major,
             dnnl_version()->minor, impl);
    return native;
}

/* The cached primitive for the shape and thread count (made on first use), with the size of its
 * scratchpad; NULL when oneDNN refuses it. */
static dnnl_primitive_t primitive_for(long m, long n, long k, long lda, long ldc, int accumulate, int threads, size_t *scratchpad_size) {
    pthread_mutex_lock(&cache_lock);
    int slot = -1, oldest = 0;
    for (int i = 0; i < cache_size; i++) {
        cached_matmul *e = &cache[i];
        if (e->primitive && e->m == m && e->n == n && e->k == k && e->lda == lda && e->ldc == ldc && e->accumulate == accumulate &&
            e->threads == threads) {
            slot = i;
            break;
        }
        if (!e->primitive || (cache[oldest].primitive && e->last_use < cache[oldest].last_use)) oldest = i;
    }
    if (slot < 0) {
        size_t size = 0;
        dnnl_primitive_t made = make_matmul(m, n, k, lda, ldc, accumulate, &size, NULL, 0);
        if (!made) {
            pthread_mutex_unlock(&cache_lock);
            return NULL;
        }
        /* Evicting a primitive another thread may be executing would be unsafe: the evicted one is
         * leaked instead (a few kB; the cache only turns over when shapes keep changing). */
        cache[oldest] = (cached_matmul){m, n, k, lda, ldc, accumulate, threads, made, size, 0};
        slot = oldest;
    }
    cache[slot].last_use = ++use_clock;
    dnnl_primitive_t primitive = cache[slot].primitive;
    *scratchpad_size = cache[slot].scratchpad_size;
    pthread_mutex_unlock(&cache_lock);
    return primitive;
}

/* The product with A already in bfloat16 (row stride lda). */
static int bf16_matmul(const uint16_t *a, long lda, const uint16_t *w, long m, long n, long k, float *c, long ldc, int accumulate, int threads) {
    pthread_once(&engine_once, make_engine);
    if (!engine) return dnnl_runtime_error;
    if (threads < 1) threads = 1;
    /* this thread's team size, before the primitive is made (it keeps the count it was made with) */
    if (set_omp_threads) set_omp_threads(threads);
    size_t scratchpad_size = 0;
    dnnl_primitive_t primitive = primitive_for(m, n, k, lda, ldc, accumulate, threads, &scratchpad_size);
    if (!primitive) return dnnl_unimplemented;
    void *scratch = scratchpad_size ? thread_buffer(scratchpad_slot, scratchpad_size) : NULL;
    if (scratchpad_size && !scratch) return dnnl_out_of_memory;
    dnnl_memory_desc_t src, weights, dst, scratch_desc;
    describe(&src, m, k, lda, 1, dnnl_bf16);
    describe(&weights, k, n, 1, k, dnnl_bf16);
    describe(&dst, m, n, ldc, 1, dnnl_f32);
    dnnl_dims_t scratch_dims = {(dnnl_dim_t)scratchpad_size};
    dnnl_memory_t ms = NULL, mw = NULL, md = NULL, mscratch = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_status_t status = dnnl_memory_create(&ms, &src, engine, (void *)a);
    if (status == dnnl_success) status = dnnl_memory_create(&mw, &weights, engine, (void *)w);
    if (status == dnnl_success) status = dnnl_memory_create(&md, &dst, engine, c);
    if (status == dnnl_success && scratch) status = dnnl_memory_desc_init_by_tag(&scratch_desc, 1, scratch_dims, dnnl_u8, dnnl_a);
    if (status == dnnl_success && scratch) status = dnnl_memory_create(&mscratch, &scratch_desc, engine, scratch);
    if (status == dnnl_success) status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    if (status == dnnl_success) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}, {DNNL_ARG_SCRATCHPAD, mscratch}};
        status = dnnl_primitive_execute(primitive, stream, mscratch ? 4 : 3, args);
        if (status == dnnl_success) status = dnnl_stream_wait(stream);
    }
    if (stream) dnnl_stream_destroy(stream);
    if (mscratch) dnnl_memory_destroy(mscratch);
    if (md) dnnl_memory_destroy(md);
    if (mw) dnnl_memory_destroy(mw);
    if (ms) dnnl_memory_destroy(ms);
    return status;
}

BIO_CLONES
void bio_f32_to_bf16(const float *x, long rows, long cols, long ldx, uint16_t *out) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * ldx;
        uint16_t *o = out + r * cols;
        for (long j = 0; j < cols; j++) {
            uint32_t bits;
            memcpy(&bits, &row[j], 4);
            uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
            /* NaN stays a (quiet) NaN instead of rounding into infinity */
            o[j] = (bits & 0x7FFFFFFFu) > 0x7F800000u ? (uint16_t)((bits >> 16) | 0x40u) : (uint16_t)rounded;
        }
    }
}

int bio_bf16_linear_f32(const float *a, long lda, const uint16_t *w, long m, long n, long k, float *c, long ldc, int accumulate, int threads) {
    pthread_once(&engine_once, make_engine);
    if (!engine) return dnnl_runtime_error;
    uint16_t *rounded = thread_buffer(input_slot, (size_t)m * (size_t)k * sizeof(uint16_t));
    if (!rounded) return dnnl_out_of_memory;
    bio_f32_to_bf16(a, m, k, lda, rounded);
    return bf16_matmul(rounded, k, w, m, n, k, c, ldc, accumulate, threads);
}
