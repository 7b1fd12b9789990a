/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json.h - a minimal JSON writer for --json listings.
 */
#ifndef FP_LIB_JSON_H
#define FP_LIB_JSON_H

#include <stdbool.h>
#include <stdio.h>

struct json {
	FILE *f;
	int depth;
	bool first[16];
};
void json_begin(struct json *j, FILE *f, char open);
void json_end(struct json *j, char close);
void json_key(struct json *j, const char *key);
void json_obj_open(struct json *j, const char *key);
void json_arr_open(struct json *j, const char *key);
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, unsigned long long val);
void json_num(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);

#endif /* FP_LIB_JSON_H */
