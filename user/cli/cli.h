/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.h - the subcommands of the fastpath command, one file each; "run" is
 * the daemon's (daemon/main.c).
 */
#ifndef FP_CLI_H
#define FP_CLI_H

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_flow(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_lease(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_explain(int argc, char **argv);

/* status.c: a per-CPU fp_counter array summed over the CPUs. */
struct fp_counter;
int read_counters(int fd, struct fp_counter *out);

#endif /* FP_CLI_H */
