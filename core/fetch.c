/* HTTP through the curl program (the contract is in fetch.h). curl is started directly (posix_spawnp, no shell), so a URL is
 * one argument whatever it holds; its report is one line per URL, matched
 * back by the URL curl was given (%{url}), because --parallel finishes
 * transfers in any order. */
#define _GNU_SOURCE
#include "fetch.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The argument list: options, then per URL "-o /dev/null URL". */
static char **curl_args(const char *const *urls, size_t n, const char *timeout)
{
    static const char *const head[] = {
        "curl", "--silent", "--location", "--parallel", "--parallel-max", "8",
        "--max-time", NULL, "--user-agent", "publish-link-check", "--write-out",
        "%{http_code} %{url}\\n"};
    size_t nhead = sizeof head / sizeof *head;
    char **argv = pub_xcalloc(nhead + 3 * n + 1, sizeof *argv);
    for (size_t i = 0; i < nhead; i++) argv[i] = (char *)(head[i] ? head[i] : timeout);
    for (size_t i = 0; i < n; i++) {
        argv[nhead + 3 * i] = (char *)"--output";
        argv[nhead + 3 * i + 1] = (char *)"/dev/null";
        argv[nhead + 3 * i + 2] = (char *)urls[i];
    }
    return argv;
}

/* Reads curl's report lines "CODE URL" into statuses. */
static void read_report(FILE *report, const char *const *urls, size_t n, int *statuses)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, report)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        char *space = strchr(line, ' ');
        if (!space) continue;
        *space = '\0';
        int code = atoi(line);
        for (size_t i = 0; i < n; i++)
            if (strcmp(urls[i], space + 1) == 0) statuses[i] = code;
    }
    free(line);
}

/* Starts curl with `argv`, its stdout on a pipe (*out) and its stderr on
 * another (*err, or /dev/null when err is NULL). Returns 0 or an errno. */
static int start_curl(char *const argv[], pid_t *pid, int *out, int *err)
{
    int o[2], e[2] = {-1, -1};
    if (pipe(o) != 0) return errno;
    if (err && pipe(e) != 0) {
        int saved = errno;
        close(o[0]);
        close(o[1]);
        return saved;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, o[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, o[0]);
    posix_spawn_file_actions_addclose(&actions, o[1]);
    if (err) {
        posix_spawn_file_actions_adddup2(&actions, e[1], STDERR_FILENO);
        posix_spawn_file_actions_addclose(&actions, e[0]);
        posix_spawn_file_actions_addclose(&actions, e[1]);
    } else {
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    }
    int rc = posix_spawnp(pid, "curl", &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(o[1]);
    if (err) close(e[1]);
    if (rc != 0) {
        close(o[0]);
        if (err) close(e[0]);
        return rc;
    }
    *out = o[0];
    if (err) *err = e[0];
    return 0;
}

char *pub_fetch_statuses(const char *const *urls, size_t n, int seconds, int *statuses)
{
    for (size_t i = 0; i < n; i++) statuses[i] = 0;
    if (n == 0) return NULL;
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", seconds > 0 ? seconds : 10);
    char **argv = curl_args(urls, n, timeout);
    pid_t pid;
    int out;
    int err = start_curl(argv, &pid, &out, NULL);
    free(argv);
    if (err != 0) {
        pub_buf msg = PUB_BUF_INIT;
        pub_buf_printf(&msg, "cannot check external links: cannot run curl: %s (apt-get install curl)",
                       strerror(err));
        return pub_buf_detach(&msg);
    }
    FILE *report = fdopen(out, "r");
    if (report) {
        read_report(report, urls, n, statuses);
        fclose(report);
    } else {
        close(out);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return NULL;
}

char *pub_fetch_get(const char *url, int seconds, char **body, size_t *len, int *status)
{
    *body = NULL;
    *len = 0;
    *status = 0;
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", seconds > 0 ? seconds : 10);
    /* The body on stdout, the status on stderr (%{stderr}). */
    char *const argv[] = {(char *)"curl", (char *)"--silent", (char *)"--location",
                          (char *)"--max-time", timeout, (char *)"--user-agent",
                          (char *)"publish", (char *)"--write-out",
                          (char *)"%{stderr}%{http_code}", (char *)"--", (char *)url, NULL};
    pid_t pid;
    int out, err;
    int rc = start_curl(argv, &pid, &out, &err);
    if (rc != 0) {
        pub_buf msg = PUB_BUF_INIT;
        pub_buf_printf(&msg, "cannot run curl: %s (apt-get install curl)", strerror(rc));
        return pub_buf_detach(&msg);
    }
    /* The status is a few bytes: it fits the pipe while the body is read. */
    if (pub_file_read_fd(out, body, len) != 0) {
        *body = pub_xstrdup("");
        *len = 0;
    }
    close(out);
    char *code = NULL;
    size_t code_len = 0;
    if (pub_file_read_fd(err, &code, &code_len) == 0) *status = atoi(code);
    free(code);
    close(err);
    int wstatus;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    return NULL;
}
