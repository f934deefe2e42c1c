#!/usr/bin/env python3
"""Generate a synthetic blog of N posts for the publish-vs-Hugo benchmark.

    gen.py N OUTDIR [--seed S]

writes two trees holding the same posts:

    OUTDIR/config.yaml, OUTDIR/layouts/, OUTDIR/posts/YYYY-MM-DD-slug.md
        a publish site (config and layouts copied from bench/publish-site/)
    OUTDIR-hugo/config.yaml, OUTDIR-hugo/layouts/, OUTDIR-hugo/content/posts/*.md
        a Hugo site (config and layouts copied from bench/hugo/)

Posts look like the example site's: YAML front matter with title, date,
categories (from a pool of 30, Korean and English, skewed so some are big),
tags (from a pool of 200), a folded `excerpt: >` on most posts and an image
URL; bodies of 1-6 KB mixing Korean and English prose with headings, lists,
links, fenced code, blockquotes, raw HTML blocks (`<p data-ke-size=...>`)
and sometimes `<!--more-->`. The Hugo copy carries the same front matter
plus `slug:` (Hugo takes the slug from there, publish from the file name).

Output depends only on N and the seed, never on the clock or the machine.
Python standard library only; 10,000 posts take a couple of seconds.
"""

import argparse
import os
import random
import shutil
import sys
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------
# Word lists. Pools (categories, tags) are fixed; the seed only picks from them.

KO_NOUNS = """
정부 대통령 경제 시장 기업 투자 주식 금리 물가 환율 수출 수입 산업 기술 개발
서비스 플랫폼 사용자 고객 회사 직원 팀 프로젝트 계획 전략 결과 성과 문제 해결
방법 과정 단계 기능 성능 속도 품질 보안 데이터 정보 자료 분석 연구 실험 모델
학교 학생 선생님 교육 수업 시험 대학 도서관 책 작가 소설 영화 배우 감독 음악
가수 공연 전시 미술관 여행 도시 바다 산 공항 호텔 식당 음식 요리 커피 빵 과일
날씨 계절 여름 겨울 봄 가을 아침 저녁 주말 휴가 가족 친구 아이 부모 이웃 사람
건강 운동 병원 의사 약 치료 연구자 과학자 우주 지구 환경 기후 에너지 전기 자동차
도로 교통 지하철 버스 기차 스마트폰 컴퓨터 서버 네트워크 인터넷 웹사이트 블로그
게시물 댓글 검색 광고 뉴스 기사 기자 방송 정책 법안 국회 선거 외교 회담 협력 관계
문화 역사 전통 축제 사진 카메라 풍경 게임 선수 경기 팀워크 감정 생각 경험 기억 미래
""".split()

KO_PREDICATES = """
발표했다 밝혔다 설명했다 강조했다 전했다 보도했다 분석했다 예상된다 기대된다 필요하다
중요하다 증가했다 감소했다 개선되었다 확인되었다 논의했다 준비하고_있다 진행되고_있다
시작되었다 마무리되었다 계획하고_있다 주목받고_있다 달라졌다 이어지고_있다 추진한다
검토하고_있다 제공한다 지원한다 공개했다 도입했다 합니다 했습니다 있습니다 됩니다
보입니다 생각합니다 알려졌습니다 살펴보겠습니다 소개합니다 정리했습니다
""".split()

KO_ADVERBS = """
최근 특히 또한 하지만 그러나 따라서 한편 이번에 처음으로 다시 계속 여전히 크게
빠르게 천천히 조금씩 무엇보다 결국 실제로 일반적으로 앞으로 이미 아직 지난해 올해
오늘 어제 곧 점점 꾸준히 함께
""".split()

KO_ADJ = """
새로운 중요한 다양한 큰 작은 빠른 느린 좋은 어려운 쉬운 강한 약한 높은 낮은 많은 적은
긴 짧은 깊은 넓은 오래된 젊은 조용한 복잡한 간단한 안정적인 효율적인 놀라운 흥미로운
""".split()

EN_NOUNS = """
server client request response cache index page post site build release version
module plugin template layout theme feature bug patch test suite benchmark query
database table column record user account session token password key value map list
array string buffer thread process worker queue scheduler kernel driver device network
packet socket port router browser window screen button form field label image photo
camera lens city river mountain road bridge station train ticket market price budget
report company team manager engineer designer writer reader editor article story
chapter book library museum concert album song garden kitchen recipe coffee morning
evening weekend holiday journey planet ocean forest weather storm summer winter idea
problem solution method result question answer decision policy election committee
""".split()

