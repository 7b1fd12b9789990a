// SPDX-License-Identifier: GPL-2.0-only
/*
 * fmt.c - parsing and printing of numbers, names, MACs, addresses and
 * endpoints, in the notation of ip(8), ss(8) and the conntrack tools.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "lib/fmt.h"

int parse_u32(const char *s, __u32 max, __u32 *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_ifname(const char *name, __u32 *ifindex)
{
	if (strlen(name) >= IF_NAMESIZE)
		return -ENAMETOOLONG;
	*ifindex = if_nametoindex(name);
	return *ifindex ? 0 : -ENODEV;
}

const char *ifname_or_index(__u32 ifindex, char buf[IF_NAMESIZE + 8])
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE + 8, "if%u", ifindex);
	return buf;
}

int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

void format_mac(const __u8 mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

int parse_addr(const char *s, __u8 *family, __be32 addr[4])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/*
 * ADDR, ADDR:PORT, IPV6, or [IPV6]:PORT - the notation of ss(8) and
 * conntrack tools, so tuples can be pasted from them.
 */
int parse_endpoint(const char *s, __u8 *family, __be32 addr[4], __be16 *port,
		   bool port_required)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *colon = strrchr(s, ':');
	char *p = NULL;
	__u32 v;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*port = 0;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close)
			return -EINVAL;
		*close = '\0';
		if (close[1] == ':')
			p = close + 2;
		else if (close[1])
			return -EINVAL;
		memmove(buf, buf + 1, strlen(buf + 1) + 1);
	} else if (colon && strchr(s, ':') == colon) {
		/* exactly one colon: IPv4 with a port */
		p = buf + (colon - s);
		*p++ = '\0';
	}
	if (parse_addr(buf, family, addr))
		return -EINVAL;
	if (p) {
		if (parse_u32(p, 65535, &v) || v == 0)
			return -EINVAL;
		*port = htons(v);
	} else if (port_required) {
		return -EINVAL;
	}
	return 0;
}

void format_addr(__u8 family, const __be32 addr[4], char *buf, size_t len)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

void format_endpoint(__u8 family, const __be32 addr[4], __be16 port,
		     char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	format_addr(family, addr, a, sizeof(a));
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, ntohs(port));
	else
		snprintf(buf, len, "%s:%u", a, ntohs(port));
}

int parse_proto(const char *s, __u8 *proto)
{
	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

const char *proto_name(__u8 proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}
