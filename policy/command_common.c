/* What every vmattest-policy command does alike: the options it shares with the others, and
 * its exit code. */
#include <stdio.h>

#include "lib/error.h"
#include "policy/commands.h"

int policy_common_option(const char *command, const char *help, int opt, char **argv, const char **output,
                         enum log_level *level) {
        switch (opt) {
        case 'o':
                *output = optarg;
                return EXIT_OK;
        case 'q':
                *level = LOG_LEVEL_WARNING;
                return EXIT_OK;
        case 'v':
                *level = LOG_LEVEL_DEBUG;
                return EXIT_OK;
        case 'h':
                fputs(help, stdout);
                return -1;
        default:
                return policy_bad_option(command, opt, argv);
        }
}

int policy_exit_code(int ret) {
        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                return EXIT_FAILED;
        }
        return EXIT_OK;
}
