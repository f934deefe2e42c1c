/* core/markdown: parses on several threads at once give every thread the
 * same HTML as one parse alone. cmark-gfm keeps the inline parser's special
 * characters in a global table that each parse changes on entry and exit;
 * without markdown.c's guard, one thread's finished parse takes '~' and ':'
 * away from another's, and strikethrough or autolinks go missing at random.
 * Half the threads parse with every extension, the other half with none
 * (whose parses change nothing in the table), so parses with and without
 * the extensions' characters run against each other too. */
#include "check.h"
#include "markdown.h"
#include <pthread.h>

enum { THREADS = 4, ROUNDS = 100 };

static const char post[] =
    "| a | b |\n|---|---|\n| ~~지운 말~~ | www.example.com |\n\n"
    "Some ~~struck~~ text and https://example.org/x, and a footnote.[^1]\n\n"
    "[^1]: The note.\n";

static char *expected, *expected_plain;
static char post_text[sizeof post * 40];
static size_t post_len;

typedef struct job {
    unsigned extensions;
    int mismatches;
} job;

static void *parse_many(void *arg)
{
    job *j = arg;
    pub_md_options opts = {true, false, false, j->extensions};
    const char *want = j->extensions ? expected : expected_plain;
    for (int i = 0; i < ROUNDS; i++) {
        char *html = pub_md_render(post_text, post_len, &opts, NULL);
        if (strcmp(html, want) != 0) j->mismatches++;
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
    pub_md_options plain = {true, false, false, 0};
    expected_plain = pub_md_render(post_text, post_len, &plain, NULL);
    CHECK(strstr(expected_plain, "Some ~~struck~~ text and https://example.org/x, and") != NULL);
    CHECK(strstr(expected_plain, "<del>") == NULL);
    CHECK(strstr(expected_plain, "<a href") == NULL);
    /* A parse without the extensions leaves them working for the next. */
    char *again = pub_md_render(post_text, post_len, &opts, NULL);
    CHECK_STR(again, expected);
    free(again);

    pthread_t threads[THREADS];
    job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){t % 2 ? 0 : PUB_MD_DEFAULT_EXTENSIONS, 0};
        pthread_create(&threads[t], NULL, parse_many, &jobs[t]);
    }
    int total = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        total += jobs[t].mismatches;
    }
    CHECK(total == 0);
    if (total) fprintf(stderr, "%d of %d parallel parses differed\n", total, THREADS * ROUNDS);
    free(expected);
    free(expected_plain);
    return check_finish();
}
