#!/usr/bin/env bash
# Import cycles between modules of a crate (issue 10: "no cycles").
#
#   scripts/cycles.sh [-v] [SRC_DIR...]     (default: src sim/src)
#
# For each .rs file under SRC_DIR: its module path (src/a/b.rs and
# src/a/b/mod.rs are a::b; lib.rs and main.rs the crate root), and the
# modules it refers to: `use crate::…`, `use super::…`, `use self::…`, paths
# `crate::x::` / `super::x::` in code, and paths starting with one of its own
# child modules (`store::Store`, `otc::Otc`, and in the root `core::…`). A
# reference counts for the deepest module its path names. `mod x;` lines are
# declarations, not edges. Test code is skipped: from a top-level
# `#[cfg(test)]` to the end of the file (where this code base keeps it).
#
# Prints the strongly connected components (more than one module) of the
# graph. A component lying wholly inside one cloud's folder
# (`providers/<cloud>/` or `clouds/<cloud>/`) is allowed and listed as such;
# any other is a cycle, and the exit status is 1. -v also prints every edge.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import os, re, sys

args = sys.argv[1:]
verbose = "-v" in args
dirs = [a for a in args if a != "-v"] or ["src", "sim/src"]

def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    if rel in (["lib"], ["main"]):
        return "crate"
    return "crate::" + "::".join(rel)

def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)  # strings may hold `::`
    return "\n".join(l.split("//")[0] for l in text.splitlines())

def non_test(text):
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("#[cfg(test)]"):
            return "\n".join(lines[:i])
    return text

def expand(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", tree)
    i = tree.find("{")
    if i < 0:
        return [tree.split(" as ")[0]]
    prefix, rest = tree[:i], tree[i + 1 : tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in rest:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    if cur:
        parts.append(cur)
    return [p for part in parts for p in expand(prefix + part)]

def resolve(mod, path, modules):
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    base = mod.split("::")
    if segs[0] == "crate":
        base, segs = ["crate"], segs[1:]
    elif segs[0] in ("super", "self"):
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
    elif "::".join(base + segs[:1]) not in modules:
        return None  # an external crate, std, a type or a local item
    full = base + segs
    for n in range(len(full), 0, -1):
        cand = "::".join(full[:n])
        if cand in modules:
            return cand
    return None

status = 0
for src in dirs:
    files = []
    for dp, _, fns in os.walk(src):
        files += [os.path.join(dp, f) for f in fns if f.endswith(".rs")]
    # main.rs is a crate of its own; only lib.rs's tree is the library.
    files = [f for f in files if os.path.relpath(f, src) != "main.rs"]
    modules = {module_of(src, f): f for f in files}
    edges = {m: set() for m in modules}
    for mod, f in modules.items():
        text = non_test(strip_comments(open(f).read()))
        refs = [p for u in re.findall(r"\buse\s+([^;]+);", text) for p in expand(u)]
        code = re.sub(r"\buse\s+[^;]+;", "", text)
        refs += re.findall(r"\b((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", code)
        for r in refs:
            t = resolve(mod, r, modules)
            if t and t != mod:
                edges[mod].add(t)
    if verbose:
        for m in sorted(edges):
            for t in sorted(edges[m]):
                print(f"{src}: {m} -> {t}")
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    def cloud_of(m):
        s = m.split("::")
        if len(s) >= 3 and s[1] in ("providers", "clouds"):
            return s[1] + "/" + s[2]
        return None
    n_edges = sum(len(e) for e in edges.values())
    bad = 0
    for comp in sccs:
        clouds = {cloud_of(m) for m in comp}
        inside = len(clouds) == 1 and None not in clouds
        label = f"allowed, inside {clouds.pop()}" if inside else "CYCLE"
        bad += not inside
        print(f"{src}: {label}: {' <-> '.join(comp)}")
    print(f"{src}: {len(modules)} modules, {n_edges} edges, {bad} cycle(s) outside a cloud folder")
    status |= bad > 0
sys.exit(status)
PY
