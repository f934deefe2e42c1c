#!/usr/bin/env python3
"""Builds one Jekyll site with publish and with Jekyll 4.3 (Debian's
`jekyll`) and compares them page by page: the same files, and for each
HTML page the same visible text and the same URLs (href/src/canonical,
in order); for feeds and sitemaps the same URLs and titles; for CSS the
same rules (whitespace aside). Known, documented differences are ignored
(docs/jekyll.md): Jekyll's Sass source maps and redirects.json, the
generator name, and kramdown's vs cmark-gfm's blank lines.

    compare.py PUBLISH SITE_DIR [--keep DIR]

Prints one line per page and a summary; exit status 1 when they differ."""
import html, html.parser, os, re, shutil, subprocess, sys, tempfile

JEKYLL_ONLY = re.compile(r"(\.css\.map|^redirects\.json)$")


class Page(html.parser.HTMLParser):
    """Visible text (not script/style) and the URLs a page links to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.urls, self.skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src") or (tag == "meta" and name == "content"
                                            and re.match(r"https?://", value)):
                self.urls.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)


def html_view(data):
    p = Page()
    p.feed(data.decode("utf-8", "replace"))
    text = " ".join(" ".join(p.text).split())
    return text, p.urls


def xml_view(data):
    # Entry content is HTML, escaped (publish) or in CDATA (jekyll-feed);
    # jekyll-feed's media:thumbnail of a post's image is not written.
    s = html.unescape(re.sub(r"<media:[^>]*>", "", data.decode("utf-8", "replace")))
    urls = sorted(set(re.findall(r'(?:href|url)="([^"]+)"', s) + re.findall(r"<loc>([^<]+)</loc>", s)))
    titles = sorted(re.sub(r"<!\[CDATA\[|\]\]>", "", t)
                    for t in re.findall(r"<title[^>]*>(.*?)</title>", s, re.S))
    return urls, titles


def css_view(data):
    s = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", data.decode("utf-8", "replace"))
    return "".join(s.split())


def files(root):
    out = set()
    for folder, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(folder, n), root))
    return out


def build(publish, site, work):
    pub_out, jek_out = os.path.join(work, "publish"), os.path.join(work, "jekyll")
    src = os.path.join(work, "src")
    shutil.copytree(site, src)
    r = subprocess.run([publish, "build", "-s", src, "-d", pub_out, "-q", "--no-cache"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("publish failed:\n" + r.stderr)
    env = dict(os.environ, JEKYLL_NO_BUNDLER_REQUIRE="true", JEKYLL_ENV="production")
    r = subprocess.run(["jekyll", "build", "-q", "-s", src, "-d", jek_out], capture_output=True,
                       text=True, env=env, cwd=src)
    if r.returncode != 0:
        sys.exit("jekyll failed:\n" + r.stderr + r.stdout)
    return pub_out, jek_out


def compare(pub_out, jek_out):
    problems = 0
    pub, jek = files(pub_out), {f for f in files(jek_out) if not JEKYLL_ONLY.search(f)}
    for f in sorted(jek - pub):
        print("MISSING  " + f + " (Jekyll writes it, publish does not)")
        problems += 1
    for f in sorted(pub - jek):
        print("EXTRA    " + f + " (publish writes it, Jekyll does not)")
        problems += 1
    for f in sorted(pub & jek):
        a = open(os.path.join(pub_out, f), "rb").read()
        b = open(os.path.join(jek_out, f), "rb").read()
        if f.endswith((".html", ".htm")):
            (ta, ua), (tb, ub) = html_view(a), html_view(b)
            if ta != tb:
                print("TEXT     " + f)
                print("  publish: " + ta[:600])
                print("  jekyll:  " + tb[:600])
                problems += 1
            elif ua != ub:
                print("URLS     " + f)
                print("  publish: " + " ".join(ua))
                print("  jekyll:  " + " ".join(ub))
                problems += 1
            else:
                print("same     " + f)
        elif f.endswith(".xml"):
            if xml_view(a) != xml_view(b):
                print("XML      " + f)
                print("  publish: %r" % (xml_view(a),))
                print("  jekyll:  %r" % (xml_view(b),))
                problems += 1
            else:
                print("same     " + f)
        elif f.endswith(".css"):
            if css_view(a) != css_view(b):
                print("CSS      " + f)
                problems += 1
            else:
                print("same     " + f)
        elif a != b:
            print("BYTES    " + f)
            problems += 1
        else:
            print("same     " + f)
    print("%d pages compared, %d differ" % (len(pub & jek), problems))
    return problems


def main():
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    publish, site = os.path.abspath(args[0]), os.path.abspath(args[1])
    work = keep or tempfile.mkdtemp()
    try:
        problems = compare(*build(publish, site, work))
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
