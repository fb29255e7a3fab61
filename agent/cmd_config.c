/* vmattest config --get KEY: one key's effective value (agent.conf over the defaults), read by
 * the same table and the same validation as every other command. The dracut module asks it
 * which files agent.conf names, instead of reading agent.conf with a parser of its own. */
#include <stdio.h>
#include <string.h>

#include "agent/subcommands.h"
#include "lib/error.h"

static const char config_help[] =
        "Usage: vmattest config --get KEY [OPTIONS]\n"
        "\n"
        "Prints the value of KEY of [agent] as the agent uses it: agent.conf (--config) checked\n"
        "as every command checks it, over the defaults. Keys whose value is an algorithm or a\n"
        "handle are not printed. Exit status 2 for an unknown key or a bad agent.conf.\n"
        "\n"
        "      --get KEY        the key to print\n" CLI_COMMON_HELP;

int cmd_config(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "get", required_argument, NULL, 'g' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *key = NULL;
        char value[1024];
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'g':
                        key = optarg;
                        break;
                case 'h':
                        fputs(config_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("config", opt, argv);
                }
        }
        if ((ret = cli_no_operands("config", argc, argv)) != EXIT_OK)
                return ret;
        if (!key)
                return cli_usage_error("config", "--get KEY is required");
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        ret = agent_config_get(&cli->config, key, value, sizeof(value));
        if (ret == -ENOENT)
                return cli_usage_error("config", "%s", vm_error_detail(ret));
        if (ret < 0)
                return cli_fail(ret);
        printf("%s\n", value);
        return EXIT_OK;
}
