/* Without libFuzzer: runs LLVMFuzzerTestOneInput once on every file named
 * on the command line, or in a folder named there (the seed corpus), and
 * prints how many ran. A failed property or a sanitizer report fails it. */
#define _DEFAULT_SOURCE
#include "fuzz.h"
#include "util/file.h"
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (pub_file_read(path, &data, &len) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0, ran = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **names;
            int n = scandir(argv[i], &names, NULL, alphasort);
            for (int k = 0; k < n; k++) {
                if (names[k]->d_name[0] != '.') {
                    char path[4096];
                    snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
                    failed += run_file(path);
                    ran++;
                }
                free(names[k]);
            }
            if (n >= 0) free(names);
        } else {
            failed += run_file(argv[i]);
            ran++;
        }
    }
    printf("%d inputs replayed, %d unreadable\n", ran, failed);
    return failed || ran == 0;
}