EN_VERBS = """
handled changed improved broke fixed shipped tested measured reviewed rewrote
replaced removed added moved opened closed started finished explained described
found missed followed visited cooked painted wrote read built designed launched
delayed announced reported published updated checked compared cached rendered parsed
""".split()

EN_ADJ = """
quiet busy fast slow small large early late simple complex stable fragile modern
ancient bright dark warm cold fresh stale careful clever honest strange familiar
remote local global shared private public hidden obvious gentle rough steady
""".split()

EN_PREPS = "after before during across behind beside inside without within under over near".split()
EN_DETS = "the a every one another each this that our their".split()
EN_ADVERBS = "quickly slowly quietly carefully finally suddenly rarely often already again".split()

TECH_TERMS = """
API Docker Kubernetes Linux Python Rust Go JavaScript TypeScript React Vue Node.js
PostgreSQL SQLite Redis Nginx GitHub CI/CD AWS GPU CPU SSD HTTP JSON YAML Markdown
Lua C++ WebAssembly OAuth REST GraphQL CDN DNS TLS SSH Git cmark Hugo Jekyll
""".split()

CATEGORIES = [
    "News", "뉴스", "경제", "IT", "개발", "Programming", "여행", "Travel",
    "요리", "Food", "건강", "Health", "스포츠", "Sports", "영화", "Movies",
    "음악", "Music", "책", "Books", "과학", "Science", "정치", "Politics",
    "문화", "Culture", "사진", "Photography", "웹 개발", "Machine Learning",
]


def _tag_pool():
    """200 distinct tags, half English, half Korean; independent of the seed."""
    rnd = random.Random(20240619)
    tags = []
    seen = set()
    en = sorted(set(EN_NOUNS + [t.lower() for t in TECH_TERMS if t.isalnum()]))
    ko = sorted(set(KO_NOUNS))
    while len(tags) < 200:
        if len(tags) % 2 == 0:
            t = rnd.choice(en)
            if rnd.random() < 0.4:
                t = rnd.choice(EN_ADJ) + "-" + t
        else:
            t = rnd.choice(ko)
            if rnd.random() < 0.3:
                t = t + rnd.choice(ko)
        if t.lower() not in seen:
            seen.add(t.lower())
            tags.append(t)
    return tags


TAGS = _tag_pool()

CODE_LANGS = ["python", "c", "bash", "javascript", "yaml", "lua", "go", "sql"]

# --------------------------------------------------------------------------
# Text


def has_batchim(word):
    """True when the last Hangul syllable ends in a consonant (picks 은/는 etc.)."""
    ch = word[-1]
    code = ord(ch)
    if 0xAC00 <= code <= 0xD7A3:
        return (code - 0xAC00) % 28 != 0
    return False


def particle(word, with_b, without_b):
    return word + (with_b if has_batchim(word) else without_b)


