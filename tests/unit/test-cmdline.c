/* agent/cmdline.c: the rd.vmattest.* kernel command line options over agent.conf's values, the
 * kernel's word splitting and quoting, and the command lines it must refuse. */
#include "tests/unit/unit.h"

#include <unistd.h>

#include "agent/cmdline.h"
#include "agent/config.h"
#include "lib/log.h"

#define UUID_A "5f1e2d3c-0000-4000-8000-00000000abcd"
#define UUID_B "0b9d3c4e-1111-4222-8333-444455556666"
#define UUID_C "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"

/* agent.conf's values as `unlock` has them before the command line: defaults, then the file
 * (none here), which fills contact_ip and contact_port from ip and port. */
static void config_loaded(struct agent_config *config) {
        agent_config_defaults(config);
        assert_int_equal(agent_config_load("/nonexistent/vmattest/agent.conf", false, config), 0);
}

static int apply(const char *text, struct agent_config *config) {
        vm_error_clear();
        return cmdline_apply(text, strlen(text), config);
}

/* `text` is refused with `code`, a detail containing `word`, and leaves the config untouched. */
static void assert_refused_code(const char *text, size_t len, int code, const char *word) {
        struct agent_config config, before;
        int ret;

        config_loaded(&config);
        strcpy(config.unlock_volumes, UUID_C);
        before = config;
        vm_error_clear();
        ret = cmdline_apply(text, len, &config);
        if (ret != code || !strstr(vm_error_detail(ret), word))
                fail_msg("command line \"%.*s\": got %d \"%s\"; want %d with \"%s\"", (int)(len > 200 ? 200 : len),
                         text, ret, vm_error_detail(ret), code, word);
        assert_memory_equal(&config, &before, sizeof(config));
}

static void assert_refused(const char *text, const char *word) {
        assert_refused_code(text, strlen(text), -EINVAL, word);
}

static void test_each_option(void **state) {
        struct agent_config config;

        config_loaded(&config);
        assert_int_equal(apply("rd.vmattest.registrar=10.0.2.2:8891 rd.vmattest.contact=192.0.2.20:9102 "
                               "rd.vmattest.port=9100 rd.vmattest.volume=" UUID_A " rd.vmattest.timeout=600 "
                               "rd.vmattest.fallback=poweroff rd.vmattest.uuid=" UUID_C,
                               &config),
                         0);
        assert_string_equal(config.registrar_ip, "10.0.2.2");
        assert_int_equal(config.registrar_port, 8891);
        assert_string_equal(config.contact_ip, "192.0.2.20");
        assert_int_equal(config.contact_port, 9102);
        assert_int_equal(config.port, 9100);
        assert_string_equal(config.unlock_volumes, UUID_A);
        assert_int_equal(config.unlock_timeout, 600);
        assert_string_equal(config.unlock_fallback, "poweroff");
        assert_string_equal(config.uuid, UUID_C);
        /* what the command line does not name keeps agent.conf's value */
        assert_string_equal(config.ip, "127.0.0.1");
        assert_string_equal(config.askpass_dir, "/run/systemd/ask-password");

        assert_int_equal(apply("rd.vmattest.fallback=prompt rd.vmattest.uuid=hash_ek", &config), 0);
        assert_string_equal(config.unlock_fallback, "prompt");
        assert_string_equal(config.uuid, "hash_ek");
        assert_int_equal(apply("rd.vmattest.uuid=generate rd.vmattest.timeout=1", &config), 0);
        assert_string_equal(config.uuid, "generate");
        assert_int_equal(config.unlock_timeout, 1);
        assert_int_equal(apply("rd.vmattest.timeout=86400 rd.vmattest.port=65535", &config), 0);
        assert_int_equal(config.unlock_timeout, 86400);
        assert_int_equal(config.port, 65535);
}

/* rd.vmattest.mode: the initrd's agent pulled (the default) or pushing (docs/protocol.md §4) */
static void test_mode(void **state) {
        struct agent_config config;

        agent_config_defaults(&config);
        assert_string_equal(config.mode, "pull");
        assert_int_equal(apply("rd.vmattest.mode=push", &config), 0);
        assert_string_equal(config.mode, "push");
        assert_true(agent_config_push(&config));
        assert_int_equal(apply("rd.vmattest.mode=pull", &config), 0);
        assert_false(agent_config_push(&config));
        assert_refused("rd.vmattest.mode=Push", "not push or pull");
        assert_refused("rd.vmattest.mode=", "no value (rd.vmattest.mode=push|pull)");
        assert_refused("rd.vmattest.mode=push,pull", "not push or pull");
}

