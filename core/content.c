/* The build's store of rendered HTML (the contract is in content.h): a list
 * of blocks filled front to back under one mutex, then a temporary file
 * appended to. A copy larger than a quarter of a block gets a block of its
 * own, so little is wasted at the end of a block. Copies and writes are
 * made outside the lock: a block never moves, and a write goes to bytes
 * of the file reserved for it alone. */
#include "content.h"
#include "util/file.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/mem.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK_SIZE (1u << 20)

typedef struct block {
    struct block *next;
    size_t used, size;
    char bytes[];
} block;

struct pub_content {
    block *head; /* the block being filled first; older ones follow */
    size_t bytes, in_memory, memory;
    int fd;          /* the file, once made; -1 before */
    bool no_file;    /* it could not be made or written: memory from then on */
    uint64_t file_end;
    pthread_mutex_t lock;
};

pub_content *pub_content_new(size_t memory)
{
    pub_content *c = pub_xcalloc(1, sizeof *c);
    c->memory = memory;
    c->fd = -1;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static block *new_block(size_t size, block *next)
{
    block *b = pub_xmalloc(sizeof *b + size);
    b->next = next;
    b->used = 0;
    b->size = size;
    return b;
}

/* Makes the file when there is none yet; false when there cannot be one.
 * Under the lock. Unlinked at once: nothing is left behind whatever
 * happens to the build, and the workers share it through the fd. */
static bool have_file(pub_content *c)
{
    if (c->no_file) return false;
    if (c->fd >= 0) return true;
    const char *dir = getenv("TMPDIR");
    char *prefix = pub_xmalloc(strlen(dir && *dir ? dir : "/tmp") + sizeof "/publish-content-");
    strcpy(prefix, dir && *dir ? dir : "/tmp");
    strcat(prefix, "/publish-content-");
    char *path = NULL;
    c->fd = pub_fs_temp_open(prefix, 0600, &path);
    free(prefix);
    if (c->fd >= 0) unlink(path);
    free(path);
    c->no_file = c->fd < 0;
    return c->fd >= 0;
}

static const char *copy_in(pub_content *c, const char *html, size_t len)
{
    char *to;
    pthread_mutex_lock(&c->lock);
    c->in_memory += len;
    if (len > BLOCK_SIZE / 4) {
        /* Behind the head, so the head keeps filling. */
        block *own = new_block(len, c->head ? c->head->next : NULL);
        own->used = len;
        if (c->head) c->head->next = own;
        else c->head = own;
        to = own->bytes;
    } else {
        if (!c->head || c->head->size - c->head->used < len) c->head = new_block(BLOCK_SIZE, c->head);
        to = c->head->bytes + c->head->used;
        c->head->used += len;
    }
    pthread_mutex_unlock(&c->lock);
    if (len) memcpy(to, html, len);
    return to;
}

pub_content_ref pub_content_add(pub_content *c, const char *html, size_t len)
{
    pub_content_ref ref = {NULL, 0, pub_hash(html, len, 0)};
    pthread_mutex_lock(&c->lock);
    c->bytes += len;
    bool to_file = c->in_memory + len > c->memory && have_file(c);
    if (to_file) {
        ref.offset = c->file_end;
        c->file_end += len;
    }
    pthread_mutex_unlock(&c->lock);
    if (to_file) {
        if (pub_file_pwrite_all(c->fd, html, len, ref.offset) == 0) return ref;
        /* Full or failing: this copy and the ones after it stay in memory. */
        pthread_mutex_lock(&c->lock);
        c->no_file = true;
        pthread_mutex_unlock(&c->lock);
    }
    ref.bytes = copy_in(c, html, len);
    return ref;
}

int pub_content_read(pub_content *c, const pub_content_ref *ref, char *dst, size_t len)
{
    if (ref->bytes) {
        if (len) memcpy(dst, ref->bytes, len);
        return 0;
    }
    return pub_file_pread_all(c->fd, dst, len, ref->offset);
}

size_t pub_content_bytes(pub_content *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->bytes;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void pub_content_free(pub_content *c)
{
    if (!c) return;
    for (block *b = c->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    if (c->fd >= 0) close(c->fd);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
