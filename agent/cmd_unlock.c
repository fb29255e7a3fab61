/* vmattest unlock: the initrd's job (vmattest(8), UNLOCK AND MEASURE). Register, serve the agent
 * API until the tenant's verifier releases the key (docs/protocol.md §3), record the root identity
 * and the release in PCR 15 (docs/protocol.md §5.2), hand this boot's identity to the runtime agent
 * (agent/handover.h), answer systemd-cryptsetup's password request for each bound volume with the
 * key (docs/protocol.md §6), exit. No key within unlock_timeout, or any failure: the tenant's
 * fallback, never an unlock without attestation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "agent/agent_server.h"
#include "agent/askpass.h"
#include "agent/dm_crypt.h"
#include "agent/cmdline.h"
#include "agent/handover.h"
#include "agent/ima_policy.h"
#include "agent/measure.h"
#include "agent/subcommands.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/measurement_log.h"
#include "lib/notify.h"

#define UNLOCK_VOLUMES_MAX 16
#define TICK_MS 250
#define PROGRESS_EVERY_S 10
/* after the last answer, how long unlock still serves for the verifier's GET /keys/verify (its
 * proof that the release arrived; without it the verifier reads PCR 15's log instead) */
#define VERIFY_GRACE_MS 3000
/* exit statuses vmattest-unlock.service acts on */
#define EXIT_UNLOCKED 0
#define EXIT_FALLBACK_PROMPT 3   /* leave systemd's passphrase prompt to a human */
#define EXIT_FALLBACK_POWEROFF 1 /* the unit powers the VM off */

static const char unlock_help[] =
        "Usage: vmattest unlock [OPTIONS]\n"
        "\n"
        "In the initrd: registers, serves the agent API until the verifier releases the key, answers\n"
        "systemd-cryptsetup's password request for each volume in unlock_volumes with it, extends\n"
        "PCR 15 with each volume's identity and the release, and exits 0. Without a key within\n"
        "unlock_timeout seconds, or on any failure: exit 3 when unlock_fallback is prompt (the\n"
        "passphrase prompt stays for a human), 1 when it is poweroff. One progress line every\n"
        "10 s. The key is held in locked memory only and never written anywhere.\n"
        "Before it registers it loads the IMA policy (ima_policy) into the kernel. The rd.vmattest.*\n"
        "options of the kernel command line override agent.conf (see vmattest(8)). With mode = push\n"
        "(rd.vmattest.mode=push) it opens no port and pushes its evidence to verifier_url instead.\n"
        "\n"
        "      --cmdline FILE   read the kernel command line from FILE (default /proc/cmdline)\n" CLI_COMMON_HELP;

struct unlock {
        struct agent_server server;
        const struct agent_config *config;
        char *volumes[UNLOCK_VOLUMES_MAX];
        bool answered[UNLOCK_VOLUMES_MAX];
        size_t count;
        struct timespec start, serving, keyed; /* started, serving the API, K authenticated */
        uint64_t tpm_serving_ns, tpm_keyed_ns; /* the TPM's time so far at `serving` and at `keyed` */
        unsigned last_progress;
        struct event *tick;
        bool recorded; /* the key is here: PCR 15 extended and the identity handed over */
        bool all_answered;
        unsigned grace_ticks; /* ticks since every volume was answered */
        char refusal[256]; /* the last ask-password request refused, logged once */
        int outcome; /* 0 unlocked; < 0 the reason for the fallback */
};

static unsigned elapsed_s(const struct unlock *u) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (unsigned)(now.tv_sec - u->start.tv_sec);
}

static int split_volumes(struct unlock *u, const char *list) {
        char *copy = strdup(list), *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *v = strtok_r(copy, ", ", &save); v; v = strtok_r(NULL, ", ", &save)) {
                if (u->count == UNLOCK_VOLUMES_MAX) {
                        free(copy);
                        return vm_error(-EINVAL, "unlock_volumes names more than %d volumes", UNLOCK_VOLUMES_MAX);
                }
                if (!(u->volumes[u->count++] = strdup(v))) {
                        free(copy);
                        return -ENOMEM;
                }
        }
        free(copy);
        return u->count ? 0 : vm_error(-EINVAL, "unlock_volumes names no volume to unlock");
}

/* Whether `volume` has an active dm-crypt mapping; a volume that cannot be judged is not. */
static bool volume_opened_otherwise(const char *volume) {
        bool open = false;

        return dm_crypt_volume_open(DM_CRYPT_SYSFS_BLOCK, volume, &open) >= 0 && open;
}

