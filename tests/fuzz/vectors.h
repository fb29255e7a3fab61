/* The unit tests' vectors (tests/unit/vectors/) for harnesses that need genuine TPM output or
 * keys: read from the top of the tree, which is the working directory (tests/run, run-long) or
 * four levels above the harness (build/fuzz/tests/fuzz/fuzz-NAME). Header-only. */
#pragma once

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, malloc'ed and NUL-terminated (the NUL not counted); aborts when missing. */
static inline char *fuzz_vector(const char *argv0, const char *name, size_t *size) {
        char path[4096], *self = strdup(argv0), *text = NULL;
        long length = -1;
        FILE *f;

        snprintf(path, sizeof(path), "tests/unit/vectors/%s", name);
        f = fopen(path, "rb");
        if (!f && self) {
                snprintf(path, sizeof(path), "%s/../../../../tests/unit/vectors/%s", dirname(self), name);
                f = fopen(path, "rb");
        }
        free(self);
        if (f && fseek(f, 0, SEEK_END) == 0 && (length = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (text = calloc(1, (size_t)length + 1)) && fread(text, 1, (size_t)length, f) != (size_t)length) {
                free(text);
                text = NULL;
        }
        if (f)
                fclose(f);
        if (!text) {
                fprintf(stderr, "fuzz: cannot read tests/unit/vectors/%s (run from the top of the tree)\n", name);
                abort();
        }
        *size = (size_t)length;
        return text;
}
