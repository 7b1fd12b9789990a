// SPDX-License-Identifier: GPL-2.0-only
/*
 * udp_flood - steady UDP traffic on many flows, for the offload-latency
 * benchmark: every flow sends from its first packet on, so the time from
 * the conntrack event to the flow-table entry is the daemon's, not a wait
 * for the application's next packet.
 *
 *   udp_flood DST PORT FLOWS PPS_PER_FLOW SECONDS [spread]
 *   udp_flood -s PORT              (echo server: every datagram goes back)
 *
 * "spread" sends each round in chunks of 32 spread over the round, not in
 * one burst: thousands of flows at once would overrun the router's veth
 * ring (256 frames) and lose most of each round.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int echo_server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	char buf[2048];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "udp_flood: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);

		if (n > 0)
			sendto(fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&peer, len);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int flows, pps, *fds;
	bool spread;
	double secs, start, gap;
	char payload[64] = "fastpath-latency";
	long sent = 0;

	if (argc == 3 && !strcmp(argv[1], "-s"))
		return echo_server(atoi(argv[2]));
	if ((argc != 6 && (argc != 7 || strcmp(argv[6], "spread"))) ||
	    inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: udp_flood DST PORT FLOWS PPS_PER_FLOW SECONDS [spread]\n");
		return 2;
	}
	spread = argc == 7;
	dst.sin_port = htons(atoi(argv[2]));
	flows = atoi(argv[3]);
	pps = atoi(argv[4]);
	secs = atof(argv[5]);
	if (flows < 1 || flows > 16384 || pps < 1 || secs <= 0) {
		fprintf(stderr, "udp_flood: bad arguments\n");
		return 2;
	}
	fds = calloc(flows, sizeof(*fds));
	for (int i = 0; i < flows; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&dst, sizeof(dst))) {
			fprintf(stderr, "udp_flood: %s\n", strerror(errno));
			return 1;
		}
	}
	gap = 1.0 / pps;
	start = now();
	for (long round = 0; now() - start < secs; round++) {
		double due = start + round * gap;
		struct timespec ts = { .tv_sec = (time_t)due,
				       .tv_nsec = (long)((due - (time_t)due) * 1e9) };

		/* Sleep, not spin: on two cores a spinning generator would
		 * steal the CPU the router and the daemon need.
		 */
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		for (int i = 0; i < flows; i++) {
			if (spread && i && !(i % 32)) {
				double at = due + gap * i / flows;

				ts.tv_sec = (time_t)at;
				ts.tv_nsec = (long)((at - (time_t)at) * 1e9);
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			}
			if (send(fds[i], payload, sizeof(payload), MSG_DONTWAIT) > 0)
				sent++;
		}
	}
	printf("%ld\n", sent);
	return 0;
}
