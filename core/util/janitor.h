/* A janitor: a small child process that removes a folder if this process
 * dies before saying it is done with it (killed, crashed, os.exit from a
 * script), so a build's staging folder is never left behind. It learns of
 * the death from a pipe reaching end-of-file, which the kernel closes
 * whatever way the process ends, SIGKILL included. */
#ifndef PUB_UTIL_JANITOR_H
#define PUB_UTIL_JANITOR_H

typedef struct pub_janitor {
    int fd;   /* write end of the pipe; -1 when there is no janitor */
    int pid;
} pub_janitor;

/* Starts a janitor for the folder `path`, which must exist (it removes
 * that very folder, by inode, not a later one of the same name). Without a
 * janitor (fork failed) j->fd is -1 and everything else still works: the
 * next build removes a stale folder. */
void pub_janitor_start(pub_janitor *j, const char *path);

/* The folder is handled (committed, or removed by us): the janitor exits
 * without touching anything and is reaped. */
void pub_janitor_dismiss(pub_janitor *j);

#endif
