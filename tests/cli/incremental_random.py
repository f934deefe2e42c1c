#!/usr/bin/env python3
"""A randomised series of edits on a generated site (bench/gen.py): after
each one, an incremental build (page records kept in SRC/.publish-cache)
must give exactly the tree a --no-cache build into a fresh folder gives.

    incremental_random.py PUBLISH REPO_ROOT WORK [--seed S] [--steps N] [--posts N]

The seed is printed on failure (INCR_SEED=S re-runs that series). The site
gets what the generated one lacks so that every kind of input is read by
some page: neighbour links (a post reads the title and url of the next and
previous posts), a data file shown in the header of every page, an
include, and a site plugin whose `site` hook changes one post's front
matter in place (`post.meta.mark`, a table nested in the post, which the
post's snapshot does not hold), driven by a data file. Exit status 0 when
every step matched.
"""

import argparse
import filecmp
import os
import random
import re
import shutil
import subprocess
import sys

POST_LAYOUT_EXTRA = """
<nav class="neighbours">{% if post.previous %}<a rel="prev" href="{{ post.previous.url }}">{{ post.previous.title }}</a>{% end %}
{% if post.next %}<a rel="next" href="{{ post.next.url }}">{{ post.next.title }}</a>{% end %}</nav>
{% include "partials/note.html" %}
<p class="mark">{{ post.meta.mark }}</p>
"""

TOUCH_PLUGIN = """-- test: a site hook that changes one post's meta in place
local touch = { incremental = true }
function touch.site(site)
  local t = site.data.touch
  for _, post in ipairs(site.posts) do
    if post.slug == t.slug then post.meta.mark = t.mark end
  end
end
return touch
"""

BASE_NAV = """<nav class="site">{% for item in site.data.nav.links %}<a href="{{ item.url }}">{{ item.name }}</a> {% end %}</nav>
"""


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def diff_trees(a, b):
    """Paths that differ between trees a and b (missing, extra, other bytes)."""
    out = []
    for root, dirs, files in os.walk(a):
        rel = os.path.relpath(root, a)
        for f in files:
            pa, pb = os.path.join(root, f), os.path.join(b, rel, f)
            if not os.path.exists(pb):
                out.append("only in incremental: " + os.path.normpath(os.path.join(rel, f)))
            elif not filecmp.cmp(pa, pb, shallow=False):
                out.append("differs: " + os.path.normpath(os.path.join(rel, f)))
    for root, dirs, files in os.walk(b):
        rel = os.path.relpath(root, b)
        for f in files:
            if not os.path.exists(os.path.join(a, rel, f)):
                out.append("only in clean: " + os.path.normpath(os.path.join(rel, f)))
    return out


class Site:
    def __init__(self, path, rng):
        self.path, self.rng = path, rng
        self.counter = 0

    def posts(self):
        return sorted(os.listdir(os.path.join(self.path, "posts")))

    def post(self):
        return os.path.join(self.path, "posts", self.rng.choice(self.posts()))

    @staticmethod
    def read(p):
        with open(p, encoding="utf-8") as f:
            return f.read()

    @staticmethod
    def write(p, text):
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)

    def front(self, p, key, value):
        """Sets front matter `key: value` (one line) in post p."""
        text = self.read(p)
        head, body = text[4:].split("\n---\n", 1)
        lines = [l for l in head.split("\n")]
        out, skip = [], False
        for l in lines:
            if skip and (l.startswith("  ") or l.startswith("-")):
                continue
            skip = False
            if l.startswith(key + ":"):
                skip = True
                continue
            out.append(l)
        out.append(key + ": " + value)
        self.write(p, "---\n" + "\n".join(out) + "\n---\n" + body)

    # ---- the edits: each returns what it did ----

    def edit_body(self):
        p = self.post()
        self.counter += 1
        with open(p, "a", encoding="utf-8") as f:
            f.write("\nAn added paragraph number %d.\n" % self.counter)
        return "body of " + os.path.basename(p)

    def edit_title(self):
        p = self.post()
        self.counter += 1
        self.front(p, "title", "'Retitled %d'" % self.counter)
        return "title of " + os.path.basename(p)

    def edit_date(self):
        p = self.post()
        day = self.rng.randint(1, 28)
        self.front(p, "date", "20%02d-%02d-%02dT08:00:00+09:00" % (self.rng.randint(10, 24),
                                                                    self.rng.randint(1, 12), day))
        return "date of " + os.path.basename(p)

    def edit_categories(self):
        p = self.post()
        cats = self.rng.sample(["News", "뉴스", "dev", "Travel", "여행", "notes"], self.rng.randint(0, 2))
        self.front(p, "categories", "[" + ", ".join(cats) + "]")
        return "categories of " + os.path.basename(p)

    def edit_excerpt(self):
        p = self.post()
        self.counter += 1
        self.front(p, "excerpt", "'A new excerpt %d'" % self.counter)
        return "excerpt of " + os.path.basename(p)

    def add_post(self):
        self.counter += 1
        name = "20%02d-%02d-%02d-added-%d.md" % (self.rng.randint(10, 24), self.rng.randint(1, 12),
                                                self.rng.randint(1, 28), self.counter)
        self.write(os.path.join(self.path, "posts", name),
                   "---\ntitle: Added %d\ncategories: [dev]\ntags: [new]\n---\nA *new* post.\n" % self.counter)
        return "new post " + name

    def delete_post(self):
        p = self.post()
        os.remove(p)
        return "deleted " + os.path.basename(p)

    def rename_post(self):
        p = self.post()
        self.counter += 1
        new = re.sub(r"\.md$", "-moved-%d.md" % self.counter, p)
        os.rename(p, new)
        return "renamed " + os.path.basename(p)

    def edit_layout(self):
        name = self.rng.choice(["post.html", "home.html", "category.html", "base.html"])
        p = os.path.join(self.path, "layouts", name)
        self.counter += 1
        self.write(p, self.read(p) + "<!-- layout edit %d -->\n" % self.counter)
        return "layout " + name

    def edit_include(self):
        name = self.rng.choice(["note.html", "summary.html"])
        p = os.path.join(self.path, "layouts", "partials", name)
        self.counter += 1
        self.write(p, self.read(p) + "<!-- include edit %d -->\n" % self.counter)
        return "include " + name

    def edit_data(self):
        self.counter += 1
        self.write(os.path.join(self.path, "data", "nav.yaml"),
                   "links:\n  - {name: Home, url: /}\n  - {name: Edit %d, url: /e%d/}\n"
                   % (self.counter, self.counter))
        return "data file nav.yaml"

    def edit_config(self):
        p = os.path.join(self.path, "config.yaml")
        self.counter += 1
        text = re.sub(r"(?m)^title: .*$", "title: Bench Blog %d" % self.counter, self.read(p))
        self.write(p, text)
        return "config title"

    def edit_touch(self):
        self.counter += 1
        slug = re.sub(r"^\d{4}-\d\d-\d\d-", "", os.path.basename(self.post())[:-3])
        self.write(os.path.join(self.path, "data", "touch.yaml"),
                   "slug: %s\nmark: touched %d\n" % (slug, self.counter))
        return "site hook marks " + slug

    def nothing(self):
        return "no edit"


