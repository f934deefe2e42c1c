/* The build's store of rendered HTML (the contract is in content.h): a list
 * of blocks filled front to back under one mutex; a copy larger than a
 * quarter of a block gets a block of its own, so little is wasted at the
 * end of a block. Copies are made outside the lock (a block never moves). */
#include "content.h"
#include "util/mem.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (1u << 20)

typedef struct block {
    struct block *next;
    size_t used, size;
    char bytes[];
} block;

struct pub_content {
    block *head; /* the block being filled first; older ones follow */
    size_t bytes;
    pthread_mutex_t lock;
};

pub_content *pub_content_new(void)
{
    pub_content *c = pub_xcalloc(1, sizeof *c);
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

const char *pub_content_add(pub_content *c, const char *html, size_t len)
{
    char *to;
    pthread_mutex_lock(&c->lock);
    c->bytes += len;
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
    pthread_mutex_destroy(&c->lock);
    free(c);
}
