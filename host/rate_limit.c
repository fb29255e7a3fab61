#include "host/rate_limit.h"

#include <string.h>

#define TOKEN_MU 1000000ull

void rate_limit_init(struct rate_limit *rl, unsigned peer_rate, unsigned global_rate) {
        memset(rl, 0, sizeof(*rl));
        rl->peer_rate = peer_rate;
        rl->peer_burst = peer_rate;
        rl->global_rate = global_rate;
        rl->global_burst = global_rate;
}

/* The bucket's tokens now: rate a second since it was last counted, at most `burst`. */
static void refill(struct rate_bucket *b, unsigned rate, unsigned burst, uint64_t now_ns) {
        uint64_t elapsed = now_ns > b->last_ns ? now_ns - b->last_ns : 0, cap = burst * TOKEN_MU;

        /* a second's worth at most: rate * elapsed cannot overflow, and the cap is reached */
        if (elapsed > 1000000000ull)
                elapsed = 1000000000ull;
        b->tokens_mu += rate * elapsed / 1000; /* ns * tokens/s = micro-tokens * 1000 */
        if (b->tokens_mu > cap)
                b->tokens_mu = cap;
        b->last_ns = now_ns;
}

static struct rate_bucket *peer_bucket(struct rate_limit *rl, uint64_t peer, uint64_t now_ns) {
        struct rate_bucket *oldest = &rl->peers[0];

        for (unsigned i = 0; i < RATE_PEERS_MAX; i++) {
                struct rate_bucket *b = &rl->peers[i];

                if (b->used && b->peer == peer)
                        return b;
                if (!b->used || (oldest->used && b->last_ns < oldest->last_ns))
                        oldest = b;
        }
        *oldest = (struct rate_bucket){
                .peer = peer, .last_ns = now_ns, .tokens_mu = rl->peer_burst * TOKEN_MU, .used = true
        };
        return oldest;
}

bool rate_limit_take(struct rate_limit *rl, uint64_t peer, uint64_t now_ns, const char **which, bool *first) {
        struct rate_bucket *b = peer_bucket(rl, peer, now_ns);

        if (!rl->global.used)
                rl->global = (struct rate_bucket){
                        .last_ns = now_ns, .tokens_mu = rl->global_burst * TOKEN_MU, .used = true
                };
        refill(b, rl->peer_rate, rl->peer_burst, now_ns);
        refill(&rl->global, rl->global_rate, rl->global_burst, now_ns);
        if (b->tokens_mu < TOKEN_MU || rl->global.tokens_mu < TOKEN_MU) {
                *which = b->tokens_mu < TOKEN_MU ? "peer" : "global";
                *first = !b->limited_logged;
                b->limited_logged = true;
                return false;
        }
        b->tokens_mu -= TOKEN_MU;
        rl->global.tokens_mu -= TOKEN_MU;
        b->limited_logged = false;
        return true;
}
