/* vmattest-policy: makes the tenant's policies from an image and a reference boot. One binary,
 * one subcommand per kind of policy. */
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/command.h"
#include "lib/log.h"
#include "policy/commands.h"

static const struct command {
        struct command_entry entry; /* first: lib/command.h finds the name and summary there */
        int (*run)(int argc, char **argv);
} commands[] = {
        { { "runtime", "a Keylime runtime policy (IMA) from an image tree, an IMA list, a policy" }, cmd_runtime },
        { { "measured-boot",
            "vmattest-verifier's measured-boot policy from an event log or files" },
          cmd_measured_boot },
};

static const struct command_set command_set = {
        .program = "vmattest-policy",
        .synopsis = "COMMAND [OPTIONS]",
        .about = "Makes the tenant's policies for vmattest-verifier (and Keylime) from an image and a\n"
                 "reference boot.\n",
        .footer = "See vmattest-policy(1).\n",
        COMMAND_SET_TABLE(commands),
        .name_width = 14,
};

int main(int argc, char **argv) {
        const struct command *cmd;
        char *help_argv[3], **run_argv = NULL;
        int run_argc = 0, exit_code;

        log_setup("vmattest-policy", LOG_LEVEL_INFO);
        cmd = (const struct command *)command_select(&command_set, argc, argv, 1, help_argv, &run_argc, &run_argv,
                                                     &exit_code);
        if (!cmd)
                return exit_code;
        return cmd->run(run_argc, run_argv);
}