class Writer:
    def __init__(self, rnd):
        self.r = rnd
        self.rand = rnd.random

    def c(self, seq):
        """random.choice without its bias-free rejection loop: ~4x faster here."""
        return seq[int(self.rand() * len(seq))]

    def ko_noun(self):
        r = self.r
        if r.random() < 0.12:
            return self.c(TECH_TERMS)
        n = self.c(KO_NOUNS)
        if r.random() < 0.25:
            n = self.c(KO_ADJ) + " " + n
        return n

    def ko_sentence(self):
        r = self.r
        parts = []
        if r.random() < 0.4:
            parts.append(self.c(KO_ADVERBS))
        parts.append(particle(self.ko_noun(), "은", "는"))
        for _ in range(r.randint(0, 3)):
            kind = r.random()
            n = self.ko_noun()
            if kind < 0.3:
                parts.append(particle(n, "과", "와") + " " + particle(self.ko_noun(), "을", "를"))
            elif kind < 0.6:
                parts.append(particle(n, "을", "를"))
            elif kind < 0.8:
                parts.append(n + ("으로" if has_batchim(n) and (ord(n[-1]) - 0xAC00) % 28 != 8 else "로"))
            else:
                parts.append(n + "에서")
        parts.append(self.c(KO_PREDICATES).replace("_", " "))
        s = " ".join(parts)
        return s + ("." if r.random() < 0.9 else "?")

    def en_sentence(self):
        r = self.r
        words = [self.c(EN_DETS)]
        if r.random() < 0.6:
            words.append(self.c(EN_ADJ))
        words.append(self.c(EN_NOUNS))
        if r.random() < 0.3:
            words.append(self.c(EN_ADVERBS))
        words.append(self.c(EN_VERBS))
        words.append(self.c(EN_DETS))
        if r.random() < 0.5:
            words.append(self.c(EN_ADJ))
        words.append(self.c(EN_NOUNS))
        for _ in range(r.randint(0, 2)):
            words += [self.c(EN_PREPS), self.c(EN_DETS), self.c(EN_NOUNS)]
        if r.random() < 0.15:
            words.insert(r.randrange(1, len(words)), self.c(TECH_TERMS))
        s = " ".join(words)
        return s[0].upper() + s[1:] + "."

    def sentence(self, korean_bias):
        return self.ko_sentence() if self.r.random() < korean_bias else self.en_sentence()

    def inline(self, s):
        """Sprinkle inline Markdown (links, emphasis, code) into a sentence."""
        r = self.r
        words = s.split(" ")
        if len(words) < 4:
            return s
        x = r.random()
        i = r.randrange(len(words) - 1)
        if x < 0.12:
            words[i] = "[%s](https://example.com/%s/%d)" % (words[i], self.c(EN_NOUNS), r.randrange(10000))
        elif x < 0.22:
            words[i] = "**%s**" % words[i]
        elif x < 0.30:
            words[i] = "*%s*" % words[i]
        elif x < 0.38:
            words[i] = "`%s`" % self.c(TECH_TERMS)
        return " ".join(words)

    def paragraph(self, korean_bias, n=None):
        r = self.r
        n = n or r.randint(2, 6)
        return " ".join(self.inline(self.sentence(korean_bias)) for _ in range(n))

    def title(self, korean_bias):
        r = self.r
        if r.random() < korean_bias:
            t = "%s %s %s" % (self.ko_noun(), particle(self.ko_noun(), "과", "와"), self.c(KO_NOUNS))
            if r.random() < 0.5:
                t += " " + self.c(KO_PREDICATES).replace("_", " ")
            return t
        words = [self.c(EN_ADJ), self.c(EN_NOUNS), self.c(EN_PREPS), self.c(EN_DETS), self.c(EN_NOUNS)]
        if r.random() < 0.3:
            words.insert(0, self.c(TECH_TERMS))
        return " ".join(w[0].upper() + w[1:] for w in words)

    def code_block(self):
        r = self.r
        lang = self.c(CODE_LANGS)
        ident = lambda: self.c(EN_NOUNS) + "_" + self.c(EN_NOUNS)
        lines = []
        for _ in range(r.randint(3, 12)):
            a, b = ident(), ident()
            if lang == "python":
                lines.append(self.c(["%s = %s(%d)" % (a, b, r.randrange(100)),
                                       "for %s in %s:" % (a, b),
                                       "    print(%s[%d])" % (a, r.randrange(9)),
                                       "def %s(%s):" % (a, b),
                                       "    return %s + %d" % (b, r.randrange(50))]))
            elif lang == "c":
                lines.append(self.c(["int %s = %s(%d);" % (a, b, r.randrange(100)),
                                       "if (%s < %s && *p != '\\0') {" % (a, b),
                                       "    %s->%s = NULL;" % (a, b),
                                       "}",
                                       "static size_t %s(const char *s) { return strlen(s); }" % a]))
            elif lang == "bash":
                lines.append(self.c(["export %s=%d" % (a.upper(), r.randrange(100)),
                                       "cp -r %s/ /tmp/%s" % (a, b),
                                       "for f in %s/*.md; do wc -c \"$f\"; done" % a,
                                       "grep -rn '%s' . | head" % b]))
            elif lang == "javascript":
                lines.append(self.c(["const %s = await fetch('/api/%s');" % (a, b),
                                       "%s.map((x) => x * %d);" % (a, r.randrange(9)),
                                       "if (%s === undefined) { return <%s />; }" % (a, b)]))
            elif lang == "yaml":
                lines.append("%s: %s" % (a, self.c(["true", str(r.randrange(1000)), "'%s'" % b, "[%s, %s]" % (a, b)])))
            elif lang == "lua":
                lines.append(self.c(["local %s = %s(%d)" % (a, b, r.randrange(100)),
                                       "for i, %s in ipairs(%s) do" % (a, b),
                                       "  t[#t + 1] = %s .. \"<br>\"" % a,
                                       "end"]))
            elif lang == "go":
                lines.append(self.c(["%s := %s(%d)" % (a, b, r.randrange(100)),
                                       "if err != nil { return fmt.Errorf(\"%s: %%w\", err) }" % a,
                                       "for _, %s := range %s {" % (a, b), "}"]))
            else:
                lines.append(self.c(["SELECT %s, count(*) FROM %s GROUP BY 1;" % (a, b),
                                       "UPDATE %s SET %s = %d WHERE id < 10;" % (a, b, r.randrange(100))]))
        return "```%s\n%s\n```" % (lang, "\n".join(lines))

    def html_block(self, korean_bias):
        r = self.r
        x = r.random()
        if x < 0.55:
            return '<p data-ke-size="size16">%s</p>' % self.paragraph(korean_bias, r.randint(1, 4)).replace("*", "").replace("`", "")
        if x < 0.75:
            return '<h3 data-ke-size="size23">%s</h3>' % self.title(korean_bias)
        if x < 0.9:
            return ('<figure class="imageblock alignCenter"><img src="https://img.example.com/%d/%s.png" '
                    'alt="%s" width="800" height="450" /><figcaption>%s</figcaption></figure>'
                    % (r.randrange(100000), self.c(EN_NOUNS), self.c(KO_NOUNS), self.sentence(korean_bias)))
        return ('<table data-ke-style="style1">\n<tbody>\n%s</tbody>\n</table>'
                % "".join("<tr><td>%s</td><td>%d</td></tr>\n" % (self.c(KO_NOUNS), r.randrange(1000))
                          for _ in range(r.randint(2, 5))))

    def body(self, korean_bias, target, more):
        r = self.r
        blocks = []
        size = 0
        # first paragraph first, so "first paragraph" excerpts find prose
        blocks.append(self.paragraph(korean_bias))
        if more:
            blocks.append("<!--more-->")
        while size < target:
            x = r.random()
            if x < 0.14:
                b = "%s %s" % (self.c(["##", "##", "###"]), self.title(korean_bias))
            elif x < 0.46:
                b = self.paragraph(korean_bias)
            elif x < 0.62:
                b = self.html_block(korean_bias)
            elif x < 0.72:
                ordered = r.random() < 0.4
                items = [self.inline(self.sentence(korean_bias)) for _ in range(r.randint(3, 6))]
                b = "\n".join(("%d. " % (i + 1) if ordered else "- ") + it for i, it in enumerate(items))
            elif x < 0.80:
                b = self.code_block()
            elif x < 0.88:
                b = "\n".join("> " + self.sentence(korean_bias) for _ in range(r.randint(1, 3)))
            elif x < 0.93:
                b = "![%s](https://img.example.com/%d.jpg)" % (self.c(KO_NOUNS), r.randrange(100000))
            else:
                b = "%s [%s](https://%s.example.org/%s)" % (self.sentence(korean_bias), self.title(0.3),
                                                          self.c(EN_NOUNS), self.c(EN_NOUNS))
            blocks.append(b)
            size += len(b.encode("utf-8")) + 2
        return "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------