EDITS = ["edit_body", "edit_body", "edit_body", "edit_title", "edit_date", "edit_categories",
         "edit_excerpt", "add_post", "delete_post", "rename_post", "edit_layout", "edit_include",
         "edit_data", "edit_config", "edit_touch", "edit_touch", "nothing"]


def prepare(root, work, posts, seed):
    site = os.path.join(work, "site")
    r = run([sys.executable, os.path.join(root, "bench", "gen.py"), str(posts), site, "--seed", str(seed)])
    if r.returncode != 0:
        sys.exit("gen.py failed: " + r.stderr)
    shutil.rmtree(site + "-hugo", ignore_errors=True)
    layouts = os.path.join(site, "layouts")
    post = Site.read(os.path.join(layouts, "post.html"))
    Site.write(os.path.join(layouts, "post.html"), post.replace("</article>", POST_LAYOUT_EXTRA + "</article>"))
    base = Site.read(os.path.join(layouts, "base.html"))
    Site.write(os.path.join(layouts, "base.html"), base.replace("<main>", BASE_NAV + "<main>"))
    Site.write(os.path.join(layouts, "partials", "note.html"), "<aside>{{ site.title }}</aside>\n")
    os.makedirs(os.path.join(site, "data"))
    Site.write(os.path.join(site, "data", "nav.yaml"), "links:\n  - {name: Home, url: /}\n")
    Site.write(os.path.join(site, "data", "touch.yaml"), "slug: none\nmark: none\n")
    Site.write(os.path.join(site, "plugins", "touch.lua"), TOUCH_PLUGIN)
    config = os.path.join(site, "config.yaml")
    Site.write(config, re.sub(r"(?m)^plugins: \[(.*)\]$", r"plugins: [\1, touch]", Site.read(config)))
    return site


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("publish")
    ap.add_argument("root")
    ap.add_argument("work")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("INCR_SEED", "20261130")))
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--posts", type=int, default=200)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    site_dir = prepare(args.root, args.work, args.posts, args.seed)
    site = Site(site_dir, rng)
    out, clean = os.path.join(args.work, "out"), os.path.join(args.work, "clean")
    kept_any = False
    for step in range(args.steps + 1):
        what = "first build" if step == 0 else getattr(site, rng.choice(EDITS))()
        jobs = str(rng.choice([1, 2, 3]))
        r = run([args.publish, "build", "-s", site_dir, "-d", out, "-j", jobs])
        if r.returncode != 0:
            print("step %d (%s): incremental build failed (seed %d):\n%s" % (step, what, args.seed, r.stderr))
            return 1
        m = re.search(r"\((\d+) written, (\d+) unchanged", r.stdout)
        if step > 0 and m and int(m.group(2)) > 0:
            kept_any = True
        shutil.rmtree(clean, ignore_errors=True)
        r = run([args.publish, "build", "-s", site_dir, "-d", clean, "--no-cache", "-j", "1", "-q"])
        if r.returncode != 0:
            print("step %d (%s): clean build failed (seed %d):\n%s" % (step, what, args.seed, r.stderr))
            return 1
        diffs = diff_trees(out, clean)
        if diffs:
            print("step %d (%s, -j %s): the incremental build differs from a clean one (seed %d, "
                  "INCR_SEED=%d re-runs it):" % (step, what, jobs, args.seed, args.seed))
            for d in diffs[:20]:
                print("  " + d)
            return 1
        print("ok: step %d: %s (-j %s)" % (step, what, jobs))
    if not kept_any:
        print("no step kept any page: the page records were not used (seed %d)" % args.seed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
