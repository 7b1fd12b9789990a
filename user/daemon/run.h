/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * run.h - "fastpath run": setup and teardown (main.c) and the loop (loop.c).
 */
#ifndef FP_DAEMON_RUN_H
#define FP_DAEMON_RUN_H

#include "daemon/adapters.h"

/* loop.c */
int run_loop(struct daemon *d);
void publish(struct daemon *d, bool running);
void follow_ports(struct daemon *d);
int attach_port(struct daemon *d, __u32 ifindex, const char *name);

/* main.c */
int cmd_run(int argc, char **argv);

#endif /* FP_DAEMON_RUN_H */