/* rd.vmattest.verifier: where the push-mode agent sends its evidence, agent.conf's verifier_url,
 * so that a cloud user names the verifier where they name the registrar */
static void test_verifier(void **state) {
        static const char *const good[] = {
                "https://10.0.2.2:8881", "https://verifier.example.org", "https://verifier.example.org:443",
                "https://[fd00::2]:8881", "https://[fd00::2]", "https://keylime:1",
        };
        static const struct {
                const char *text, *word;
        } bad[] = {
                { "rd.vmattest.verifier=http://10.0.2.2:8881", "not https://HOST[:PORT] (TLS only)" },
                { "rd.vmattest.verifier=10.0.2.2:8881", "not https://HOST[:PORT]" },
                { "rd.vmattest.verifier=HTTPS://10.0.2.2:8881", "not https://HOST[:PORT]" },
                { "rd.vmattest.verifier=https://", "no host before :PORT" },
                { "rd.vmattest.verifier=https://:8881", "no host before :PORT" },
                { "rd.vmattest.verifier=https://10.0.2.2:", "not a port number 1-65535" },
                { "rd.vmattest.verifier=https://10.0.2.2:0", "not a port number 1-65535" },
                { "rd.vmattest.verifier=https://10.0.2.2:65536", "not a port number 1-65535" },
                { "rd.vmattest.verifier=https://10.0.2.2:8881/", "no path, query or user part" },
                { "rd.vmattest.verifier=https://10.0.2.2:8881/v3.0", "no path, query or user part" },
                { "rd.vmattest.verifier=https://10.0.2.2?x=1", "no path, query or user part" },
                { "rd.vmattest.verifier=https://10.0.2.2#x", "no path, query or user part" },
                { "rd.vmattest.verifier=https://user@10.0.2.2", "no path, query or user part" },
                { "rd.vmattest.verifier=https://fd00::2:8881", "an IPv6 address goes in brackets" },
                { "rd.vmattest.verifier=https://[10.0.2.2]:8881", "in brackets is not an IPv6 address" },
                { "rd.vmattest.verifier=https://[fd00::2", "not [IPv6 address]:PORT" },
                { "rd.vmattest.verifier=https://300.0.0.1", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.verifier=https://veri_fier", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.verifier=https://a..b:1", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.verifier=", "no value (rd.vmattest.verifier=https://HOST[:PORT])" },
        };
        struct agent_config config;
        char word[400], long_host[300];

        config_loaded(&config);
        assert_string_equal(config.verifier_url, "https://127.0.0.1:8881"); /* agent.conf's default */
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                snprintf(word, sizeof(word), "rd.vmattest.verifier=%s", good[i]);
                if (apply(word, &config) != 0)
                        fail_msg("%s: %s", word, vm_error_detail(-EINVAL));
                assert_string_equal(config.verifier_url, good[i]);
        }
        /* it names the verifier, not the mode: push is rd.vmattest.mode's */
        assert_string_equal(config.mode, "pull");
        assert_int_equal(apply("rd.vmattest.mode=push rd.vmattest.verifier=https://10.0.2.2:8881", &config), 0);
        assert_true(agent_config_push(&config));
        assert_string_equal(config.verifier_url, "https://10.0.2.2:8881");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_refused(bad[i].text, bad[i].word);
        /* longer than agent.conf's field: refused, not cut */
        memset(long_host, 'a', sizeof(long_host) - 1);
        long_host[sizeof(long_host) - 1] = '\0';
        for (size_t i = 60; i < sizeof(long_host) - 1; i += 64)
                long_host[i] = '.';
        snprintf(word, sizeof(word), "rd.vmattest.verifier=https://%s", long_host);
        assert_refused(word, "longer than 255 characters");
}

