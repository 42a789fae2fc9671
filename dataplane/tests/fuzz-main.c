// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replays inputs through LLVMFuzzerTestOneInput() when the target is not
 * linked with libFuzzer: every file named, and every file in every
 * directory named, so that the corpus runs as a unit test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	size_t cap = 4096, n = 0, got;
	uint8_t *buf = malloc(cap), *nb;
	FILE *f = fopen(path, "rb");

	if (!f || !buf) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		free(buf);
		if (f)
			fclose(f);
		return -1;
	}
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
	}
	fclose(f);
	/* an exact-size copy, so that ASan catches reads past the input */
	nb = malloc(n ? n : 1);
	if (!nb) {
		free(buf);
		return -1;
	}
	memcpy(nb, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(nb, n);
	free(nb);
	return 0;
}

static int run_path(const char *path, unsigned long *ran)
{
	char child[4096];
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *dir;

	if (stat(path, &st)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (run_file(path))
			return -1;
		(*ran)++;
		return 0;
	}
	dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		if (run_path(child, ran))
			ret = -1;
	}
	closedir(dir);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long ran = 0;
	int i, ret = 0;

	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &ran))
			ret = 1;
	printf("%s: ran %lu inputs\n", argv[0], ran);
	if (!ran) {
		/* a corpus that went missing must not pass as a clean run */
		fprintf(stderr, "%s: no inputs\n", argv[0]);
		return 1;
	}
	return ret;
}