/* The key is here: answer every volume's request that has appeared; done when all are. */
static int answer_volumes(struct unlock *u, bool *done) {
        const struct key_release *keys = &u->server.api.keys;
        struct askpass_request req;
        size_t answered = 0;
        int ret;

        if (!keys->payload)
                return vm_error(-EPERM, "the verifier released K without a payload: no key for the volumes");
        for (size_t i = 0; i < u->count; i++) {
                ret = u->answered[i] ? -EALREADY : askpass_find(u->config->askpass_dir, u->volumes[i], &req);
                if (ret == 0) {
                        ret = askpass_answer(&req, keys->payload->data, keys->payload->size);
                        if (ret == -ENOENT || ret == -ECONNREFUSED) {
                                /* the request went away between finding and answering it: the
                                 * volume was opened otherwise, or its request is made again */
                                log_info("unlock: %s; looking again", vm_error_detail(ret));
                        } else if (ret < 0) {
                                return ret;
                        } else {
                                u->answered[i] = true;
                                log_info("unlock: answered %s (%u s)", req.id, elapsed_s(u));
                                notify_status("key released; answered volume %s", u->volumes[i]);
                        }
                } else if (ret == -ENOENT && volume_opened_otherwise(u->volumes[i])) {
                        /* systemd-cryptsetup opened it without this answer (a passphrase typed at
                         * the prompt, or one it had cached): nothing is left to answer */
                        u->answered[i] = true;
                        log_info("unlock: %s was opened without this agent's answer (%u s)", u->volumes[i], elapsed_s(u));
                        notify_status("key released; volume %s open", u->volumes[i]);
                } else if (ret == -EPERM && strncmp(u->refusal, vm_error_detail(ret), sizeof(u->refusal) - 1) != 0) {
                        /* not systemd's request, or not reached as systemd's: the key stays here */
                        snprintf(u->refusal, sizeof(u->refusal), "%s", vm_error_detail(ret));
                        log_warning("unlock: %s", u->refusal);
                }
                answered += u->answered[i];
        }
        *done = answered == u->count;
        return 0;
}

/* docs/protocol.md §5.2: what this boot unlocked, and that a key was released, go into PCR 15. */
static int measure_unlock(struct unlock *u) {
        int ret = 0;

        for (size_t i = 0; ret >= 0 && i < u->count; i++)
                ret = measure_event(u->server.id.tpm, u->config, MEASUREMENT_EVENT_ROOT_IDENTITY, u->volumes[i]);
        if (ret >= 0)
                ret = measure_event(u->server.id.tpm, u->config, MEASUREMENT_EVENT_KEY_RELEASED, u->server.id.agent_id);
        return ret;
}

/* The runtime `serve` carries on as this agent after switch-root (the hand-over file). */
static int hand_identity_over(struct unlock *u) {
        const struct agent_server *s = &u->server;
        struct handover h = {
                .ak_handle = u->config->ak_handle,
                .payload_key = s->payload.key,
                /* in the TPM: the blobs to load it again, never the key itself */
                .payload_in_tpm = payload_key_in_tpm(&s->payload),
                .payload_parent = s->payload.in_tpm.parent_template,
                .payload_public = s->payload.in_tpm.public,
                .payload_private = s->payload.in_tpm.private,
                .mtls_key = s->id.mtls.key,
                .mtls_cert = s->id.mtls.cert,
        };
        int ret;

        snprintf(h.agent_id, sizeof(h.agent_id), "%s", s->id.agent_id);
        ret = handover_write(u->config->handover_path, &h, u->config->handover_uid);
        if (ret >= 0)
                log_info("unlock: agent identity handed over to the runtime agent in %s", u->config->handover_path);
        return ret;
}

