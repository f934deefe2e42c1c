/* CSV and TSV data files (core/data.c): header row, quoting, nulls as
 * Ruby's CSV gives them to Jekyll, line endings, errors with their line. */
#include "check.h"
#include "data.h"
#include <stdlib.h>
#include <string.h>

/* The table as "k=v;k=v|..." (null as k=~), or the error text. */
static char *table(const char *text, char sep)
{
    pub_value *rows = NULL;
    pub_diag *err = pub_data_parse_table("_data/t.csv", text, strlen(text), sep, &rows);
    if (err) return check_diag_text(err);
    pub_buf out = PUB_BUF_INIT;
    for (size_t i = 0; i < rows->as.list.len; i++) {
        const pub_value *row = rows->as.list.items[i];
        if (i) pub_buf_putc(&out, '|');
        for (size_t k = 0; k < row->as.map.len; k++) {
            const pub_pair *p = &row->as.map.pairs[k];
            if (k) pub_buf_putc(&out, ';');
            const char *v = pub_value_str(p->value);
            pub_buf_printf(&out, "%s=%s", p->key, v ? v : "~");
        }
    }
    pub_value_free(rows);
    pub_buf_cstr(&out);
    return pub_buf_detach(&out);
}

#define CHECK_TABLE(text, sep, want)      \
    do {                                  \
        char *got_ = table((text), (sep)); \
        CHECK_STR(got_, (want));          \
        free(got_);                       \
    } while (0)

int main(void)
{
    CHECK_TABLE("a,b\n1,2\n3,4\n", ',', "a=1;b=2|a=3;b=4");
    CHECK_TABLE("a,b\r\n1,2\r\n", ',', "a=1;b=2");
    CHECK_TABLE("a,b\n1,2", ',', "a=1;b=2");
    CHECK_TABLE("\xEF\xBB\xBF" "a,b\n1,2\n", ',', "a=1;b=2");
    CHECK_TABLE("t,n\n\"x, y\",\"say \"\"hi\"\"\"\n", ',', "t=x, y;n=say \"hi\"");
    CHECK_TABLE("t,n\n\"two\nlines\",1\n", ',', "t=two\nlines;n=1");
    CHECK_TABLE("a,b,c\n1,,\"\"\n2\n", ',', "a=1;b=~;c=|a=2;b=~;c=~");
    CHECK_TABLE("a,b\n1,2\n\n3,4\n", ',', "a=1;b=2|a=~;b=~|a=3;b=4");
    CHECK_TABLE("\n\na\n1\n", ',', "a=1");
    CHECK_TABLE("name\tscore\nann\t10\n\"bo\tb\"\t7\n", '\t', "name=ann;score=10|name=bo\tb;score=7");
    CHECK_TABLE("a,b\n1,2\n", '\t', "a,b=1,2");
    CHECK_TABLE("", ',', "");
    CHECK_TABLE("a\n1\n\"open\n2\n", ',', "_data/t.csv:3:1: error: unclosed quoted field");
    return check_finish();
}
