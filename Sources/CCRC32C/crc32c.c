// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
//
// Two implementations:
//  - slicing-by-8 tables (portable);
//  - SSE4.2 `crc32` instructions on three interleaved streams, recombined with
//    "append N zero bytes" operators (the technique of Mark Adler's crc32c.c).
// All tables are built once under pthread_once, so every entry point is thread-safe.

#include "CCRC32C.h"
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define PORTASK_X86 1
#include <nmmintrin.h>
#endif

#define POLY 0x82F63B78u
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t slice_table[8][256];
static uint32_t long_zeros[4][256];
static uint32_t short_zeros[4][256];
static int has_sse42 = 0;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static uint32_t gf2_matrix_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_matrix_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) square[n] = gf2_matrix_times(mat, mat[n]);
}

// Operator that appends `len` zero bytes (len a power of two) to a raw CRC register.
static void zeros_operator(uint32_t *even, size_t len) {
    uint32_t odd[32];
    odd[0] = POLY;
    uint32_t row = 1;
    for (int n = 1; n < 32; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_matrix_square(even, odd);  // 2 zero bits
    gf2_matrix_square(odd, even);  // 4 zero bits
    do {
        gf2_matrix_square(even, odd);
        len >>= 1;
        if (len == 0) return;
        gf2_matrix_square(odd, even);
        len >>= 1;
    } while (len);
    for (int n = 0; n < 32; n++) even[n] = odd[n];
}

static void zeros_table(uint32_t zeros[4][256], size_t len) {
    uint32_t op[32];
    zeros_operator(op, len);
    for (uint32_t n = 0; n < 256; n++) {
        zeros[0][n] = gf2_matrix_times(op, n);
        zeros[1][n] = gf2_matrix_times(op, n << 8);
        zeros[2][n] = gf2_matrix_times(op, n << 16);
        zeros[3][n] = gf2_matrix_times(op, n << 24);
    }
}

static inline uint32_t shift_crc(uint32_t zeros[4][256], uint32_t crc) {
    return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^ zeros[2][(crc >> 16) & 0xff] ^
           zeros[3][crc >> 24];
}

static void init_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        slice_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = slice_table[0][n];
        for (int k = 1; k < 8; k++) {
            c = slice_table[0][c & 0xff] ^ (c >> 8);
            slice_table[k][n] = c;
        }
    }
    zeros_table(long_zeros, LONG_BLOCK);
    zeros_table(short_zeros, SHORT_BLOCK);
#if PORTASK_X86
    __builtin_cpu_init();
    has_sse42 = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
}

static inline void ensure_init(void) { pthread_once(&init_once, init_tables); }

static inline uint64_t load_le64(const uint8_t *p) {
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 24) |
           ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) | ((uint64_t)p[6] << 48) |
           ((uint64_t)p[7] << 56);
}

static uint32_t crc32c_slicing8(uint32_t crc, const uint8_t *p, size_t length) {
    uint32_t c = ~crc;
    while (length && ((uintptr_t)p & 7)) {
        c = slice_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        length--;
    }
    while (length >= 8) {
        uint64_t word = load_le64(p) ^ c;
        c = slice_table[7][word & 0xff] ^ slice_table[6][(word >> 8) & 0xff] ^
            slice_table[5][(word >> 16) & 0xff] ^ slice_table[4][(word >> 24) & 0xff] ^
            slice_table[3][(word >> 32) & 0xff] ^ slice_table[2][(word >> 40) & 0xff] ^
            slice_table[1][(word >> 48) & 0xff] ^ slice_table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length--) c = slice_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#if PORTASK_X86 && defined(__x86_64__)
static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *next, size_t length) {
    uint64_t crc0 = (uint32_t)~crc;
    while (length && ((uintptr_t)next & 7)) {
        crc0 = _mm_crc32_u8((uint32_t)crc0, *next++);
        length--;
    }
    while (length >= LONG_BLOCK * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const uint8_t *end = next + LONG_BLOCK;
        do {
            crc0 = _mm_crc32_u64(crc0, load64(next));
            crc1 = _mm_crc32_u64(crc1, load64(next + LONG_BLOCK));
            crc2 = _mm_crc32_u64(crc2, load64(next + 2 * LONG_BLOCK));
            next += 8;
        } while (next < end);
        crc0 = shift_crc(long_zeros, (uint32_t)crc0) ^ (uint32_t)crc1;
        crc0 = shift_crc(long_zeros, (uint32_t)crc0) ^ (uint32_t)crc2;
        next += LONG_BLOCK * 2;
        length -= LONG_BLOCK * 3;
    }
    while (length >= SHORT_BLOCK * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const uint8_t *end = next + SHORT_BLOCK;
        do {
            crc0 = _mm_crc32_u64(crc0, load64(next));
            crc1 = _mm_crc32_u64(crc1, load64(next + SHORT_BLOCK));
            crc2 = _mm_crc32_u64(crc2, load64(next + 2 * SHORT_BLOCK));
            next += 8;
        } while (next < end);
        crc0 = shift_crc(short_zeros, (uint32_t)crc0) ^ (uint32_t)crc1;
        crc0 = shift_crc(short_zeros, (uint32_t)crc0) ^ (uint32_t)crc2;
        next += SHORT_BLOCK * 2;
        length -= SHORT_BLOCK * 3;
    }
    while (length >= 8) {
        crc0 = _mm_crc32_u64(crc0, load64(next));
        next += 8;
        length -= 8;
    }
    while (length) {
        crc0 = _mm_crc32_u8((uint32_t)crc0, *next++);
        length--;
    }
    return ~(uint32_t)crc0;
}
#define PORTASK_HAVE_SSE42_PATH 1
#endif

uint32_t portask_crc32c_software(uint32_t crc, const void *data, size_t length) {
    ensure_init();
    return crc32c_slicing8(crc, (const uint8_t *)data, length);
}

uint32_t portask_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    ensure_init();
#ifdef PORTASK_HAVE_SSE42_PATH
    if (has_sse42) return crc32c_sse42(crc, (const uint8_t *)data, length);
#endif
    return crc32c_slicing8(crc, (const uint8_t *)data, length);
}

int portask_crc32c_hardware_available(void) {
    ensure_init();
#ifdef PORTASK_HAVE_SSE42_PATH
    return has_sse42;
#else
    return 0;
#endif
}

uint32_t portask_crc32c(uint32_t crc, const void *data, size_t length) {
    return portask_crc32c_hardware(crc, data, length);
}
