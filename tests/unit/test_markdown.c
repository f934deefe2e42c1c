/* core/markdown: parses on several threads at once give every thread the
 * same HTML as one parse alone. cmark-gfm keeps the inline parser's special
 * characters in a global table that each parse changes on entry and exit;
 * without markdown.c's guard, one thread's finished parse takes '~' and ':'
 * away from another's, and strikethrough or autolinks go missing at random. */
#include "check.h"
#include "markdown.h"
#include <pthread.h>

enum { THREADS = 4, ROUNDS = 100 };

static const char post[] =
    "| a | b |\n|---|---|\n| ~~지운 말~~ | www.example.com |\n\n"
    "Some ~~struck~~ text and https://example.org/x, and a footnote.[^1]\n\n"
    "[^1]: The note.\n";

static char *expected;
static char post_text[sizeof post * 40];
static size_t post_len;

static void *parse_many(void *arg)
{
    int *mismatches = arg;
    pub_md_options opts = {true, false, false, PUB_MD_DEFAULT_EXTENSIONS};
    for (int i = 0; i < ROUNDS; i++) {
        char *html = pub_md_render(post_text, post_len, &opts, NULL);
        if (strcmp(html, expected) != 0) (*mismatches)++;
        free(html);
    }
    return NULL;
}

int main(void)
{
    /* Forty copies: a longer inline pass, a wider window for the race. */
    for (int i = 0; i < 40; i++) {
        memcpy(post_text + post_len, post, sizeof post - 1);
        post_len += sizeof post - 1;
    }
    pub_md_options opts = {true, false, false, PUB_MD_DEFAULT_EXTENSIONS};
    expected = pub_md_render(post_text, post_len, &opts, NULL);
    CHECK(strstr(expected, "<del>지운 말</del>") != NULL);
    CHECK(strstr(expected, "<del>struck</del>") != NULL);
    CHECK(strstr(expected, "<a href=\"http://www.example.com\">www.example.com</a>") != NULL);
    CHECK(strstr(expected, "<a href=\"https://example.org/x\">https://example.org/x</a>") != NULL);

    pthread_t threads[THREADS];
    int mismatches[THREADS] = {0};
    for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, parse_many, &mismatches[t]);
    int total = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        total += mismatches[t];
    }
    CHECK(total == 0);
    if (total) fprintf(stderr, "%d of %d parallel parses differed\n", total, THREADS * ROUNDS);
    free(expected);
    return check_finish();
}
