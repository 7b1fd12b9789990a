// SPDX-License-Identifier: GPL-2.0-only
/*
 * json.c - a minimal JSON writer for --json listings.
 */
#include "lib/json.h"

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
