/* Ownership helpers in the systemd style: _cleanup_(foo_freep) on locals, TAKE_PTR() to hand
 * a value over. Secrets get their own cleanup in secret.h, which wipes before it frees. */
#pragma once

#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _taken = (p);  \
                (p) = NULL;                  \
                _taken;                      \
        })

/* Declares `name##p(type **)` that calls `func` on a non-NULL pointer. */
#define DEFINE_POINTER_CLEANUP(type, func)             \
        static inline void func##p(type **p) {          \
                if (*p)                                 \
                        func(*p);                       \
        }

static inline void freep(void *p) {
        free(*(void **)p);
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
