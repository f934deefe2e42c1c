#!/usr/bin/env python3
# Runs the output cases of tests/liquid/cases/*.txt through Jekyll (Debian's
# jekyll 4.3) and prints every case whose expected output is not what Jekyll
# writes. A check of the suite itself, not a test: Jekyll is not needed to
# run ctest. Cases named "(publish only ...)" are skipped; error cases too
# (Jekyll stops at the first).
#   tests/liquid/jekyll-compare.py tests/liquid/site tests/liquid/cases/*.txt
import sys, os, re, subprocess, shutil, tempfile
def parse(path):
    cases=[]; cur=None; sec=None
    for line in open(path, encoding='utf-8').read().split('\n'):
        m=re.match(r'^=== (\w+)\s*(.*?)\s*$', line)
        if m and m.group(1)=='case':
            cur={'name':m.group(2),'parts':{'template':[]}}; cases.append(cur); sec='template'
        elif m and cur is not None:
            sec=m.group(1); cur['parts'][sec]=[]
        elif cur is not None:
            cur['parts'][sec].append(line)
    def j(l):
        while l and l[-1]=='': l=l[:-1]
        return '\n'.join(l)
    return [{'name':c['name'], **{k:j(v) for k,v in c['parts'].items()}} for c in cases]
root=tempfile.mkdtemp()
site=os.path.join(root,'s')
shutil.copytree(sys.argv[1], site)  # a jekyll site skeleton (_config.yml, _includes, _posts, _plugins)
cases=[]
for f in sys.argv[2:]:
    for i,c in enumerate(parse(f)):
        if 'output' not in c or 'publish only' in c['name']: continue
        n=len(cases); cases.append((f,c))
        vars_=c.get('vars','')
        body='---\nlayout: null\nvars:\n'+''.join('  '+l+'\n' for l in vars_.split('\n') if vars_.strip())+'---\n'+'<<<'+c['template']+'>>>'
        if not vars_.strip(): body='---\nlayout: null\n---\n<<<'+c['template']+'>>>'
        open(os.path.join(site,'c%d.html'%n),'w').write(body)
r=subprocess.run(['jekyll','build','-q','-s',site,'-d',os.path.join(root,'out')],capture_output=True,text=True)
if r.returncode: print(r.stderr); sys.exit(1)
bad=0
for n,(f,c) in enumerate(cases):
    p=os.path.join(root,'out','c%d.html'%n)
    if not os.path.exists(p): p=os.path.join(root,'out','c%d'%n,'index.html')
    got=open(p).read()
    got=got[got.index('<<<')+3:got.rindex('>>>')]
    if got!=c['output']:
        bad+=1; print('DIFF %s: %s\n  jekyll: %r\n  case:   %r'%(os.path.basename(f),c['name'],got,c['output']))
print('%d cases, %d differ'%(len(cases),bad))
