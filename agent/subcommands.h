/* The subcommands of `vmattest`; the table is in main.c. */
#pragma once

#include "agent/cli.h"

int cmd_identity(int argc, char **argv, struct cli *cli);
int cmd_quote(int argc, char **argv, struct cli *cli);
int cmd_pcrs(int argc, char **argv, struct cli *cli);
int cmd_extend(int argc, char **argv, struct cli *cli);
int cmd_register(int argc, char **argv, struct cli *cli);
int cmd_serve(int argc, char **argv, struct cli *cli);
int cmd_measure(int argc, char **argv, struct cli *cli);
int cmd_unlock(int argc, char **argv, struct cli *cli);
int cmd_config(int argc, char **argv, struct cli *cli);
int cmd_escrow(int argc, char **argv, struct cli *cli);
int cmd_provision(int argc, char **argv, struct cli *cli);
int cmd_first_boot(int argc, char **argv, struct cli *cli);
int cmd_pin_initrd(int argc, char **argv, struct cli *cli);
