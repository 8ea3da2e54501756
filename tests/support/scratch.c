/* Scratch directories for tests (scratch.h). */
#include "scratch.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *test_tmpdir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir != NULL && dir[0] != '\0' ? dir : "/tmp";
}

int test_scratch_dir(char *dir, size_t cap, const char *tag)
{
    int n = snprintf(dir, cap, "%s/psi-%s-XXXXXX", test_tmpdir(), tag);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "test_scratch_dir: %s/psi-%s-XXXXXX is longer than %zu bytes\n",
                test_tmpdir(), tag, cap);
        return -1;
    }
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "test_scratch_dir: mkdtemp %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int test_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? 0 : -1;
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int rc = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[1024];
        int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (n < 0 || (size_t)n >= sizeof child || test_remove_tree(child) != 0)
            rc = -1;
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}
