/* LD_PRELOAD heap-allocation counter for tools/bench-broker --counts.
 * Counts every malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign call of the process (all
 * threads) and, on SIGUSR2, writes the count so far as decimal text to the file named by MALLOC_COUNT_FILE.
 * Build: cc -O2 -shared -fPIC -o malloc-count.so tools/malloc-count.c */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static unsigned long long count;
static char path[4096];

void *malloc(size_t n) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED);
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

/* Async-signal-safe: open, write, close and integer formatting only. */
static void report(int sig) {
    (void)sig;
    if (!path[0]) return;
    char text[24];
    int i = sizeof text;
    unsigned long long v = __atomic_load_n(&count, __ATOMIC_RELAXED);
    text[--i] = '\n';
    do { text[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    ssize_t ignored = write(fd, text + i, sizeof text - i);
    (void)ignored;
    close(fd);
}

__attribute__((constructor)) static void install(void) {
    const char *p = getenv("MALLOC_COUNT_FILE");
    if (p) strncpy(path, p, sizeof path - 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = report;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
}
