/* vmattest first-boot --user-data FILE|-: the first boot of a cloud instance, run by the
 * cloud-init hook (packaging/cloud-init) with the `vmattest:` object of user-data as JSON.
 * First the configuration step: every field checked (first_boot_config.c), then the tenant's CA
 * and agent.conf keys written, each file atomically, and nothing at all when a field is bad.
 * Then, in this process (the token and the instance passphrase never leave its secure heap):
 * register with the token, restart the runtime agent, provision the volumes (escrow first),
 * crypttab and unlock_volumes, the image's provisioning dracut configuration removed, the initrd
 * rebuilt beside the running kernel's, the next boots' PCR 9 reported with it (agent/initrd_pin.h)
 * and only then renamed into place; last the root's provisioning keyslot and key file go.
 * Every step can run again, and a rerun of a first boot cut anywhere converges: the hook runs at
 * every boot, and vmattest's own record of the first boot (agent/first_boot_record.h) says
 * whether anything is left and whether the agent was enrolled already (then it registers without
 * the token, which the registrar consumed). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_identity.h"
#include "agent/first_boot_config.h"
#include "agent/first_boot_record.h"
#include "agent/first_boot_steps.h"
#include "agent/initrd_pin.h"
#include "agent/payload_key.h"
#include "agent/provision.h"
#include "agent/registration.h"
#include "agent/subcommands.h"
#include "lib/agent_id.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/secret_file.h"

#define CA_FILE_NAME "verifier-ca.pem"
#define CONF_MAX (256 * 1024)
#define FIRST_BOOT_SECURE_HEAP_SIZE (256 * 1024) /* the token, the passphrases, the escrow's mTLS key */
#define FIRST_BOOT_ESCROW_WAIT 600 /* seconds: the verifier attests the restarted runtime agent first */
/* the block this command owns at the end of agent.conf: a rerun replaces it */
#define BLOCK_BEGIN "# --- vmattest first-boot: the tenant's keys from cloud-init user-data (vmattest:) ---\n"
#define BLOCK_END "# --- end of vmattest first-boot ---\n"

static const char first_boot_help[] =
        "Usage: vmattest first-boot --user-data FILE|- [--instance-id ID] [OPTIONS]\n"
        "\n"
        "The first boot of a cloud instance, run by vmattest's cloud-init hook with the vmattest:\n"
        "object of user-data as JSON (FILE, or - for stdin). Checks every field, then writes the\n"
        "tenant's CA (verifier_ca) as verifier-ca.pem beside agent.conf and the tenant's keys into\n"
        "agent.conf, each atomically; nothing when a field is bad. Then registers with the token,\n"
        "restarts vmattest.service, provisions the volumes (the instance passphrase escrowed first),\n"
        "writes them to /etc/crypttab without a key file and to agent.conf's unlock_volumes, rebuilds\n"
        "the initrd (dracut --force) beside the old one, reports the next boots' PCR 9 with it to the\n"
        "verifier (as pin-initrd does), renames it into place, and only then kills the root's\n"
        "provisioning keyslot and removes the provisioning key. How far it got is recorded in\n"
        "the state directory (first-boot): a run cut short resumes when it runs again (the hook runs\n"
        "at every boot), an enrolled agent without the token; a done first boot exits at once.\n"
        "\n"
        "      --user-data FILE  the vmattest: object as JSON (- for stdin)\n"
        "      --instance-id ID  cloud-init's instance id (for agent_id: instance-id, and the record)\n"
        "      --configure-only  the configuration step alone (no record read or written)\n"
        "      --check-done      only say whether the first boot of this instance is done: exit 0\n"
        "                        and one line when it is, 1 without a word when not\n" CLI_COMMON_HELP;

/* Reads at most FIRST_BOOT_INPUT_MAX bytes of `path` ("-": stdin) into secure memory: the
 * object carries the enrolment token. */