# YAML


def yaml_scalar(s):
    """Plain scalar when safe, else double-quoted (titles are plain words)."""
    special = ":#[]{},&*!|>'\"%@`"
    if (not s or s[0] in "-?" + special or s != s.strip() or any(c in s for c in ":#")
            or s.lower() in ("yes", "no", "true", "false", "null", "on", "off", "~")):
        return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')
    return s


def front_matter(p, hugo):
    lines = ["---", "title: " + yaml_scalar(p["title"]), "date: " + p["date"]]
    if hugo:
        lines.append("slug: " + p["slug"])
    lines.append("categories:")
    lines += ["  - " + yaml_scalar(c) for c in p["categories"]]
    if p["tags"]:
        lines.append("tags: [%s]" % ", ".join(yaml_scalar(t) for t in p["tags"]))
    if p["excerpt"] is not None:
        lines += ["excerpt: >", "  " + p["excerpt"]]
    lines.append("image: '%s'" % p["image"])
    lines.append("---")
    return "\n".join(lines) + "\n\n"


# --------------------------------------------------------------------------


def make_posts(n, seed):
    """Yields the N posts, newest first, one dict each (streamed: 100k posts
    never sit in memory together)."""
    r = random.Random(seed)
    w = Writer(r)
    # Newest post at a fixed instant; older ones spread back over ~10 years,
    # at least a minute apart so dates (and the sort) are unambiguous.
    kst = timezone(timedelta(hours=9))
    newest = datetime(2024, 6, 19, 9, 30, 0, tzinfo=kst)
    span = max(n * 60, 10 * 365 * 86400)
    step = span // max(n, 1)
    cat_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(CATEGORIES))]
    for i in range(n):
        t = newest - timedelta(seconds=i * step + r.randrange(max(step - 60, 1)))
        korean_bias = w.c([0.85, 0.7, 0.5, 0.2])
        title = w.title(korean_bias)
        slug_words = [w.c(EN_ADJ), w.c(EN_NOUNS), w.c(EN_NOUNS)]
        slug = "%s-%d" % ("-".join(slug_words), n - i)
        ncat = w.c([1, 1, 1, 2, 2, 3])
        cats = []
        while len(cats) < ncat:
            c = r.choices(CATEGORIES, weights=cat_weights)[0]
            if c not in cats:
                cats.append(c)
        tags = r.sample(TAGS, r.randint(0, 5))
        excerpt = None
        if r.random() < 0.75:
            excerpt = " ".join(w.sentence(korean_bias) for _ in range(r.randint(1, 3)))
        image = "https://blogger.googleusercontent.com/img/b/R29vZ2xl/AVvXsE%s/s1600/%s.png" % (
            "".join(w.c("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") for _ in range(64)),
            w.c(EN_NOUNS))
        target = r.randint(1024, 6144) - 600  # front matter and the last block make up the rest
        body = w.body(korean_bias, target, more=r.random() < 0.3)
        yield {
            "title": title,
            "date": t.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
            "day": t.strftime("%Y-%m-%d"),
            "slug": slug,
            "categories": cats,
            "tags": tags,
            "excerpt": excerpt,
            "image": image,
            "body": body,
        }


