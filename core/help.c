/* Help pages of the command line. Each command's page is usage, one
 * paragraph saying what it does, its options and an example, in that
 * order, so `publish help build` answers without the README. */
#include "help.h"
#include <stddef.h>
#include <string.h>

typedef struct help_page {
    const char *command;
    const char *usage;
    const char *text; /* what it does, options, example */
} help_page;

static const help_page pages[] = {
    {"build",
     "usage: publish [build] [-s SRC] [-d DEST] [--drafts] [--future] [--no-cache] [--clean]\n"
     "                       [--explain [PAGE]] [-j N] [-q]\n",
     "\nBuilds the site in SRC into DEST. Only files whose bytes changed are written;\n"
     "a build with errors leaves DEST as it was. The summary line says how many\n"
     "drafts and future posts were left out. A page renders again only when\n"
     "something it read last time changed (a post's field, a layout, a data file).\n\n"
     "options:\n"
     "  -s, --source SRC        the site folder, holding config.yaml (default: .)\n"
     "  -d, --destination DEST  the output folder (default: config 'destination' or SRC/_site)\n"
     "      --drafts            include drafts and posts with 'published: false'\n"
     "      --future            include posts dated in the future\n"
     "      --no-cache          neither use nor update SRC/.publish-cache\n"
     "      --clean             remove files in DEST that publish did not write\n"
     "      --explain [PAGE]    print why each page renders again (or only PAGE: its\n"
     "                          URL or output path), one line per changed input\n"
     "  -j, --jobs N            worker threads (default: number of cores)\n"
     "  -q, --quiet             print nothing but errors\n\n"
     "example:\n"
     "  publish build -s mysite --drafts\n"
     "  publish build -s mysite --explain /2024/06/19/hello/\n"},
    {"check",
     "usage: publish check [-s SRC] [--drafts] [--future] [--external]\n",
     "\nLoads and validates everything a build would (config keys and types, front\n"
     "matter, the site's own schema, plugins, templates) and writes nothing.\n"
     "Every problem is reported at once as PATH:LINE:COL: error: MESSAGE.\n\n"
     "options:\n"
     "  -s, --source SRC        the site folder (default: .)\n"
     "      --drafts            check drafts too\n"
     "      --future            check future posts too\n"
     "      --external          also fetch every external http(s) link (needs curl\n"
     "                          and the network; 10 s per link, 8 at a time)\n"
     "  -q, --quiet             print nothing but errors\n\n"
     "example:\n"
     "  publish check -s mysite\n"},
    {"serve",
     "usage: publish serve [-s SRC] [--host 127.0.0.1] [--port 4000] [--drafts] [--future] [--no-reload]\n",
     "\nBuilds the site, serves it over HTTP, rebuilds when a file changes and\n"
     "reloads open pages; a build error is shown in the page until it is fixed.\n\n"
     "options:\n"
     "  -s, --source SRC        the site folder (default: .)\n"
     "  -d, --destination DEST  the output folder (default: as for build)\n"
     "      --host H            the address to listen on (default: 127.0.0.1)\n"
     "      --port N            the port (default: 4000)\n"
     "      --drafts            include drafts\n"
     "      --future            include posts dated in the future\n"
     "      --no-reload         do not make open pages reload after a rebuild\n\n"
     "example:\n"
     "  publish serve -s mysite --port 8080\n"},
    {"run",
     "usage: publish run SCRIPT [-s SRC] [--dry-run] [-q] [--] [ARGS...]\n",
     "\nRuns a Lua bulk-edit script over the site's posts and pages (all of them,\n"
     "drafts and future posts too) and writes back what it changed: only the\n"
     "changed keys' lines, all files or none. SCRIPT is a file, or the name of a\n"
     "bundled script (retag, set, dates, feature-image, jekyll-import).\n\n"
     "Arguments after SCRIPT go to the script, except the options of run below,\n"
     "which are taken wherever they stand; after '--' everything goes to the\n"
     "script. 'publish run SCRIPT --help' prints the script's own usage.\n\n"
     "options:\n"
     "  -s, --source SRC        the site folder (default: .)\n"
     "      --dry-run           print the diff of what would change, write nothing\n"
     "  -q, --quiet             print nothing but errors\n"
     "  -j, --jobs N            worker threads reading the posts\n\n"
     "example:\n"
     "  publish run retag -s mysite --dry-run -- News 뉴스\n"},
    {"new",
     "usage: publish new TITLE [-s SRC] [--category C]...\n",
     "\nCreates posts/YYYY-MM-DD-slug.md (today, in the site's time zone) with the\n"
     "title and categories in its front matter; never overwrites a file.\n\n"
     "options:\n"
     "  -s, --source SRC        the site folder (default: .)\n"
     "      --category C        a category for the post; may repeat\n"
     "  -q, --quiet             do not print the new file's path\n\n"
     "example:\n"
     "  publish new \"Autumn in Seoul\" -s mysite --category travel\n"},
    {"init",
     "usage: publish init [DIR] [--empty]\n",
     "\nMakes a new site in DIR (default: the current folder), which must be new or\n"
     "empty: config.yaml, layouts, a theme, an about page and example posts, all\n"
     "from the example site built into publish. Then builds it once and says\n"
     "what to run next.\n\n"
     "options:\n"
     "      --empty             no example posts (an empty posts/ folder)\n"
     "  -q, --quiet             print nothing but errors and the last line\n\n"
     "example:\n"
     "  publish init myblog && publish serve -s myblog\n"},
    {"help",
     "usage: publish help [COMMAND]\n",
     "\nPrints the overview, or the page of COMMAND (the same as 'publish COMMAND --help').\n\n"
     "example:\n"
     "  publish help run\n"},
};

static const char overview[] =
    "publish: a Lua-scriptable static publishing engine\n\n"
    "usage: publish COMMAND [OPTIONS]\n\n"
    "commands:\n"
    "  build        build the site into DEST (the default command)\n"
    "  check        load and validate everything, write nothing\n"
    "  serve        build, serve over HTTP, rebuild and reload pages on change\n"
    "  run SCRIPT   run a Lua bulk-edit script over the posts, write the changes back\n"
    "  new TITLE    create posts/YYYY-MM-DD-slug.md with front matter\n"
    "  init [DIR]   make a new site from the built-in example, and build it\n"
    "  help [CMD]   this overview, or one command's options and an example\n\n"
    "A site is a folder with config.yaml (or a Jekyll _config.yml); -s SRC names\n"
    "it (default: the current folder).\n\n"
    "  -h, --help     this overview ('publish COMMAND --help' for a command)\n"
    "  -V, --version  the version\n\n"
    "example:\n"
    "  publish init mysite && publish serve -s mysite\n";

static const help_page *find(const char *command)
{
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
        if (strcmp(pages[i].command, command) == 0) return &pages[i];
    return NULL;
}

const char *pub_help_overview(void)
{
    return overview;
}

const char *pub_help_usage(const char *command)
{
    const help_page *p = find(command);
    return p ? p->usage : NULL;
}

const char *pub_help_text(const char *command)
{
    const help_page *p = find(command);
    return p ? p->text : NULL;
}
