#pragma once
#include <hdf5.h>
/* HDF5's predefined ids are macros over mutable globals (H5T_NATIVE_FLOAT_g, valid only after
 * H5open()); Swift 6 cannot import them. Each shim calls through the macro, which runs H5open(). */
#define BIO_H5_ID(name) static inline hid_t bio_##name(void) { return name; }
BIO_H5_ID(H5T_NATIVE_FLOAT)  BIO_H5_ID(H5T_NATIVE_DOUBLE) BIO_H5_ID(H5T_NATIVE_INT32)
BIO_H5_ID(H5T_NATIVE_INT64)  BIO_H5_ID(H5T_NATIVE_UINT8)  BIO_H5_ID(H5T_IEEE_F32LE)
BIO_H5_ID(H5T_IEEE_F64LE)    BIO_H5_ID(H5T_STD_I32LE)     BIO_H5_ID(H5T_STD_I64LE)
BIO_H5_ID(H5T_STD_U8LE)      BIO_H5_ID(H5T_C_S1)
BIO_H5_ID(H5P_FILE_ACCESS)   BIO_H5_ID(H5P_FILE_CREATE)   BIO_H5_ID(H5P_DATASET_CREATE)
BIO_H5_ID(H5P_DATASET_ACCESS) BIO_H5_ID(H5P_DATASET_XFER) BIO_H5_ID(H5P_GROUP_CREATE)
BIO_H5_ID(H5P_LINK_CREATE)
#undef BIO_H5_ID
static inline unsigned bio_H5F_ACC_TRUNC(void)  { return H5F_ACC_TRUNC; }
static inline unsigned bio_H5F_ACC_EXCL(void)   { return H5F_ACC_EXCL; }
static inline unsigned bio_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned bio_H5F_ACC_RDWR(void)   { return H5F_ACC_RDWR; }
static inline hid_t    bio_H5P_DEFAULT(void)    { return H5P_DEFAULT; }
static inline hid_t    bio_H5E_DEFAULT(void)    { return H5E_DEFAULT; }
static inline hid_t    bio_H5S_ALL(void)        { return H5S_ALL; }
static inline hsize_t  bio_H5S_UNLIMITED(void)  { return H5S_UNLIMITED; }
static inline size_t   bio_H5T_VARIABLE(void)   { return H5T_VARIABLE; }
static inline int      bio_H5Z_FILTER_DEFLATE(void) { return H5Z_FILTER_DEFLATE; }
static inline int      bio_H5Z_FILTER_SHUFFLE(void) { return H5Z_FILTER_SHUFFLE; }
/* Silences HDF5's automatic error-stack printing; errors are reported through Swift throws. */
/* Thread-safe builds keep one error stack per thread, so this runs once in every thread. */
static inline void bio_h5_silence_errors(void) {
    static __thread int silenced = 0;
    if (!silenced) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); silenced = 1; }
}
/* The innermost message of the current error stack (the most specific), copied into buf. */
static herr_t bio_h5_walk_cb(unsigned n, const H5E_error2_t *err, void *data) {
    char *buf = (char *)data;
    if (n == 0 && err && err->desc) { snprintf(buf, 255, "%s", err->desc); }
    return 0;
}
static inline void bio_h5_last_error(char *buf) {
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, bio_h5_walk_cb, buf);
}
/* Frees the memory HDF5 allocated for variable-length data read into buf (1.10 vs 1.12+ API). */
static inline herr_t bio_h5_vlen_reclaim(hid_t type, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}
