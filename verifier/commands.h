/* The subcommands of vmattest-verifier; the table is in main.c. */
#pragma once

#include <stdbool.h>

#include "verifier/config.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1, /* the operation failed */
        EXIT_USAGE = 2,  /* bad command line or config */
};

/* OpenSSL's secure heap (lib/secret.h): the vault key, K, U, V, payloads being released, the
 * TLS key's text */
#define VERIFIER_SECRET_HEAP_SIZE (256 * 1024)

int cmd_serve(int argc, char **argv, const char *config_path);
int cmd_agents(int argc, char **argv, const char *config_path);
int cmd_add(int argc, char **argv, const char *config_path);
int cmd_status(int argc, char **argv, const char *config_path);
int cmd_list(int argc, char **argv, const char *config_path);
int cmd_delete(int argc, char **argv, const char *config_path);
int cmd_reactivate(int argc, char **argv, const char *config_path);
int cmd_group(int argc, char **argv, const char *config_path);
int cmd_evidence(int argc, char **argv, const char *config_path);

struct store;

/* Loads the config (which need not exist when it is the default path); an exit code. */
int command_load_config(const char *config_path, struct verifier_config *config);
/* Loads the config and opens its database (`create`: make it when missing); an exit code. */
int command_open_store(const char *config_path, bool create, struct verifier_config *config, struct store **store);