static void test_registrar_hosts(void **state) {
        static const struct {
                const char *word, *ip;
                uint16_t port;
        } good[] = {
                { "rd.vmattest.registrar=10.0.2.2:8890", "10.0.2.2", 8890 },
                { "rd.vmattest.registrar=registrar.example.org:1", "registrar.example.org", 1 },
                { "rd.vmattest.registrar=keylime:65535", "keylime", 65535 },
                { "rd.vmattest.registrar=a-1.b2.example:443", "a-1.b2.example", 443 },
                { "rd.vmattest.registrar=[fd00::2]:8891", "fd00::2", 8891 }, /* stored bare, as in agent.conf */
                { "rd.vmattest.registrar=[::ffff:10.0.2.2]:8890", "::ffff:10.0.2.2", 8890 },
        };
        struct agent_config config;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                config_loaded(&config);
                if (apply(good[i].word, &config) != 0)
                        fail_msg("%s: %s", good[i].word, vm_error_detail(-EINVAL));
                assert_string_equal(config.registrar_ip, good[i].ip);
                assert_int_equal(config.registrar_port, good[i].port);
        }
}

static void test_contact_forms(void **state) {
        struct agent_config config;

        config_loaded(&config);
        assert_int_equal(apply("rd.vmattest.contact=[fd00::20]:9002", &config), 0);
        assert_string_equal(config.contact_ip, "fd00::20");
        assert_int_equal(config.contact_port, 9002);
        assert_int_equal(config.port, 9002); /* where it listens is another option */
}

/* agent.conf's contact_port follows port when it was not set; rd.vmattest.port keeps that. */
static void test_port_moves_contact_port(void **state) {
        struct agent_config config;

        config_loaded(&config);
        assert_int_equal(apply("rd.vmattest.port=9100", &config), 0);
        assert_int_equal(config.port, 9100);
        assert_int_equal(config.contact_port, 9100);

        /* unless rd.vmattest.contact names it, before or after */
        config_loaded(&config);
        assert_int_equal(apply("rd.vmattest.contact=192.0.2.20:9002 rd.vmattest.port=9100", &config), 0);
        assert_int_equal(config.port, 9100);
        assert_int_equal(config.contact_port, 9002);
        config_loaded(&config);
        assert_int_equal(apply("rd.vmattest.port=9100 rd.vmattest.contact=192.0.2.20:9002", &config), 0);
        assert_int_equal(config.contact_port, 9002);

        /* or agent.conf put it elsewhere (a port forward) */
        config_loaded(&config);
        config.contact_port = 30002;
        assert_int_equal(apply("rd.vmattest.port=9100", &config), 0);
        assert_int_equal(config.contact_port, 30002);
}

static void test_quoting(void **state) {
        struct agent_config config;

        config_loaded(&config);
        /* a quoted value, a quoted word (the kernel's next_arg strips both) */
        assert_int_equal(apply("rd.vmattest.uuid=\"" UUID_C "\" \"rd.vmattest.timeout=42\"", &config), 0);
        assert_string_equal(config.uuid, UUID_C);
        assert_int_equal(config.unlock_timeout, 42);
        assert_int_equal(apply("rd.vmattest.fallback=\"poweroff\"\t\"rd.vmattest.port=\"9103\n", &config), 0);
        assert_string_equal(config.unlock_fallback, "poweroff");
        assert_int_equal(config.port, 9103);
        /* rd.vmattest words inside another word's quotes are that word's value */
        config_loaded(&config);
        assert_int_equal(apply("dyndbg=\"file x.c rd.vmattest.port=1 +p\" rd.vmattest.timeout=\"7\"", &config), 0);
        assert_int_equal(config.port, 9002);
        assert_int_equal(config.unlock_timeout, 7);
        /* an empty quoted word and a quoted word without '=' are other words */
        assert_int_equal(apply("\"\" \"quiet\" rd.vmattest.timeout=8", &config), 0);
        assert_int_equal(config.unlock_timeout, 8);
        /* a space inside quotes stays in the value, where no option accepts it */
        assert_refused("rd.vmattest.uuid=\"my vm\"", "rd.vmattest.uuid=\"my vm\": not hash_ek, generate, or an id");
        /* a quote that does not start the value stays in it, as in the kernel */
        assert_refused("rd.vmattest.registrar=\"10.0.2.2\":8890", "is not an IPv4 address or a DNS name");
        assert_refused("rd.vmattest.timeout=\"\"", "rd.vmattest.timeout=\"\": no value");
        assert_refused("\"rd.vmattest.timeout=\"", "no value (rd.vmattest.timeout=SECONDS)");
}

