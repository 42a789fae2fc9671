// SPDX-License-Identifier: GPL-2.0-only
/* Reading a report from a file, and finding things in it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int json_load(const char *path, struct json *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -errno;
	}
	do {
		if (len == cap) {
			char *t = realloc(text, cap = cap ? 2 * cap : 65536);

			if (!t) {
				ret = -ENOMEM;
				break;
			}
			text = t;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got);
	if (!ret && ferror(f))
		ret = -EIO;
	fclose(f);
	if (!ret)
		ret = json_parse(text, len, out, err, errlen);
	else
		snprintf(err, errlen, "%s", strerror(-ret));
	free(text);
	return ret;
}

const struct json *json_get(const struct json *j, const char *key)
{
	if (!j || j->type != JSON_OBJ)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return &j->v[i];
	return NULL;
}

const struct json *json_at(const struct json *j, const char *path)
{
	char key[64];

	while (j && *path) {
		size_t len = strcspn(path, ".");

		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		j = json_get(j, key);
		path += len + (path[len] == '.');
	}
	return j;
}

double json_num(const struct json *j, double dflt)
{
	return j && j->type == JSON_NUM ? j->num : dflt;
}

const char *json_text(const struct json *j, const char *dflt)
{
	return j && j->type == JSON_STR ? j->str : dflt;
}
