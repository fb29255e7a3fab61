/* The tenant's side of a key release, for tests that drive an agent by hand: reads the agent's
 * payload key (PEM), splits a fresh K, and writes the bodies of POST /keys/ukey and /keys/vkey,
 * a ukey body whose auth_tag is wrong, and K's answer to GET /keys/verify?challenge=CHALLENGE.
 * Usage: keyrelease-forge PUBKEY.pem AGENT_ID PAYLOAD-FILE CHALLENGE OUTDIR */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth_tag.h"
#include "lib/key_split.h"

static int write_text(const char *dir, const char *name, const char *text) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        if (!f || fputs(text, f) < 0)
                return perror(path), -1;
        return fclose(f);
}

int main(int argc, char **argv) {
        struct key_split *split = NULL;
        char *u = NULL, *v = NULL, *sealed = NULL, body[8192], hmac[AUTH_TAG_HEX_SIZE];
        uint8_t payload[65536];
        size_t payload_size;
        EVP_PKEY *pubkey;
        FILE *f;

        if (argc != 6) {
                fprintf(stderr, "Usage: keyrelease-forge PUBKEY.pem AGENT_ID PAYLOAD-FILE CHALLENGE OUTDIR\n");
                return 2;
        }
        f = fopen(argv[1], "r");
        pubkey = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
        if (f)
                fclose(f);
        f = fopen(argv[3], "rb");
        payload_size = f ? fread(payload, 1, sizeof(payload), f) : 0;
        if (f)
                fclose(f);
        if (!pubkey || !f || key_split_new(argv[2], &split) < 0 || key_half_wrap(pubkey, split->u, &u) < 0 ||
            key_half_wrap(pubkey, split->v, &v) < 0 || key_split_seal(split, payload, payload_size, &sealed) < 0 ||
            auth_tag_compute(split->k, KEY_SPLIT_SIZE, argv[4], hmac) < 0) {
                fprintf(stderr, "keyrelease-forge: cannot make the key release\n");
                return 1;
        }
        snprintf(body, sizeof(body), "{\"encrypted_key\":\"%s\",\"auth_tag\":\"%s\",\"payload\":\"%s\"}", u, split->auth_tag,
                 sealed);
        write_text(argv[5], "ukey.json", body);
        snprintf(body, sizeof(body), "{\"encrypted_key\":\"%s\"}", v);
        write_text(argv[5], "vkey.json", body);
        split->auth_tag[0] = split->auth_tag[0] == '0' ? '1' : '0';
        snprintf(body, sizeof(body), "{\"encrypted_key\":\"%s\",\"auth_tag\":\"%s\",\"payload\":\"%s\"}", u, split->auth_tag,
                 sealed);
        write_text(argv[5], "ukey-bad-tag.json", body);
        write_text(argv[5], "verify.hmac", hmac);
        key_split_free(split);
        EVP_PKEY_free(pubkey);
        free(u), free(v), free(sealed);
        return 0;
}
