/* The output module's writer pool: pub_out_submit hands a page's bytes to
 * writer threads through a bounded queue, so memory stays flat when pages
 * come faster than disks. The writers run pub_out_place (output.c); the
 * first I/O error is kept and returned by commit. The queue is guarded by
 * its own lock (`qlock`), never taken together with the path lock. */
#include "output_impl.h"
#include "util/mem.h"
#include <stdlib.h>

enum { BATCH = 64, WAKE_FILES = 64 };
#define WAKE_BYTES ((size_t)1 << 20)

static void *writer_main(void *arg)
{
    pub_out *out = arg;
    job *batch[BATCH];
    pthread_mutex_lock(&out->qlock);
    for (;;) {
        while (!out->head && !out->closing) {
            out->idle_writers++;
            pthread_cond_wait(&out->has_work, &out->qlock);
            out->idle_writers--;
        }
        if (!out->head) break;
        size_t n = 0;
        for (; out->head && n < BATCH; out->head = out->head->next) batch[n++] = out->head;
        if (!out->head) out->tail = NULL;
        /* After a failure or an abort the build is lost: drain, skip I/O. */
        bool skip = out->failure || out->dropping;
        pthread_mutex_unlock(&out->qlock);

        size_t counts[3] = {0}, bytes = 0;
        int rc = 0;
        const entry *failed = NULL;
        for (size_t i = 0; i < n; i++) {
            int how;
            if (!skip && !rc) {
                rc = pub_out_place(out, batch[i]->file, batch[i]->bytes, batch[i]->len,
                                   PUB_OUT_PAGE_MODE, &how);
                if (rc)
                    failed = batch[i]->file;
                else
                    counts[how]++;
            }
            bytes += batch[i]->len;
        }
        pub_out_tally(out, counts);

        pthread_mutex_lock(&out->qlock);
        /* The pages were malloc'd by the submitting thread: freeing them
         * here would fight it for its malloc arena's lock. */
        for (size_t i = 0; i < n; i++) {
            batch[i]->next = out->done;
            out->done = batch[i];
        }
        out->queued_files -= n;
        out->queued_bytes -= bytes;
        if (out->waiting_submitters) pthread_cond_broadcast(&out->has_room);
        if (rc && !out->failure) out->failure = pub_out_write_error(out, failed->rel, rc);
    }
    pthread_mutex_unlock(&out->qlock);
    return NULL;
}

/* Starts the writers on first use; call with qlock held. Returns false
 * when none could start (the caller then writes itself). */
static bool writers_running(pub_out *out)
{
    if (!out->threads && out->jobs > 0) {
        out->threads = pub_xcalloc((size_t)out->jobs, sizeof *out->threads);
        while (out->started < out->jobs &&
               pthread_create(&out->threads[out->started], NULL, writer_main, out) == 0)
            out->started++;
    }
    return out->started > 0;
}

static void free_jobs(job *j)
{
    while (j) {
        job *next = j->next;
        free(j->bytes);
        free(j);
        j = next;
    }
}

void pub_out_stop_writers(pub_out *out, bool drop)
{
    pthread_mutex_lock(&out->qlock);
    out->closing = true;
    if (drop) out->dropping = true;
    pthread_cond_broadcast(&out->has_work);
    pthread_mutex_unlock(&out->qlock);
    for (int i = 0; i < out->started; i++) pthread_join(out->threads[i], NULL);
    out->started = 0;
    free_jobs(out->done);
    out->done = NULL;
}

pub_diag *pub_out_submit(pub_out *out, const char *relpath, char *bytes, size_t len)
{
    pub_diag *err = NULL;
    entry *file = pub_out_claim(out, relpath, &err);
    if (!file) {
        free(bytes);
        return err;
    }
    pthread_mutex_lock(&out->qlock);
    if (!writers_running(out)) {
        pthread_mutex_unlock(&out->qlock);
        err = pub_out_place_now(out, file, bytes, len, PUB_OUT_PAGE_MODE);
        free(bytes);
        pthread_mutex_lock(&out->qlock);
        if (err && !out->failure)
            out->failure = err;
        else
            pub_diag_free(err);
        pthread_mutex_unlock(&out->qlock);
        return NULL;
    }
    /* Bounded, so memory stays flat when pages come faster than disks. */
    while (out->queued_files >= QUEUE_FILES ||
           (out->queued_files > 0 && out->queued_bytes + len > QUEUE_BYTES)) {
        out->waiting_submitters++;
        pthread_cond_wait(&out->has_room, &out->qlock);
        out->waiting_submitters--;
    }
    job *j = pub_xmalloc(sizeof *j);
    *j = (job){NULL, file, bytes, len};
    if (out->tail)
        out->tail->next = j;
    else
        out->head = j;
    out->tail = j;
    out->queued_files++;
    out->queued_bytes += len;
    /* Waking a writer is a futex call that costs as much as a small page's
     * whole write; wake one per batch. Commit wakes them for the rest. */
    if (out->idle_writers && (out->queued_files >= WAKE_FILES || out->queued_bytes >= WAKE_BYTES))
        pthread_cond_signal(&out->has_work);
    job *done = out->done;
    out->done = NULL;
    pthread_mutex_unlock(&out->qlock);
    free_jobs(done);
    return NULL;
}
