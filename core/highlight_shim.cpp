// The only C++ in publish: a thin layer over GNU source-highlight's
// library, which has a C++ API only. It loads language definitions
// (cached by source-highlight's LangDefManager), runs its highlighter over
// the code line by line and hands each token to a C callback; escaping,
// class names and line numbers are done in C (highlight.c).
//
// Threads: each thread has its own definition cache (a LangDefManager and
// the states it built), so threads highlight at the same time, each with
// states no other thread touches. Building a definition is serialized
// (load_lock): source-highlight's definition parser is a flex/bison one
// with global state. The language map is shared; highlight.c looks names
// up under its own lock. One piece of shared state is left to the
// library: HighlightState numbers its states from a plain static counter
// (global_id), which a run also bumps when a rule with back-references
// copies a state (a heredoc's end marker, a Lua long bracket); the number
// only names states in source-highlight's debug output, so two threads
// bumping it at once can at worst give two states the same number.
#include "highlight_shim.h"
#include <srchilite/formatter.h>
#include <srchilite/formattermanager.h>
#include <srchilite/langdefmanager.h>
#include <srchilite/langmap.h>
#include <srchilite/regexrulefactory.h>
#include <srchilite/settings.h>
#include <srchilite/sourcehighlighter.h>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>

namespace {

// Definitions are parsed once per thread and kept (LangDefManager caches
// the built states by file name); freed when the thread ends.
struct Definitions {
    srchilite::RegexRuleFactory rule_factory;
    srchilite::LangDefManager manager{&rule_factory};
};
thread_local Definitions definitions;
std::mutex load_lock;
srchilite::LangMap *lang_map;

// This thread's states for `file` in `dir`, built on first use.
srchilite::HighlightStatePtr highlight_state(const char *dir, const char *file)
{
    std::lock_guard<std::mutex> hold(load_lock);
    return definitions.manager.getHighlightState(dir, file);
}

struct Sink {
    pub_hl_shim_emit emit;
    void *ud;
};

// One formatter per element name; all write to the sink of the current run.
class ElementFormatter : public srchilite::Formatter {
public:
    ElementFormatter(const std::string &element, Sink *sink) : element_(element), sink_(sink) {}
    void format(const std::string &s, const srchilite::FormatterParams *) override
    {
        if (!s.empty()) sink_->emit(sink_->ud, element_.c_str(), s.data(), s.size());
    }

private:
    std::string element_;
    Sink *sink_;
};

// The element names used by Debian's definition files and ours; an element
// not listed here is emitted as "normal" (plain text).
const char *const elements[] = {
    "keyword", "type", "usertype", "string", "regexp", "specialchar", "comment", "number",
    "preproc", "symbol", "function", "cbracket", "todo", "predef_var", "predef_func",
    "classname", "url", "variable", "label", "property", "selector", "value", "atom", "meta",
    "path", "oldfile", "newfile", "difflines", "date", "time", "argument", "italics", "bold",
    "fixed", "error", "warning", "heading", "code", "attribute", "key", "quote", "list",
    "anchor", "tag", "builtin", "constant", "decorator", nullptr};

char *dup_message(const char *prefix, const char *what)
{
    std::string m = std::string(prefix) + what;
    char *out = static_cast<char *>(std::malloc(m.size() + 1));
    if (out) std::memcpy(out, m.c_str(), m.size() + 1);
    return out;
}

} // namespace

extern "C" char *pub_hl_shim_datadir(void)
{
    try {
        std::string dir = srchilite::Settings::retrieveDataDir();
        return strdup(dir.c_str());
    } catch (...) {
        return strdup(ABSOLUTEDATADIR_FALLBACK);
    }
}

extern "C" char *pub_hl_shim_lookup(const char *lang)
{
    try {
        if (!lang_map) {
            char *dir = pub_hl_shim_datadir();
            lang_map = new srchilite::LangMap(dir ? dir : ABSOLUTEDATADIR_FALLBACK, "lang.map");
            std::free(dir);
            lang_map->open();
        }
        std::string file = lang_map->getFileName(lang);
        return file.empty() ? nullptr : strdup(file.c_str());
    } catch (...) {
        return nullptr;
    }
}

extern "C" char *pub_hl_shim_load(const char *dir, const char *file)
{
    try {
        highlight_state(dir, file);
        return nullptr;
    } catch (const std::exception &e) {
        return dup_message(file, std::string(": ").append(e.what()).c_str());
    } catch (...) {
        return dup_message(file, ": unknown source-highlight failure");
    }
}

extern "C" char *pub_hl_shim_run(const char *dir, const char *file, const char *code,
                                 size_t len, pub_hl_shim_emit emit, void *ud)
{
    try {
        srchilite::HighlightStatePtr state = highlight_state(dir, file);
        Sink sink = {emit, ud};
        srchilite::FormatterManager formatters(
            srchilite::FormatterPtr(new ElementFormatter("normal", &sink)));
        for (const char *const *e = elements; *e; e++)
            formatters.addFormatter(*e, srchilite::FormatterPtr(new ElementFormatter(*e, &sink)));
        srchilite::SourceHighlighter highlighter(state);
        highlighter.setFormatterManager(&formatters);
        highlighter.setOptimize(true);
        size_t start = 0;
        while (start < len) {
            const char *nl = static_cast<const char *>(std::memchr(code + start, '\n', len - start));
            size_t end = nl ? static_cast<size_t>(nl - code) : len;
            highlighter.highlightParagraph(std::string(code + start, end - start));
            emit(ud, nullptr, nl ? "\n" : "", nl ? 1 : 0);
            start = end + 1;
        }
        return nullptr;
    } catch (const std::exception &e) {
        // Boost.Regex gives up on some inputs ("Ran out of stack space
        // trying to match the regular expression." for a 300-letter C
        // identifier): the block is then shown plain.
        return dup_message("source-highlight: ", e.what());
    } catch (...) {
        return dup_message("source-highlight: ", "unknown failure");
    }
}
