/* The fresh mode's rate limits (vmattest-host serve): a token bucket for every peer (a vsock
 * CID, or a UNIX socket: one per VM) and one for all of them, so that no guest can keep the
 * host TPM busy for the others. The peers' buckets are a fixed table: a host with more active
 * peers than it holds reuses the least recently seen one's, and no guest can make the service
 * keep more state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define RATE_PEERS_MAX 64

struct rate_bucket {
        uint64_t peer;
        uint64_t last_ns;   /* when the tokens were last counted */
        uint64_t tokens_mu; /* micro-tokens: a request costs 1000000 */
        bool used;
        bool limited_logged; /* "rate limited" said once until it serves again */
};

struct rate_limit {
        unsigned peer_rate, peer_burst;     /* requests a second, and at once, per peer */
        unsigned global_rate, global_burst; /* for all peers together */
        struct rate_bucket global;
        struct rate_bucket peers[RATE_PEERS_MAX];
};

void rate_limit_init(struct rate_limit *rl, unsigned peer_rate, unsigned global_rate);
/* Takes a request's token from the peer's bucket and the global one, both or neither. false:
 * over a limit, `*which` says "peer" or "global", and `*first` whether that is the first
 * refusal since the peer was last served (to log once). */
bool rate_limit_take(struct rate_limit *rl, uint64_t peer, uint64_t now_ns, const char **which, bool *first);