static void test_repetition(void **state) {
        struct agent_config config;

        config_loaded(&config);
        assert_int_equal(apply("rd.vmattest.timeout=5 rd.vmattest.registrar=10.0.0.1:1 rd.vmattest.timeout=9 "
                               "rd.vmattest.registrar=10.0.0.2:2 rd.vmattest.uuid=a rd.vmattest.uuid=b",
                               &config),
                         0);
        assert_int_equal(config.unlock_timeout, 9);
        assert_string_equal(config.registrar_ip, "10.0.0.2");
        assert_int_equal(config.registrar_port, 2);
        assert_string_equal(config.uuid, "b");
        /* a bad later repetition is still an error */
        assert_refused("rd.vmattest.timeout=5 rd.vmattest.timeout=0", "rd.vmattest.timeout=0: not a number of seconds");
}

static void test_volume_accumulation(void **state) {
        struct agent_config config;

        config_loaded(&config);
        strcpy(config.unlock_volumes, UUID_C); /* agent.conf's */
        assert_int_equal(apply("rd.vmattest.volume=" UUID_A, &config), 0);
        assert_string_equal(config.unlock_volumes, UUID_A); /* replaced */

        strcpy(config.unlock_volumes, UUID_C);
        assert_int_equal(apply("rd.vmattest.volume=" UUID_A ",/dev/disk/by-uuid/" UUID_B " quiet "
                               "rd.vmattest.volume=" UUID_C,
                               &config),
                         0);
        assert_string_equal(config.unlock_volumes, UUID_A ",/dev/disk/by-uuid/" UUID_B "," UUID_C);

        /* no rd.vmattest.volume: agent.conf's list stays */
        strcpy(config.unlock_volumes, UUID_C);
        assert_int_equal(apply("rd.vmattest.timeout=5", &config), 0);
        assert_string_equal(config.unlock_volumes, UUID_C);
}

/* Enough volumes to overflow unlock_volumes (1023 characters) fit in CMDLINE_MAX. */
static void test_volume_list_bounded(void **state) {
        char text[CMDLINE_MAX + 1];
        struct agent_config config;
        size_t used = 0;

        /* 18 by-uuid paths (18 * 54 + 17 commas = 989 characters) fit */
        for (int i = 0; i < 18; i++)
                used += (size_t)snprintf(text + used, sizeof(text) - used,
                                         "rd.vmattest.volume=/dev/disk/by-uuid/" UUID_A " ");
        config_loaded(&config);
        assert_int_equal(apply(text, &config), 0);
        assert_int_equal(strlen(config.unlock_volumes), 18 * 54 + 17);
        /* a 19th does not */
        snprintf(text + used, sizeof(text) - used, "rd.vmattest.volume=/dev/disk/by-uuid/" UUID_B);
        assert_refused(text, "rd.vmattest.volume=/dev/disk/by-uuid/" UUID_B
                             ": the list of volumes grows beyond 1023 characters");
}

static void test_other_words_ignored(void **state) {
        static const char line[] =
                "BOOT_IMAGE=/vmlinuz-6.1.0-13-amd64 root=/dev/mapper/x ro rd.luks.uuid=" UUID_A
                " rd.neednet=1 ip=dhcp console=ttyS0,115200n8 quiet splash rd.vmattestation rd.vmattest_port=1 "
                "vmattest.port=1 rd.vmattes.port=1 init=/sbin/init -- single\n";
        struct agent_config config, before;

        config_loaded(&config);
        before = config;
        assert_int_equal(apply(line, &config), 0);
        assert_memory_equal(&config, &before, sizeof(config));
        assert_int_equal(apply("", &config), 0);
        assert_int_equal(apply(" \t\n ", &config), 0);
        assert_int_equal(cmdline_apply(NULL, 0, &config), 0);
        assert_memory_equal(&config, &before, sizeof(config));
}