static int read_user_data(const char *path, struct secret **out, size_t *size) {
        _cleanup_(secret_freep) struct secret *buf = secret_new(FIRST_BOOT_INPUT_MAX + 1);
        _cleanup_(closep) int fd = -1;
        int input = STDIN_FILENO;
        size_t used = 0;

        if (!buf)
                return -ENOMEM;
        if (strcmp(path, "-") != 0) {
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return vm_error(-errno, "--user-data %s: cannot open: %m", path);
                input = fd;
        }
        for (;;) {
                ssize_t n = read(input, buf->data + used, buf->size - used);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return vm_error(-errno, "--user-data %s: cannot read: %m", path);
                if (n == 0)
                        break;
                used += (size_t)n;
                if (used == buf->size)
                        return vm_error(-EINVAL, "--user-data %s: more than %d bytes", path, FIRST_BOOT_INPUT_MAX);
        }
        *size = used;
        *out = TAKE_PTR(buf);
        return 0;
}

/* The address this instance reaches the registrar from: the verifier's way back to the agent
 * when user-data gives no contact (the source address the kernel picks for that route). */
static int primary_ip(const struct first_boot_config *fb, char *out, size_t size) {
        struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
        struct sockaddr_storage local;
        socklen_t local_len = sizeof(local);
        char port[8];
        int ret, fd;

        snprintf(port, sizeof(port), "%u", fb->registrar_port);
        ret = getaddrinfo(fb->registrar_host, port, &hints, &res);
        if (ret != 0)
                return vm_error(-EHOSTUNREACH, "vmattest.contact not given, and the registrar %s does not resolve (%s)",
                                fb->registrar_host, gai_strerror(ret));
        fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        /* a UDP connect() sends nothing: it only chooses the route and the source address */
        ret = fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0 ||
                              getsockname(fd, (struct sockaddr *)&local, &local_len) < 0
                      ? -errno
                      : 0;
        freeaddrinfo(res);
        if (fd >= 0)
                close(fd);
        if (ret < 0)
                return vm_error(ret, "vmattest.contact not given, and no route to the registrar %s: %s",
                                fb->registrar_host, strerror(-ret));
        if (local.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&local)->sin6_addr, out, (socklen_t)size);
        else
                inet_ntop(AF_INET, &((struct sockaddr_in *)&local)->sin_addr, out, (socklen_t)size);
        return 0;
}

/* A data volume must be a block device now: a typo fails before anything is written. */
static int check_volumes(const struct first_boot_config *fb) {
        for (size_t i = 0; i < fb->volume_count; i++) {
                struct stat st;

                if (strcmp(fb->volumes[i], "root") == 0)
                        continue;
                if (stat(fb->volumes[i], &st) < 0)
                        return vm_error(-EINVAL, "vmattest.volumes[%zu]: %s: %m", i, fb->volumes[i]);
                if (!S_ISBLK(st.st_mode))
                        return vm_error(-EINVAL, "vmattest.volumes[%zu]: %s is not a block device", i, fb->volumes[i]);
        }
        return 0;
}

/* agent.conf's uuid for the agent_id field. */
static int agent_uuid(const struct first_boot_config *fb, const char *instance_id, char *out, size_t size) {
        switch (fb->agent_id) {
        case FIRST_BOOT_ID_INSTANCE_ID:
                if (!instance_id)
                        return vm_error(-EINVAL, "vmattest.agent_id: instance-id, but the hook gave no --instance-id");
                if (!agent_id_valid(instance_id))
                        return vm_error(-EINVAL,
                                        "vmattest.agent_id: instance-id, but the instance id \"%.80s\" is not an agent id "
                                        "(1-%d of A-Z a-z 0-9 . _ -): use ek-hash or generate",
                                        instance_id, AGENT_ID_MAX);
                snprintf(out, size, "%s", instance_id);
                return 0;
        case FIRST_BOOT_ID_GENERATE:
                snprintf(out, size, "generate");
                return 0;
        default:
                snprintf(out, size, "hash_ek");
                return 0;
        }
}

