/* Hashing every file of an image tree on a pool of worker threads: each takes the next file not
 * taken yet (an atomic counter), so that a few large files do not leave the others idle. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "policy/image_tree.h"

/* The CPUs this process may run on. */
unsigned hash_pool_default_workers(void);

/* Hashes tree->files[i] into digests + i * hashalg_size(alg) with `workers` threads (the caller's
 * among them). A file gone since the walk is left out with a warning: gone[i] is set. The first
 * other failure stops the pool; the one reported is that of the lowest-numbered file among those
 * that failed, its detail naming the file. */
int hash_pool_run(const struct image_tree *tree, TPM2_ALG_ID alg, unsigned workers, uint8_t *digests, bool *gone);