static void test_switch(void **state) {
        struct agent_config config, before;

        config_loaded(&config);
        before = config;
        assert_int_equal(apply("rd.vmattest=1", &config), 0);
        assert_int_equal(apply("rd.vmattest=0", &config), 0); /* the unit's to act on */
        assert_int_equal(apply("rd.vmattest=\"1\"", &config), 0);
        assert_memory_equal(&config, &before, sizeof(config));
        assert_refused("rd.vmattest=2", "rd.vmattest=2: not rd.vmattest=0 or rd.vmattest=1");
        assert_refused("rd.vmattest=no", "not rd.vmattest=0 or rd.vmattest=1");
        assert_refused("rd.vmattest", "rd.vmattest: not rd.vmattest=0 or rd.vmattest=1");
        assert_refused("rd.vmattest=", "not rd.vmattest=0 or rd.vmattest=1");
}

static void test_unknown_options(void **state) {
        assert_refused("quiet rd.vmattest.timout=5", "kernel command line: rd.vmattest.timout=5: unknown option");
        assert_refused("rd.vmattest.timeout=5 rd.vmattest.Port=1", "rd.vmattest.Port=1: unknown option");
        assert_refused("rd.vmattest.=1", "rd.vmattest.=1: unknown option");
        assert_refused("rd.vmattest.", "unknown option");
        assert_refused("rd.vmattest.ip=10.0.0.1", "known: rd.vmattest=0|1, rd.vmattest.registrar, rd.vmattest.contact");
        assert_refused("rd.vmattest.askpass_dir=/tmp", "unknown option");
}