/* agent.conf as it is (the package's, the image builder's additions) without an earlier run's
 * block, then this run's block. */
static int compose_conf(const char *conf_path, const char *block, char **out) {
        _cleanup_(freep) char *old = NULL;
        size_t old_size = 0;
        char *begin, *end;
        int ret = file_read_all(conf_path, CONF_MAX, &old, &old_size);

        if (ret == -ENOENT)
                old = strdup(""), ret = old ? 0 : -ENOMEM;
        if (ret < 0)
                return ret;
        begin = strstr(old, BLOCK_BEGIN);
        if (begin) {
                end = strstr(begin, BLOCK_END);
                if (!end)
                        return vm_error(-EINVAL, "%s: the vmattest first-boot block has no end line: fix the file by hand",
                                        conf_path);
                memmove(begin, end + strlen(BLOCK_END), strlen(end + strlen(BLOCK_END)) + 1);
        }
        old_size = strlen(old);
        return asprintf(out, "%s%s%s", old, old_size && old[old_size - 1] != '\n' ? "\n" : "", block) < 0 ? -ENOMEM
                                                                                                             : 0;
}

/* Writes `text` into a new temporary file beside `path` (mode 0644, synced); its name in `tmp`. */
static int write_temp(const char *path, const char *text, char *tmp, size_t tmp_size) {
        _cleanup_(closep) int fd = -1;
        size_t len = strlen(text), done = 0;

        snprintf(tmp, tmp_size, "%s.first-boot.XXXXXX", path);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return vm_error(-errno, "%s: cannot create: %m", tmp);
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int err = -errno;

                        unlink(tmp);
                        return vm_error(err, "%s: cannot write: %m", tmp);
                }
                done += (size_t)n;
        }
        if (fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
                int err = -errno;

                unlink(tmp);
                return vm_error(err, "%s: cannot sync: %m", tmp);
        }
        return 0;
}

/* The CA file and agent.conf: both written to temporary files and agent.conf checked by the
 * agent's own loader first; only then renamed into place, the CA first (agent.conf names it). */
static int write_config(const char *conf_path, const char *ca_path, const char *ca_pem, const char *block) {
        _cleanup_(freep) char *conf = NULL;
        char conf_tmp[PATH_MAX], ca_tmp[PATH_MAX];
        struct agent_config check;
        int ret;

        if ((ret = compose_conf(conf_path, block, &conf)) < 0)
                return ret;
        if ((ret = write_temp(ca_path, ca_pem, ca_tmp, sizeof(ca_tmp))) < 0)
                return ret;
        if ((ret = write_temp(conf_path, conf, conf_tmp, sizeof(conf_tmp))) < 0) {
                unlink(ca_tmp);
                return ret;
        }
        agent_config_defaults(&check);
        ret = agent_config_load(conf_tmp, true, &check);
        if (ret < 0) {
                ret = vm_error(ret, "%s with the tenant's keys would not load: %s", conf_path, vm_error_detail(ret));
        } else if (rename(ca_tmp, ca_path) < 0) {
                ret = vm_error(-errno, "%s: cannot rename into place: %m", ca_path);
        } else if (rename(conf_tmp, conf_path) < 0) {
                ret = vm_error(-errno, "%s: cannot rename into place: %m", conf_path);
        } else {
                char dir[PATH_MAX];
                _cleanup_(closep) int dirfd = -1;

                snprintf(dir, sizeof(dir), "%s", conf_path);
                dirfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dirfd >= 0)
                        fsync(dirfd);
                return 0;
        }
        unlink(ca_tmp);
        unlink(conf_tmp);
        return ret;
}

/* This command's block of agent.conf; `unlock_volumes` (or NULL) once the volumes are
 * provisioned. Every value was checked: host names, addresses, ids, paths carry no quote. */
