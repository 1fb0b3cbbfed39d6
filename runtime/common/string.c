/*
 * memset and memcpy for the bare-metal targets, word at a time.
 *
 * picolibc's are its size-optimised byte loops: zeroing one DS-CNN
 * accumulator (32 KB) cost 128K instructions (4 per byte); all fills and
 * copies were 29 % of DS-CNN S's instructions.
 * These take the library's place at link time (our objects come first); the
 * library's __aeabi_memclr / memset4 / ... call them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* GCC must not turn the loops below back into calls of memset/memcpy. */
#if defined(__GNUC__) && !defined(__clang__)
#define MCUSPARSE_NO_IDIOMS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define MCUSPARSE_NO_IDIOMS
#endif

/* Words that may alias the bytes they are built from. */
typedef uint32_t __attribute__((may_alias)) word_t;

MCUSPARSE_NO_IDIOMS void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n && ((uintptr_t)d & 3)) {
        *d++ = (unsigned char)c;
        n--;
    }
    uint32_t word = (unsigned char)c * 0x01010101u;
    word_t *w = (word_t *)d;
    for (; n >= 16; n -= 16, w += 4) {
        w[0] = word;
        w[1] = word;
        w[2] = word;
        w[3] = word;
    }
    for (; n >= 4; n -= 4)
        *w++ = word;
    d = (unsigned char *)w;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

MCUSPARSE_NO_IDIOMS void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((((uintptr_t)d ^ (uintptr_t)s) & 3) == 0) {
        while (n && ((uintptr_t)d & 3)) {
            *d++ = *s++;
            n--;
        }
        word_t *wd = (word_t *)d;
        const word_t *ws = (const word_t *)s;
        for (; n >= 16; n -= 16, wd += 4, ws += 4) {
            uint32_t a = ws[0], b = ws[1], c = ws[2], e = ws[3];
            wd[0] = a;
            wd[1] = b;
            wd[2] = c;
            wd[3] = e;
        }
        for (; n >= 4; n -= 4)
            *wd++ = *ws++;
        d = (unsigned char *)wd;
        s = (const unsigned char *)ws;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

#if defined(__ARM_EABI__)
/* The run-time ABI's copies (LLVM calls these for llvm.memcpy); defined here
 * so that the library's memcpy object, which also defines memcpy, is not
 * pulled in next to ours. */
void __aeabi_memcpy(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
void __aeabi_memcpy4(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
void __aeabi_memcpy8(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
#endif
