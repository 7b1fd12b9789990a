// SPDX-License-Identifier: GPL-2.0-only
/*
 * util.c - logging, argument parsing and the JSON writer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <bpf/libbpf.h>

#include "fp.h"

int fp_verbose;

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "fastpath: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

/* Debug lines carry the monotonic clock, to order them against packets. */
void pr_debug(const char *fmt, ...)
{
	char prefix[40];
	va_list ap;

	if (!fp_verbose)
		return;
	snprintf(prefix, sizeof(prefix), "debug: %.6f ", mono_ns() / 1e9);
	va_start(ap, fmt);
	vlog(prefix, fmt, ap);
	va_end(ap);
}

/* libbpf's warnings are demoted one level: the command reports the failure
 * itself in one line, and -v shows libbpf's detail (verifier log included).
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || !fp_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void fp_setup_libbpf_log(void)
{
	libbpf_set_print(libbpf_print);
}

/* Same clock as bpf_ktime_get_ns(). */
__u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

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

/*
 * getopt's own complaint is switched off (opterr = 0 in main) so that a
 * bad option is one line in our format; the option getopt stopped at is
 * the last one it consumed.
 */
int bad_option(const char *cmd, char **argv)
{
	return usage_error(cmd, "bad option or missing value: '%s' (see 'fastpath %s --help')",
			   argv[optind - 1], cmd);
}

/*
 * The options of the listing commands, "--json" and "--help". Returns -1
 * to go on, or the exit status when there is nothing more to do.
 */
int listing_args(int argc, char **argv, const char *cmd, const char *usage,
		 bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	*json = false;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return bad_option(cmd, argv);
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return -1;
}

int parse_mode(const char *s, enum fp_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = FP_MODE_AUTO;
	else if (!strcmp(s, "native"))
		*mode = FP_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = FP_MODE_GENERIC;
	else
		return -EINVAL;
	return 0;
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

static void json_sep(struct json *j)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void json_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *key)
{
	json_sep(j);
	if (key) {
		json_escaped(j->f, key);
		fputc(':', j->f);
	}
}

void json_begin(struct json *j, FILE *f, char open)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	fputc(open, f);
}

static void json_open(struct json *j, const char *key, char open)
{
	json_key(j, key);
	fputc(open, j->f);
	if (j->depth < 15)
		j->depth++;
	j->first[j->depth] = true;
}

void json_obj_open(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void json_arr_open(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void json_end(struct json *j, char close)
{
	fputc(close, j->f);
	if (j->depth > 0)
		j->depth--;
	else
		fputc('\n', j->f);
}

void json_str(struct json *j, const char *key, const char *val)
{
	json_key(j, key);
	json_escaped(j->f, val);
}

void json_u64(struct json *j, const char *key, unsigned long long val)
{
	json_key(j, key);
	fprintf(j->f, "%llu", val);
}

void json_num(struct json *j, const char *key, double val)
{
	json_key(j, key);
	fprintf(j->f, "%.3f", val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	json_key(j, key);
	fputs(val ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}