static int compose_block(const struct first_boot_config *fb, const char *ca_path, const char *contact,
                         uint16_t contact_port, const char *uuid, const char *unlock_volumes, char **block) {
        if (asprintf(block,
                     BLOCK_BEGIN "[agent]\n"
                                 "registrar_ip = \"%s\"\n"
                                 "registrar_port = %u\n"
                                 "registrar_tls = true\n"
                                 "registrar_tls_ca_cert = \"%s\"\n"
                                 "trusted_client_ca = \"%s\"\n"
                                 "# the agent API on every address; the verifier reaches it at the contact address\n"
                                 "ip = \"0.0.0.0\"\n"
                                 "port = %u\n"
                                 "contact_ip = \"%s\"\n"
                                 "contact_port = %u\n"
                                 "# agent_id: %s\n"
                                 "uuid = \"%s\"\n"
                                 "%s%s%s" BLOCK_END,
                     fb->registrar_host, fb->registrar_port, ca_path, ca_path, FIRST_BOOT_AGENT_PORT, contact,
                     contact_port, first_boot_agent_id_name(fb->agent_id), uuid,
                     unlock_volumes ? "# the provisioned volumes: vmattest unlock (the initrd) answers for them\n"
                                      "unlock_volumes = \"" : "",
                     unlock_volumes ? unlock_volumes : "", unlock_volumes ? "\"\n" : "") < 0) {
                *block = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* What vmattest's record says about this instance's first boot (agent/first_boot_record.h). */
struct progress {
        char path[PATH_MAX];
        const char *instance_id; /* --instance-id, or NULL */
        bool have;               /* `record` is this instance's */
        struct first_boot_record record;
};

static const char *instance_name(const char *instance_id) {
        return instance_id && instance_id[0] ? instance_id : "(no instance id)";
}

/* Reads the record. None, one of another instance (an image made from a finished instance: the
 * new instance's first boot starts over) or one that does not parse (it is a hint, not a
 * proof: the run starts over, with the token) leave p->have false. `quiet`: --check-done. */
static int progress_load(const struct cli *cli, const char *instance_id, bool quiet, struct progress *p) {
        int ret;

        p->instance_id = instance_id;
        p->have = false;
        if ((ret = first_boot_record_path(&cli->config, p->path, sizeof(p->path))) < 0)
                return ret;
        ret = first_boot_record_read(p->path, &p->record);
        if (ret == -ENOENT)
                return 0;
        if (ret < 0) {
                if (!quiet)
                        log_warning("first-boot: %s: ignored, the first boot starts over (with the enrolment token)",
                                    vm_error_detail(ret));
                return 0;
        }
        if (strcmp(p->record.instance_id, instance_id ? instance_id : "") != 0) {
                if (!quiet)
                        log_info("first-boot: %s is the record of instance %s, not of this one (%s): its first "
                                 "boot starts over",
                                 p->path, instance_name(p->record.instance_id), instance_name(instance_id));
                return 0;
        }
        p->have = true;
        return 0;
}

static bool progress_done(const struct progress *p) {
        return p->have && p->record.stage == FIRST_BOOT_DONE;
}

static void say_done(const struct progress *p) {
        time_t at = (time_t)p->record.at;
        char when[32] = "?";
        struct tm tm;

        if (gmtime_r(&at, &tm))
                strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        log_info("first-boot: first boot of instance %s done at %s: nothing to do", instance_name(p->instance_id), when);
}

/* The record at `stage` for `agent_id` and the registrar of the configuration, written now. */
static int progress_write(const struct cli *cli, struct progress *p, enum first_boot_stage stage, const char *agent_id) {
        struct first_boot_record next = { .registrar_port = cli->config.registrar_port, .stage = stage,
                                          .at = (int64_t)time(NULL) };
        int ret;

        snprintf(next.instance_id, sizeof(next.instance_id), "%s", p->instance_id ? p->instance_id : "");
        snprintf(next.agent_id, sizeof(next.agent_id), "%s", agent_id);
        snprintf(next.registrar_ip, sizeof(next.registrar_ip), "%s", cli->config.registrar_ip);
        if ((ret = first_boot_record_write(&cli->config, p->path, &next)) < 0)
                return vm_error(ret, "record %s: %s", first_boot_stage_name(stage), vm_error_detail(ret));
        p->record = next;
        p->have = true;
        return 0;
}

/* Registration (agent/registration.h). With the token the registrar enrols the agent in the
 * token's group at its activation, and counts the token's use then: a token enrols once. So a
 * run that finds the agent enrolled by an earlier run of this first boot (same agent, same
 * registrar) registers without it, as `vmattest serve` does at every start; the registrar
 * accepts the same EK and AK again, and the verifier keeps the enrolment. Without the token
 * nothing is enrolled: a forged record gains nothing. */
static int enrol(struct cli *cli, const struct secret *token, struct progress *p) {
        struct registrar_client registrar;
        struct agent_identity id;
        bool same, in_flight;
        int ret;

        if ((ret = registrar_client_init(&registrar, &cli->config)) < 0)
                return vm_error(ret, "register: %s", vm_error_detail(ret));
        if ((ret = agent_identity_open(&cli->config, cli_tcti(cli), MTLS_STATE_DIR, NULL, &id)) < 0)
                return vm_error(ret, "register: %s", vm_error_detail(ret));
        same = p->have && strcmp(p->record.agent_id, id.agent_id) == 0 &&
               strcmp(p->record.registrar_ip, cli->config.registrar_ip) == 0 &&
               p->record.registrar_port == cli->config.registrar_port;
        if (same && p->record.stage >= FIRST_BOOT_ENROLLED) {
                ret = agent_register(&cli->config, &id, &registrar, NULL);
                if (ret >= 0)
                        log_info("first-boot: register: agent %s was enrolled by an earlier run of this first boot: "
                                 "registered and activated again at %s without the enrolment token (used up)",
                                 id.agent_id, registrar.base_url);
                goto out;
        }
        /* before the token leaves: a run cut after this knows the token may be used up */
        in_flight = same && p->record.stage == FIRST_BOOT_REGISTERING;
        if ((ret = progress_write(cli, p, FIRST_BOOT_REGISTERING, id.agent_id)) < 0)
                goto out;
        ret = agent_register(&cli->config, &id, &registrar, token);
        if (ret == -EPERM && registrar.status == 403 && in_flight) {
                /* the earlier run may have been activated (and the token used up) just before it
                 * was cut; the record stays "registering": nothing here proves the enrolment, the
                 * escrow will (404: not enrolled) */
                log_warning("first-boot: register: the registrar refused the enrolment token (%s); an earlier run of "
                            "this first boot was cut after sending it and may have been enrolled with it: registering "
                            "without the token",
                            vm_error_detail(ret));
                ret = agent_register(&cli->config, &id, &registrar, NULL);
                if (ret >= 0)
                        log_info("first-boot: register: agent %s registered and activated at %s without the "
                                 "enrolment token",
                                 id.agent_id, registrar.base_url);
                goto out;
        }
        if (ret >= 0) {
                log_info("first-boot: register: agent %s registered and activated at %s with the enrolment token",
                         id.agent_id, registrar.base_url);
                ret = progress_write(cli, p, FIRST_BOOT_ENROLLED, id.agent_id);
        }
out:
        agent_identity_close(&id);
        return ret < 0 ? vm_error(ret, "register: %s", vm_error_detail(ret)) : 0;
}

/* docs/protocol.md §5.6: the PCR 9 of the next boots, with the initrd just rebuilt, to the
 * verifier. Only a verifier whose group asks for it takes it, and only while no boot has received
 * the escrowed key: its refusal (a group without --pin-first-boot-initrd, a pin after a release)
 * and a boot without a UEFI event log are said and left be; the verifier, which
 * holds the key, is the one that decides whether a missing pin withholds it. */
static int pin_initrd(const struct agent_config *config, const char *initrd) {
        int ret = initrd_pin_send(config, initrd, FIRST_BOOT_ESCROW_WAIT);

        if (ret == -ENODATA || ret == -EACCES) {
                log_warning("first-boot: PCR 9 not pinned: %s", vm_error_detail(ret));
                return 0;
        }
        return ret < 0 ? vm_error(ret, "PCR 9 pin: %s", vm_error_detail(ret)) : 0;
}

/* Everything after the configuration step, in the order of vmattest(8) (first-boot); each step
 * can run again. `fb` still holds the token (wiped here once it was sent). */
static int enrol_and_provision(struct cli *cli, struct first_boot_config *fb, const char *ca_path, const char *contact,
                               uint16_t contact_port, const char *uuid, struct progress *progress) {
        static char *const restart_argv[] = { "systemctl", "restart", "vmattest.service", NULL };
        /* --add: a module that cannot go in fails the rebuild, instead of an initrd without it */
        char *dracut_argv[] = { "dracut", "--force", "--add", "vmattest", NULL /* the new initrd */, NULL };
        char initrd[PATH_MAX], initrd_new[PATH_MAX + sizeof(FIRST_BOOT_INITRD_NEW_SUFFIX)];
        const char *names[FIRST_BOOT_VOLUMES_MAX];
        struct provisioned_volume done[FIRST_BOOT_VOLUMES_MAX];
        struct provision_request request = { .volumes = names, .count = fb->volume_count,
                                             .provisioning_key_path = PROVISIONING_KEY_PATH,
                                             .provisioning_key_may_be_gone = true,
                                             .wait_seconds = FIRST_BOOT_ESCROW_WAIT };
        _cleanup_(freep) char *block = NULL;
        char unlock_volumes[sizeof(cli->config.unlock_volumes)] = "";
        bool escrowed;
        int ret;

        /* the agent as the configuration step left it */
        agent_config_defaults(&cli->config);
        if ((ret = agent_config_load(cli->config_path, true, &cli->config)) < 0)
                return vm_error(ret, "load %s: %s", cli->config_path, vm_error_detail(ret));
        /* --tcti and $VMATTEST_TCTI reach the escrow too (agent/escrow_client.c opens config->tcti) */
        cli_config_take_tcti(cli);

        ret = enrol(cli, fb->token, progress);
        secret_freep(&fb->token);
        if (ret < 0)
                return ret;
        if ((ret = state_dir_give(&cli->config, cli->config.handover_uid)) < 0)
                return vm_error(ret, "register: %s", vm_error_detail(ret));

        /* the verifier attests the runtime agent before it takes the escrow: it must serve with
         * the tenant's keys now */
        if (!systemd_booted())
                log_info("first-boot: restart vmattest.service: skipped, systemd does not run this system");
        else if ((ret = run_program("restart vmattest.service", restart_argv)) < 0)
                return ret;

        for (size_t i = 0; i < fb->volume_count; i++)
                names[i] = fb->volumes[i];
        ret = provision_run(&cli->config, &request, done, &escrowed);
        if (ret < 0)
                return vm_error(ret, "provision: %s", vm_error_detail(ret));

        if ((ret = crypttab_write(FIRST_BOOT_CRYPTTAB, done, fb->volume_count)) < 0)
                return vm_error(ret, "crypttab: %s", vm_error_detail(ret));
        for (size_t i = 0; i < fb->volume_count; i++) {
                size_t used = strlen(unlock_volumes);

                snprintf(unlock_volumes + used, sizeof(unlock_volumes) - used, "%s%s", used ? "," : "", done[i].uuid);
                log_info("first-boot: %s %s (LUKS UUID %s) in %s as %s, no key file: vmattest unlock answers for it",
                         done[i].root ? "root" : "data volume", done[i].device, done[i].uuid, FIRST_BOOT_CRYPTTAB,
                         done[i].name);
        }
        if ((ret = compose_block(fb, ca_path, contact, contact_port, uuid, unlock_volumes, &block)) < 0 ||
            (ret = write_config(cli->config_path, ca_path, fb->verifier_ca_pem, block)) < 0)
                return vm_error(ret, "unlock_volumes in %s: %s", cli->config_path, vm_error_detail(ret));

        /* The image's provisioning initrd stays in place until the new one replaces it, and the
         * provisioning key with its keyslot until then: a boot cut anywhere before finds an
         * initrd that opens the root, the image's with the provisioning key or the new one with
         * vmattest unlock (and its PCR 9 pinned before it is in place). */
        if (progress->have && progress->record.stage == FIRST_BOOT_INITRD_IN_PLACE) {
                /* a run cut after the rename: that initrd's PCR 9 is the pinned one, and a boot may
                 * have had the key with it already (no second pin): keep it */
                log_info("first-boot: the initrd an earlier run rebuilt and reported is in place: kept");
        } else {
                if ((ret = remove_file("provisioning initrd configuration", FIRST_BOOT_DRACUT_PROVISIONING_CONF)) < 0)
                        return ret;
                if ((ret = first_boot_initrd_path(initrd, sizeof(initrd))) < 0)
                        return ret;
                snprintf(initrd_new, sizeof(initrd_new), "%s" FIRST_BOOT_INITRD_NEW_SUFFIX, initrd);
                dracut_argv[4] = initrd_new;
                if ((ret = run_program("initrd rebuild", dracut_argv)) < 0)
                        return ret;
                if ((ret = pin_initrd(&cli->config, initrd_new)) < 0)
                        return ret;
                if ((ret = file_rename_synced("initrd", initrd_new, initrd)) < 0)
                        return ret;
                log_info("first-boot: the rebuilt initrd is in place: %s", initrd);
                if ((ret = progress_write(cli, progress, FIRST_BOOT_INITRD_IN_PLACE, progress->record.agent_id)) < 0)
                        return ret;
        }
        /* last: the root's provisioning keyslot, then its key file (crypttab names it no more);
         * a rerun finds the slot killed, the file gone */
        if ((ret = provision_drop_provisioning(&request)) < 0)
                return vm_error(ret, "provision: %s", vm_error_detail(ret));
        if ((ret = remove_file("provisioning key", PROVISIONING_KEY_PATH)) < 0)
                return ret;
        /* nothing is left: the hook's next runs end at the record */
        if ((ret = progress_write(cli, progress, FIRST_BOOT_DONE, progress->record.agent_id)) < 0)
                return ret;
        log_info("first-boot: done: enrolled, %s, %zu volume(s) provisioned, the initrd rebuilt with vmattest unlock",
                 escrowed ? "the instance passphrase escrowed" : "escrowed by an earlier run", fb->volume_count);
        return 0;
}

static int first_boot(const char *user_data, const char *instance_id, bool configure_only, struct cli *cli,
                      struct progress *progress, bool *configured) {
        _cleanup_(secret_freep) struct secret *input = NULL;
        _cleanup_(freep) char *block = NULL;
        struct first_boot_config fb;
        char ca_path[PATH_MAX], dir[PATH_MAX], uuid[AGENT_ID_MAX + 1], contact[64];
        uint16_t contact_port;
        size_t size = 0;
        int ret;

        if ((ret = read_user_data(user_data, &input, &size)) < 0)
                return ret;
        if ((ret = first_boot_config_parse((const char *)input->data, size, &fb)) < 0)
                return ret;
        secret_freep(&input);

        if ((ret = check_volumes(&fb)) < 0 || (ret = agent_uuid(&fb, instance_id, uuid, sizeof(uuid))) < 0)
                goto out;
        snprintf(contact, sizeof(contact), "%s", fb.contact_ip);
        contact_port = fb.contact_port ? fb.contact_port : FIRST_BOOT_AGENT_PORT;
        if (!contact[0] && (ret = primary_ip(&fb, contact, sizeof(contact))) < 0)
                goto out;

        snprintf(dir, sizeof(dir), "%s", cli->config_path);
        snprintf(ca_path, sizeof(ca_path), "%s/%s", dirname(dir), CA_FILE_NAME);
        if ((ret = compose_block(&fb, ca_path, contact, contact_port, uuid, NULL, &block)) < 0)
                goto out;
        if ((ret = write_config(cli->config_path, ca_path, fb.verifier_ca_pem, block)) < 0)
                goto out;

        log_info("first-boot: wrote %s (%zu CA certificate%s) and the tenant's keys into %s: registrar %s port %u, "
                 "contact %s:%u, agent id %s",
                 ca_path, fb.verifier_ca_certs, fb.verifier_ca_certs == 1 ? "" : "s", cli->config_path,
                 fb.registrar_host, fb.registrar_port, contact, contact_port, uuid);
        for (size_t i = 0; i < fb.volume_count; i++)
                log_info("first-boot: volume to protect: %s", fb.volumes[i]);
        log_info("first-boot: the configuration step is done");
        if (configure_only)
                goto out;
        *configured = true;
        if ((ret = enrol_and_provision(cli, &fb, ca_path, contact, contact_port, uuid, progress)) < 0)
                log_error("first-boot: %s; it resumes at the next boot (or run: cloud-init single --name "
                          "scripts_per_boot --frequency always)",
                          vm_error_detail(ret));
out:
        first_boot_config_clear(&fb);
        return ret;
}

int cmd_first_boot(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "user-data", required_argument, NULL, 'u' },
                { "instance-id", required_argument, NULL, 'i' },
                { "configure-only", no_argument, NULL, 'c' },
                { "check-done", no_argument, NULL, 'd' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *user_data = NULL, *instance_id = NULL;
        bool configure_only = false, check_done = false, configured = false;
        struct progress progress = { 0 };
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'u':
                        user_data = optarg;
                        break;
                case 'i':
                        instance_id = optarg;
                        break;
                case 'c':
                        configure_only = true;
                        break;
                case 'd':
                        check_done = true;
                        break;
                case 'h':
                        fputs(first_boot_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("first-boot", opt, argv);
                }
        }
        if ((ret = cli_no_operands("first-boot", argc, argv)) != EXIT_OK)
                return ret;
        if (check_done && configure_only)
                return cli_usage_error("first-boot", "--check-done and --configure-only exclude each other");
        if (!configure_only) {
                /* before the user-data is read: a boot after a finished first boot costs this alone */
                if (instance_id && !first_boot_instance_id_valid(instance_id))
                        return cli_usage_error("first-boot", "--instance-id: not 1-%d printable characters",
                                               FIRST_BOOT_INSTANCE_ID_MAX);
                if ((ret = cli_load_config(cli)) != EXIT_OK)
                        return ret;
                if ((ret = progress_load(cli, instance_id, check_done, &progress)) < 0) {
                        log_error("first-boot: %s; nothing written", vm_error_detail(ret));
                        return EXIT_FAILED;
                }
                if (progress_done(&progress)) {
                        say_done(&progress);
                        return EXIT_OK;
                }
                if (check_done)
                        return EXIT_FAILED;
        }
        if (!user_data)
                return cli_usage_error("first-boot", "--user-data FILE|- is required");
        /* the token, the escrow's mTLS key and the passphrases live in the secure heap */
        if (configure_only) {
                payload_key_secure_heap();
        } else if ((ret = secret_heap_setup(FIRST_BOOT_SECURE_HEAP_SIZE)) < 0) {
                log_error("first-boot: %s; nothing written", vm_error_detail(ret));
                return EXIT_FAILED;
        }
        ret = first_boot(user_data, instance_id, configure_only, cli, &progress, &configured);
        if (ret < 0 && configured)
                return ret == -EACCES ? EXIT_REFUSED : EXIT_FAILED;
        if (ret < 0) {
                log_error("first-boot: %s; nothing written", vm_error_detail(ret));
                return ret == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
        }
        return EXIT_OK;
}