static void test_bad_values(void **state) {
        static const struct {
                const char *text, *word;
        } bad[] = {
                { "rd.vmattest.timeout=abc",
                  "kernel command line: rd.vmattest.timeout=abc: not a number of seconds 1-86400" },
                { "rd.vmattest.timeout=0", "not a number of seconds 1-86400" },
                { "rd.vmattest.timeout=86401", "not a number of seconds 1-86400" },
                { "rd.vmattest.timeout=-1", "not a number of seconds 1-86400" },
                { "rd.vmattest.timeout=+5", "not a number of seconds 1-86400" },
                { "rd.vmattest.timeout=99999999999999999999999", "not a number of seconds 1-86400" },
                { "rd.vmattest.timeout", "rd.vmattest.timeout: no value (rd.vmattest.timeout=SECONDS)" },
                { "rd.vmattest.timeout=", "rd.vmattest.timeout=: no value" },
                { "rd.vmattest.port=0", "rd.vmattest.port=0: not a port number 1-65535" },
                { "rd.vmattest.port=65536", "not a port number 1-65535" },
                { "rd.vmattest.port=0x10", "not a port number 1-65535" },
                { "rd.vmattest.port=", "no value (rd.vmattest.port=PORT)" },
                { "rd.vmattest.registrar=10.0.2.2", "rd.vmattest.registrar=10.0.2.2: no :PORT" },
                { "rd.vmattest.registrar=10.0.2.2:0", "not a port number 1-65535 after the host" },
                { "rd.vmattest.registrar=10.0.2.2:65536", "not a port number 1-65535 after the host" },
                { "rd.vmattest.registrar=10.0.2.2:", "not a port number 1-65535 after the host" },
                { "rd.vmattest.registrar=:8890", "no host before :PORT" },
                { "rd.vmattest.registrar=[]:8890", "no host before :PORT" },
                { "rd.vmattest.registrar=fd00::2:8890", "an IPv6 address goes in brackets" },
                { "rd.vmattest.registrar=[fd00::2]8890", "not [IPv6 address]:PORT" },
                { "rd.vmattest.registrar=[fd00::2", "not [IPv6 address]:PORT" },
                { "rd.vmattest.registrar=[10.0.2.2]:8890", "\"10.0.2.2\" in brackets is not an IPv6 address" },
                { "rd.vmattest.registrar=10.0.2:8890", "\"10.0.2\" is not an IPv4 address or a DNS name" },
                { "rd.vmattest.registrar=300.0.0.1:8890", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.registrar=reg_istrar:8890", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.registrar=-registrar:8890", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.registrar=registrar-.example:8890", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.registrar=a..b:8890", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.registrar=example.org.:8890", "is not an IPv4 address or a DNS name" },
                { "rd.vmattest.registrar=http://x:8890", "an IPv6 address goes in brackets" },
                { "rd.vmattest.contact=registrar.example:9002", "\"registrar.example\" is not an IPv4 address" },
                { "rd.vmattest.contact=[fd00::1]:0", "not a port number 1-65535" },
                { "rd.vmattest.contact=[192.0.2.1]:9002", "is not an IPv6 address" },
                { "rd.vmattest.contact=192.0.2.1", "no :PORT" },
                { "rd.vmattest.contact=", "no value (rd.vmattest.contact=IP:PORT)" },
                { "rd.vmattest.volume=,", "rd.vmattest.volume=,: an empty element in the list of volumes" },
                { "rd.vmattest.volume=" UUID_A ",", "an empty element" },
                { "rd.vmattest.volume=" UUID_A ",," UUID_B, "an empty element" },
                { "rd.vmattest.volume=", "no value (rd.vmattest.volume=UUID[,UUID...])" },
                { "rd.vmattest.volume=5F1E2D3C-0000-4000-8000-00000000ABCD", "is not a LUKS UUID (lowercase)" },
                { "rd.vmattest.volume=5f1e2d3c00004000800000000000abcd", "is not a LUKS UUID" },
                { "rd.vmattest.volume=/dev/vda2",
                  "\"/dev/vda2\" is not a LUKS UUID (lowercase) or /dev/disk/by-uuid/UUID" },
                { "rd.vmattest.volume=/dev/disk/by-uuid/", "is not a LUKS UUID" },
                { "rd.vmattest.volume=/dev/disk/by-uuid/../../vda2", "is not a LUKS UUID" },
                { "rd.vmattest.volume=" UUID_A "x", "is not a LUKS UUID" },
                { "rd.vmattest.fallback=shell", "rd.vmattest.fallback=shell: not prompt or poweroff" },
                { "rd.vmattest.fallback=Prompt", "not prompt or poweroff" },
                { "rd.vmattest.uuid=.", "rd.vmattest.uuid=.: not hash_ek, generate, or an id of 1-80 characters" },
                { "rd.vmattest.uuid=../x", "not hash_ek, generate" },
                { "rd.vmattest.uuid=", "no value (rd.vmattest.uuid=ID)" },
                { "rd.vmattest.uuid=x"
                  "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890",
                  "not hash_ek, generate" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_refused(bad[i].text, bad[i].word);
}

/* A bad word anywhere refuses the whole line: nothing before it is applied either. */
static void test_all_or_nothing(void **state) {
        assert_refused("rd.vmattest.timeout=5 rd.vmattest.volume=" UUID_A " rd.vmattest.port=9100 rd.vmattest.port=0",
                       "rd.vmattest.port=0");
}

static void test_hostile_lines(void **state) {
        char text[CMDLINE_MAX + 2];
        struct agent_config config;

        /* longer than CMDLINE_MAX, even with nothing of ours in it */
        memset(text, 'a', sizeof(text));
        assert_refused_code(text, CMDLINE_MAX + 1, -E2BIG, "kernel command line: longer than 4096 bytes");
        /* exactly CMDLINE_MAX: one word of ours that fills it */
        memset(text, ' ', CMDLINE_MAX);
        memcpy(text + CMDLINE_MAX - 21, "rd.vmattest.timeout=9", 21);
        config_loaded(&config);
        assert_int_equal(cmdline_apply(text, CMDLINE_MAX, &config), 0);
        assert_int_equal(config.unlock_timeout, 9);
        /* a single word of CMDLINE_MAX bytes */
        memset(text, 'x', CMDLINE_MAX);
        memcpy(text, "rd.vmattest.uuid=", 17);
        assert_refused_code(text, CMDLINE_MAX, -EINVAL, "...: not hash_ek"); /* the word shown is cut short */
        memcpy(text, "rd.vmattest.registrar=", 22);
        memcpy(text + CMDLINE_MAX - 5, ":8890", 5);
        assert_refused_code(text, CMDLINE_MAX, -EINVAL, "host longer than 255 characters");
        memcpy(text, "rd.vmattest.volume=", 19);
        assert_refused_code(text, CMDLINE_MAX, -EINVAL, "is not a LUKS UUID");

        /* NUL bytes: /proc/cmdline has none; a NUL would end the line for C string code */
        assert_refused_code("quiet\0rd.vmattest.port=1", 24, -EINVAL, "a NUL byte at offset 5");
        assert_refused_code("rd.vmattest.port=1\0", 19, -EINVAL, "a NUL byte at offset 18");

        /* a quote left open swallows the rest of the line, in the kernel too */
        assert_refused("rd.vmattest.uuid=\"abc rd.vmattest.port=1", "a quote is not closed in rd.vmattest.uuid=\"abc");
        assert_refused("quiet \"rd.vmattest.port=1", "a quote is not closed");
        assert_refused("foo=\"bar", "a quote is not closed in foo=\"bar");
        assert_refused("\"", "a quote is not closed");
        assert_refused("x=\"a\"b\"", "a quote is not closed");

        /* control and non-ASCII bytes are not echoed into the log */
        assert_refused("rd.vmattest.fallback=\x1b[2J\xff", "rd.vmattest.fallback=?[2J?: not prompt or poweroff");
        /* the kernel's isspace() takes Latin-1's no-break space for a space */
        config_loaded(&config);
        assert_int_equal(apply("rd.vmattest.port=1\xa0rd.vmattest.timeout=5 quiet=\xa0rd.vmattest.uuid=x", &config), 0);
        assert_int_equal(config.port, 1);
        assert_int_equal(config.unlock_timeout, 5);
        assert_string_equal(config.uuid, "x");
        assert_refused("rd.vmattest.timeout=5\x01\rquiet", "rd.vmattest.timeout=5?: not a number"); /* \r splits */
}

/* Random and mutated lines: no crash, and whatever is accepted fits its field. */
static void test_random_lines(void **state) {
        static const char seed[] = "root=/dev/vda1 rd.vmattest.registrar=[fd00::2]:8890 "
                                   "rd.vmattest.contact=10.0.2.15:9002 rd.vmattest.volume=" UUID_A "," UUID_B
                                   " rd.vmattest.timeout=\"30\" quiet";
        uint64_t prng = FUZZ_SEED;
        struct agent_config config;
        char text[sizeof(seed)];
        unsigned accepted = 0;

        for (int i = 0; i < FUZZ_ITERATIONS; i++) {
                size_t len = sizeof(seed) - 1;

                memcpy(text, seed, len);
                prng_mutate(&prng, (uint8_t *)text, len);
                config_loaded(&config);
                if (cmdline_apply(text, len, &config) == 0) {
                        accepted++;
                        assert_non_null(memchr(config.registrar_ip, 0, sizeof(config.registrar_ip)));
                        assert_non_null(memchr(config.contact_ip, 0, sizeof(config.contact_ip)));
                        assert_non_null(memchr(config.unlock_volumes, 0, sizeof(config.unlock_volumes)));
                        assert_true(config.unlock_timeout >= 1 && config.unlock_timeout <= 86400);
                        assert_true(config.contact_port && config.port); /* registrar_port 0: the scheme's */
                }
                prng_fill(&prng, text, len);
                config_loaded(&config);
                (void)cmdline_apply(text, len, &config);
        }
        assert_true(accepted > 0); /* some mutations land outside our words */
}

static void test_file(void **state) {
        char path[] = "/tmp/vmattest-test-cmdline-XXXXXX";
        struct agent_config config, before;
        int fd = mkstemp(path);
        FILE *file;

        assert_true(fd >= 0);
        file = fdopen(fd, "w");
        assert_non_null(file);
        /* as /proc/cmdline: one line, ending in a newline */
        fputs("BOOT_IMAGE=/vmlinuz root=/dev/mapper/root rd.vmattest.registrar=10.0.2.2:8890 "
              "rd.vmattest.volume=" UUID_A " rd.vmattest.fallback=poweroff quiet\n",
              file);
        assert_int_equal(fclose(file), 0);
        config_loaded(&config);
        vm_error_clear();
        assert_int_equal(cmdline_apply_file(path, &config), 0);
        assert_string_equal(config.registrar_ip, "10.0.2.2");
        assert_int_equal(config.registrar_port, 8890);
        assert_string_equal(config.unlock_volumes, UUID_A);
        assert_string_equal(config.unlock_fallback, "poweroff");

        /* a bad word: the file's errors read as the string's */
        file = fopen(path, "w");
        fputs("rd.vmattest.timeout=abc\n", file);
        assert_int_equal(fclose(file), 0);
        before = config;
        assert_error(cmdline_apply_file(path, &config), -EINVAL,
                     "kernel command line: rd.vmattest.timeout=abc: not a number of seconds 1-86400");
        assert_memory_equal(&config, &before, sizeof(config));

        /* longer than CMDLINE_MAX */
        file = fopen(path, "w");
        for (int i = 0; i < CMDLINE_MAX / 8 + 1; i++)
                fputs("quiet   ", file);
        assert_int_equal(fclose(file), 0);
        assert_error(cmdline_apply_file(path, &config), -E2BIG, "longer than 4096 bytes");
        unlink(path);

        /* no such file (no /proc): agent.conf alone */
        vm_error_clear();
        assert_int_equal(cmdline_apply_file(path, &config), 0);
        assert_int_equal(cmdline_apply_file("/nonexistent/vmattest/cmdline", &config), 0);
        assert_memory_equal(&config, &before, sizeof(config));
}

/* What `text` makes cmdline_apply log, at the level unlock runs with. */
static void logged(const char *text, int want_ret, char *out, size_t out_size) {
        _cleanup_(fclosep) FILE *capture = tmpfile();
        struct agent_config config;
        int saved = dup(STDERR_FILENO);
        size_t n;

        assert_non_null(capture);
        assert_true(saved >= 0);
        config_loaded(&config);
        fflush(stderr);
        assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
        log_setup("vmattest", LOG_LEVEL_INFO);
        assert_int_equal(apply(text, &config), want_ret);
        log_setup("vmattest", LOG_LEVEL_WARNING);
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        rewind(capture);
        n = fread(out, 1, out_size - 1, capture);
        out[n] = '\0';
}

static void test_log_lines(void **state) {
        char log[2048];

        /* one line per option applied, with the value as read (quotes gone) */
        logged("quiet rd.vmattest.registrar=10.0.2.2:8890 rd.vmattest=1 rd.vmattest.timeout=\"30\" "
               "rd.vmattest.port=9100 rd.luks.uuid=" UUID_A,
               0, log, sizeof(log));
        assert_string_equal(log, "vmattest: kernel command line: rd.vmattest.registrar=10.0.2.2:8890\n"
                                 "vmattest: kernel command line: rd.vmattest.timeout=30\n"
                                 "vmattest: kernel command line: rd.vmattest.port=9100\n"
                                 "vmattest: kernel command line: contact port 9100 as rd.vmattest.port\n");
        /* nothing of a line that is refused: none of it is applied */
        logged("rd.vmattest.registrar=10.0.2.2:8890 rd.vmattest.timeout=0", -EINVAL, log, sizeof(log));
        assert_string_equal(log, "");
        logged("root=/dev/vda1 quiet", 0, log, sizeof(log));
        assert_string_equal(log, "");
}

/* The real one, where there is one: the build host's command line has no rd.vmattest words. */
int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_each_option),
                cmocka_unit_test(test_mode),
                cmocka_unit_test(test_verifier),
                cmocka_unit_test(test_registrar_hosts),
                cmocka_unit_test(test_contact_forms),
                cmocka_unit_test(test_port_moves_contact_port),
                cmocka_unit_test(test_quoting),
                cmocka_unit_test(test_repetition),
                cmocka_unit_test(test_volume_accumulation),
                cmocka_unit_test(test_volume_list_bounded),
                cmocka_unit_test(test_other_words_ignored),
                cmocka_unit_test(test_switch),
                cmocka_unit_test(test_unknown_options),
                cmocka_unit_test(test_bad_values),
                cmocka_unit_test(test_all_or_nothing),
                cmocka_unit_test(test_hostile_lines),
                cmocka_unit_test(test_random_lines),
                cmocka_unit_test(test_file),
                cmocka_unit_test(test_log_lines),
        };

        log_setup("vmattest", LOG_LEVEL_WARNING); /* the applied options' lines: test_log_lines */
        return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
