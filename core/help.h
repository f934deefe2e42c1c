/* The command line's help texts: an overview and one page per command
 * (usage, what it does, its options, an example). Text only: cli.c prints
 * them. Kept apart so the parser stays short and every page reads as one. */
#ifndef PUB_HELP_H
#define PUB_HELP_H

/* `publish help` and `publish --help` (borrowed, static). */
const char *pub_help_overview(void);

/* The page of COMMAND (`publish help COMMAND`, `publish COMMAND --help`)
 * is its usage line, then its text (what it does, options, example). Both
 * NULL when there is no such command. Borrowed, static. */
const char *pub_help_usage(const char *command);
const char *pub_help_text(const char *command);

#endif
