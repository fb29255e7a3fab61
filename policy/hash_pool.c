#include "policy/hash_pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "policy/file_digest.h"

unsigned hash_pool_default_workers(void) {
        cpu_set_t set;
        int n;

        if (sched_getaffinity(0, sizeof(set), &set) < 0)
                return 1;
        n = CPU_COUNT(&set);
        return n > 0 ? (unsigned)n : 1;
}

struct pool {
        const struct image_tree *tree;
        TPM2_ALG_ID alg;
        uint8_t *digests;
        bool *gone;
        atomic_size_t next;
        atomic_bool stop;
        pthread_mutex_t lock;
        size_t error_index; /* tree->count: none */
        int error;
        char *error_detail;
};

static void record_error(struct pool *pool, size_t index, int ret) {
        /* vm_error()'s detail is this thread's: copied out for the caller's thread */
        char *detail = strdup(vm_error_detail(ret));

        pthread_mutex_lock(&pool->lock);
        if (index < pool->error_index) {
                free(pool->error_detail);
                pool->error_detail = detail;
                pool->error = ret;
                pool->error_index = index;
                detail = NULL;
        }
        pthread_mutex_unlock(&pool->lock);
        free(detail);
        atomic_store(&pool->stop, true);
}

static void *worker(void *arg) {
        struct pool *pool = arg;
        const struct image_tree *tree = pool->tree;
        struct file_hasher hasher;
        size_t size = hashalg_size(pool->alg);
        int ret = file_hasher_init(&hasher, pool->alg);

        if (ret < 0) {
                record_error(pool, 0, ret);
                return NULL;
        }
        while (!atomic_load_explicit(&pool->stop, memory_order_relaxed)) {
                size_t i = atomic_fetch_add_explicit(&pool->next, 1, memory_order_relaxed);

                if (i >= tree->count)
                        break;
                ret = file_hasher_digest_beneath(&hasher, tree->root_fd, tree->files[i].path, pool->digests + i * size);
                if (ret == -ENOENT) {
                        log_warning("/%s: gone since the tree was walked, left out", tree->files[i].path);
                        pool->gone[i] = true;
                } else if (ret < 0)
                        record_error(pool, i, ret);
        }
        file_hasher_done(&hasher);
        return NULL;
}

int hash_pool_run(const struct image_tree *tree, TPM2_ALG_ID alg, unsigned workers, uint8_t *digests, bool *gone) {
        struct pool pool = { .tree = tree, .alg = alg, .digests = digests, .gone = gone, .error_index = tree->count };
        pthread_t *threads;
        unsigned started = 0;
        int ret = 0;

        if (workers == 0)
                workers = 1;
        if (workers > tree->count)
                workers = tree->count > 0 ? (unsigned)tree->count : 1;
        memset(gone, 0, tree->count * sizeof(*gone));
        pthread_mutex_init(&pool.lock, NULL);
        threads = calloc(workers, sizeof(*threads));
        if (!threads)
                return -ENOMEM;
        /* the caller's thread is one of the workers */
        for (unsigned i = 1; i < workers; i++) {
                ret = pthread_create(&threads[i], NULL, worker, &pool);
                if (ret != 0) {
                        log_warning("could not start hashing thread %u: %s; going on with %u", i + 1, strerror(ret), i);
                        break;
                }
                started++;
        }
        worker(&pool);
        for (unsigned i = 1; i <= started; i++)
                pthread_join(threads[i], NULL);
        free(threads);
        pthread_mutex_destroy(&pool.lock);
        if (pool.error_index < tree->count || pool.error_detail) {
                ret = vm_error(pool.error, "%s", pool.error_detail ? pool.error_detail : "hashing failed");
                free(pool.error_detail);
                return ret;
        }
        return 0;
}