static double timeval_ms(struct timeval tv) {
        return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static double between_ms(const struct timespec *from, const struct timespec *to) {
        return (double)(to->tv_sec - from->tv_sec) * 1e3 + (double)(to->tv_nsec - from->tv_nsec) / 1e6;
}

/* Where the time from start to the key handed to cryptsetup went (make bench reads this line):
 * bringing the agent up (registration; the TPM's wall time, all of it), waiting for the
 * verifier's key (of it, the TPM's: the quotes, and in push mode the session's proof of
 * possession, that the wait holds), and this process's CPU (all threads: a software payload key is made on its own while the
 * TPM and the registrar are busy, a TPM one by the TPM, in the TPM's time; under TCG the guest
 * kernel's TPM driver counts as system time). */
static void log_timing(const struct unlock *u) {
        struct timespec now;
        struct rusage usage;

        clock_gettime(CLOCK_MONOTONIC, &now);
        getrusage(RUSAGE_SELF, &usage);
        log_info("unlock: timing: key handed to cryptsetup after %.0f ms: serving after %.0f ms (TPM %.0f ms), "
                 "waiting for the verifier's key %.0f ms (TPM %.0f ms), CPU %.0f ms (user %.0f, system %.0f)",
                 between_ms(&u->start, &now), between_ms(&u->start, &u->serving), (double)tpm_time_total_ns() / 1e6,
                 between_ms(&u->serving, &u->keyed), (double)(u->tpm_keyed_ns - u->tpm_serving_ns) / 1e6,
                 timeval_ms(usage.ru_utime) + timeval_ms(usage.ru_stime),
                 timeval_ms(usage.ru_utime), timeval_ms(usage.ru_stime));
}

static void unlock_finish(struct unlock *u, int outcome) {
        u->outcome = outcome;
        event_base_loopexit(u->server.base, NULL);
}

/* The volumes whose prompt has appeared get the key; the timing line once all have it. */
static int answer_pending(struct unlock *u) {
        int ret;

        if (u->all_answered)
                return 0;
        ret = answer_volumes(u, &u->all_answered);
        if (ret >= 0 && u->all_answered)
                log_timing(u);
        return ret;
}

/* The agent API's completion callback: K authenticated and the payload opened. Recorded in
 * PCR 15 and handed over before the first answer: once a volume opens, switch-root may stop
 * this unit at any moment. */
static void on_key_released(void *user) {
        struct unlock *u = user;
        int ret;

        clock_gettime(CLOCK_MONOTONIC, &u->keyed);
        u->tpm_keyed_ns = tpm_time_total_ns();
        notify_status("key released; recording it in PCR 15, waiting for the volumes' prompts");
        ret = measure_unlock(u);
        if (ret >= 0)
                ret = hand_identity_over(u);
        u->recorded = true;
        if (ret >= 0)
                ret = answer_pending(u);
        if (ret < 0)
                unlock_finish(u, ret);
}

/* The verifier had K proved: its release is complete; done once every volume has the key. */
static void on_key_verified(void *user) {
        struct unlock *u = user;

        if (u->recorded && u->all_answered)
                unlock_finish(u, 0);
}

/* The clock: prompts that appear after the key, the grace for the verifier's proof, the
 * bound on the wait, and a progress line now and then. */
static void on_tick(evutil_socket_t fd, short events, void *user) {
        struct unlock *u = user;
        unsigned elapsed = elapsed_s(u);
        int ret;

        if (u->recorded) {
                ret = answer_pending(u);
                if (ret < 0) {
                        unlock_finish(u, ret);
                        return;
                }
                /* the volumes are open; the verifier's proof request is given a moment */
                if (u->all_answered &&
                    (u->server.api.keys_verified || ++u->grace_ticks * TICK_MS >= VERIFY_GRACE_MS)) {
                        unlock_finish(u, 0);
                        return;
                }
        }
        if (elapsed >= u->config->unlock_timeout)
                unlock_finish(u, vm_error(-ETIMEDOUT, "no key from the verifier within %u s", u->config->unlock_timeout));
        else if (elapsed >= u->last_progress + PROGRESS_EVERY_S) {
                u->last_progress = elapsed;
                log_info("unlock: waiting for the verifier's key (%u s of %u)%s", elapsed, u->config->unlock_timeout,
                         u->recorded ? ", key here, waiting for the volumes' prompts" : "");
                if (!u->recorded)
                        notify_status("waiting for the verifier's key (%u s of %u)", elapsed, u->config->unlock_timeout);
        }
}

int cmd_unlock(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "cmdline", required_argument, NULL, 'c' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *cmdline = CMDLINE_PATH;
        struct timeval tick = { .tv_sec = 0, .tv_usec = TICK_MS * 1000 };
        struct agent_server_setup setup = { .do_register = true, .mtls = MTLS_EPHEMERAL, .accept_keys = true };
        struct unlock u = { 0 };
        int opt, ret, fallback;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'c':
                        cmdline = optarg;
                        break;
                case 'h':
                        fputs(unlock_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("unlock", opt, argv);
                }
        }
        if ((ret = cli_no_operands("unlock", argc, argv)) != EXIT_OK)
                return ret;
        clock_gettime(CLOCK_MONOTONIC, &u.start);
        ret = cli_load_config(cli);
        if (ret == EXIT_OK && (ret = cmdline_apply_file(cmdline, &cli->config)) < 0)
                log_error("unlock: %s", vm_error_detail(ret));
        /* whatever fails from here on, the tenant's fallback decides what the boot does */
        fallback = strcmp(cli->config.unlock_fallback, "poweroff") == 0 ? EXIT_FALLBACK_POWEROFF : EXIT_FALLBACK_PROMPT;
        if (ret != EXIT_OK) {
                log_error("unlock: no attestation without a valid configuration; fallback: %s",
                          cli->config.unlock_fallback);
                return fallback;
        }
        u.config = &cli->config;
        log_info("unlock: attesting to the verifier before unlocking (up to %u s; then: %s)", cli->config.unlock_timeout,
                 cli->config.unlock_fallback);
        ret = split_volumes(&u, cli->config.unlock_volumes);
        /* before anything from the real root can run: from here on the kernel measures it */
        if (ret >= 0 && cli->config.ima_policy[0]) {
                ret = ima_policy_load(cli->config.ima_policy, IMA_POLICY_KERNEL);
                if (ret >= 0)
                        log_info("unlock: IMA policy %s loaded into the kernel (%u s)", cli->config.ima_policy,
                                 elapsed_s(&u));
        }
        /* handover_user's directory now: one unlock cannot give it fails before the verifier's key
         * (root's is made when the identity is handed over, after the PCR 15 log's, as always) */
        if (ret >= 0 && cli->config.handover_uid != 0)
                ret = handover_prepare(cli->config.handover_path, cli->config.handover_uid);
        setup.tcti = cli_tcti(cli);
        /* an unreachable registrar is waited for as long as the key is */
        setup.register_deadline = u.start.tv_sec + (time_t)cli->config.unlock_timeout;
        if (ret >= 0)
                ret = agent_server_start(&u.server, &cli->config, &setup);
        if (ret >= 0) {
                u.server.api.on_key_released = on_key_released;
                u.server.api.on_key_verified = on_key_verified;
                u.server.api.release_user = &u;
                u.tick = event_new(u.server.base, -1, EV_PERSIST, on_tick, &u);
                if (!u.tick || event_add(u.tick, &tick) < 0)
                        ret = -ENOMEM;
        }
        if (ret >= 0 && agent_config_push(&cli->config))
                log_info("unlock: push mode: the key comes through vmattest-verifier's release extension "
                         "(GET .../vmattest/release); Keylime's push verifier releases none");
        if (ret >= 0) {
                clock_gettime(CLOCK_MONOTONIC, &u.serving);
                u.tpm_serving_ns = tpm_time_total_ns();
                log_info("unlock: registered; waiting for the verifier's key (%u s)", elapsed_s(&u));
                /* vmattest-unlock.service stays Type=exec (cryptsetup must not wait for the
                 * registration): READY=1 matters only to a unit that asks for it */
                notify_status("waiting for the verifier's key (%u s of %u)", elapsed_s(&u), cli->config.unlock_timeout);
                notify_ready();
                event_base_dispatch(u.server.base);
                /* systemd stops the unit on its way to switch-root, maybe within the grace for a
                 * proof that a verifier without /keys/verify (Keylime's, unless the tenant asks
                 * --verify) never sends: once every volume has the key, that stop is the success
                 * it looks like, not a reason for the fallback */
                if (u.server.stopped_by_signal && !(u.recorded && u.all_answered))
                        ret = vm_error(-EINTR, "stopped by a signal");
                else
                        ret = u.outcome;
        }
        if (u.tick)
                event_free(u.tick);
        if (u.server.base)
                agent_server_stop(&u.server); /* wipes the key */
        for (size_t i = 0; i < u.count; i++)
                free(u.volumes[i]);
        if (ret < 0) {
                log_error("unlock: failed after %u s: %s; fallback: %s", elapsed_s(&u), vm_error_detail(ret),
                          cli->config.unlock_fallback);
                return fallback;
        }
        log_info("unlock: done: %zu volume(s) unlocked with the released key, PCR 15 extended (%u s)", u.count,
                 elapsed_s(&u));
        return EXIT_UNLOCKED;
}