def copy_skeleton(src, dst):
    """Copy a site skeleton (config + layouts) into dst; missing src is fine."""
    if not os.path.isdir(src):
        return False
    for name in os.listdir(src):
        if name == "README.md":
            continue
        s = os.path.join(src, name)
        d = os.path.join(dst, name)
        if os.path.isdir(s):
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            shutil.copyfile(s, d)
    return True


FALLBACK_CONFIG = """\
title: Bench Blog
url: https://bench.example.com
language: ko
timezone: Asia/Seoul
permalink: /:year/:month/:day/:slug/
paginate: 50
plugins: [template, excerpt, categories, paginate, feed]
"""


def main(argv):
    ap = argparse.ArgumentParser(description="generate N synthetic posts as a publish site and a Hugo site")
    ap.add_argument("n", type=int, help="number of posts")
    ap.add_argument("outdir", help="publish site directory; the Hugo site goes to OUTDIR-hugo")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = ap.parse_args(argv)
    if args.n < 0:
        ap.error("N must be >= 0")

    out = args.outdir.rstrip("/")
    hugo = out + "-hugo"
    for d in (out, hugo):
        if os.path.exists(d):
            shutil.rmtree(d)
    os.makedirs(os.path.join(out, "posts"))
    os.makedirs(os.path.join(hugo, "content", "posts"))

    if not copy_skeleton(os.path.join(HERE, "publish-site"), out):
        with open(os.path.join(out, "config.yaml"), "w", encoding="utf-8") as f:
            f.write(FALLBACK_CONFIG)
    copy_skeleton(os.path.join(HERE, "hugo"), hugo)

    total = 0
    for p in make_posts(args.n, args.seed):
        name = "%s-%s.md" % (p["day"], p["slug"])
        text = front_matter(p, False) + p["body"]
        data = text.encode("utf-8")
        total += len(data)
        with open(os.path.join(out, "posts", name), "wb") as f:
            f.write(data)
        with open(os.path.join(hugo, "content", "posts", name), "wb") as f:
            f.write((front_matter(p, True) + p["body"]).encode("utf-8"))
    print("gen: %d posts, %.1f MB of Markdown -> %s, %s" % (args.n, total / 1e6, out, hugo), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
