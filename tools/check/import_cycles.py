#!/usr/bin/env python3
"""Find file-level import cycles in the Rust workspace (no cargo needed).

What it checks
    Each .rs file under <root>/crates/<crate>/src is a node; there is an edge
    A -> B when file A refers to an item defined in file B. The strongly
    connected components (Tarjan) with more than one file are the cycles; each
    is printed with the edges that form it and the path text behind each edge.
    Exit status: 1 if there is a cycle, 0 if there is none, 2 on a usage error.

How
    A plain text scan, not a compiler: comments and string/char literals are
    blanked, `#[cfg(test)]` items (inline `mod tests { .. }` blocks, test-only
    `use`s and `fn`s) are cut out, and files that are only reachable through a
    `#[cfg(test)] mod x;` or are named tests.rs / *_tests.rs are left out of
    the graph. The module tree is built by following `mod x;` declarations
    from lib.rs / main.rs (x.rs or x/mod.rs). Then:
      * every `use` declaration (grouped trees, `pub use`, `self`, `super`,
        `crate`, `super::super`, `as` renames, fn-local uses) and
      * every inline path in code with a `::` in it (`super::hamiltonian::field`,
        `crate::train::evaluate`, `phaselab_core::x::Y`, a path in a type, ...)
    is resolved like rustc would: to the deepest module it names, then the next
    segment is looked up in that module: a child module, an item defined in
    that file, or a name the module imports (`use`/`pub use`, including
    `pub use child::*` globs), followed recursively to the file that defines
    it. So `crate::train::Trainer` goes to train/trainer.rs when train/mod.rs
    only re-exports it; the edge goes to mod.rs only if mod.rs defines it.
    A path whose first segment is a name imported by the file (`use
    super::hamiltonian;` then `hamiltonian::field(..)`) is resolved through
    that import. A `use` that imports a module itself is not an edge on its
    own; the paths that go through it are. `mod x;` lines are not edges, edges
    to external crates (std, burn, serde, ...) are dropped, self-edges too.
    Glob imports of workspace modules (`use super::*` outside tests) are
    reported; they give edges to the files defining the names from the glob
    that the importing file mentions as bare identifiers.
    Each cycle is tagged when every loop in it passes through one parent
    module file (mod.rs/lib.rs) whose children use items defined in it.
    Also printed, but not counted in the exit status: loops between top-level
    modules (each file collapsed into crate::models, crate::cpu, ...), which
    can exist with no file-level cycle (for example a models file using a cpu
    kernel while a cpu file used train/ and train/ used models/).
    Files under src/ that no `mod` line declares are taken in by their
    position and named in a warning.

Limits / heuristics
    * Macros are not expanded: paths built inside macro bodies count for the
      file that defines the macro, and what a macro invocation expands to is
      invisible. A `#[macro_export]` macro named by path (`crate::m!`,
      `phaselab_core::m!`) is an edge to the file that defines it; a macro
      used by bare name (`m!`, textual scope) is not.
    * Only `#[cfg(test)]` exactly is treated as test code; other cfgs
      (features, target_arch) are all taken in. `#[path = ..]` is ignored.
    * Brace counting ignores braces in comments/strings/char literals via the
      blanking above ('x' vs a lifetime 'a is told apart by the quote after
      one character or an escape).
    * Bare identifiers are matched against glob imports by name only, so a
      local variable or field with the same name as an item of the globbed
      module gives a (harmless) extra edge.
    * Inline `mod x { .. }` blocks outside tests count as part of their file;
      `self`/`super` inside them are taken relative to the file's module.
    * A name that cannot be found in the module a path names (e.g. made by a
      macro) gives an edge to that module's file, marked "[not found ...]".
    * src/bin/*, build.rs and crates/*/tests are not part of the graph.

Usage: python3 tools/check/import_cycles.py [ROOT] [--edges] [--self-test]
    ROOT defaults to the repository root (this file's ../..); ROOT may be a
    directory holding only crates/.
"""

import bisect
import os
import re
import sys
from collections import defaultdict, deque

KEYWORDS = set(
    """as async await break const continue crate dyn else enum extern false fn for
    if impl in let loop match mod move mut pub ref return self Self static struct
    super trait true type unsafe use where while union macro_rules""".split()
)
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


# ---------------------------------------------------------------------------
# Lexical clean-up
# ---------------------------------------------------------------------------

def _blank(s):
    """Same length, newlines kept, everything else a space."""
    return "".join("\n" if c == "\n" else " " for c in s)


def strip_comments_and_literals(src):
    """Blank comments and string/char literals (offsets and lines are kept)."""
    out = []
    i, n = 0, len(src)
    raw_re = re.compile(r'b?r(#*)"')
    while i < n:
        c = src[i]
        prev = src[i - 1] if i > 0 else ""
        if c == "/" and src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(_blank(src[i:j]))
            i = j
            continue
        if c == "/" and src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(_blank(src[i:j]))
            i = j
            continue
        if c in "br" and not (prev.isalnum() or prev == "_"):
            m = raw_re.match(src, i)
            if m:
                close = '"' + m.group(1)
                j = src.find(close, m.end())
                j = n if j < 0 else j + len(close)
                out.append('"' + _blank(src[i + 1:j - 1]) + '"')
                i = j
                continue
        if c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append('"' + _blank(src[i + 1:j - 1]) + '"')
            i = j
            continue
        if c == "'":
            # char literal ('x', '\n', '\u{1F600}', '{') or a lifetime ('a)
            if i + 1 < n and src[i + 1] == "\\":
                j = i + 3
                while j < n and src[j] != "'" and src[j] != "\n":
                    j += 1
                j = min(j + 1, n)
                out.append(_blank(src[i:j]))
                i = j
                continue
            if i + 2 < n and src[i + 2] == "'" and src[i + 1] != "\n":
                out.append("   ")
                i += 3
                continue
            out.append(c)
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _match_close(text, i):
    """text[i] is an opening bracket; index just after its matching close."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = []
    n = len(text)
    while i < n:
        c = text[i]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if stack and stack[-1] == c:
                stack.pop()
            if not stack:
                return i + 1
        i += 1
    return n


def _item_end(text, i):
    """End of the item starting at i: first `;` at depth 0, or end of its first
    top-level `{..}` block."""
    n = len(text)
    depth = 0
    while i < n:
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "{" and depth <= 0:
            return _match_close(text, i)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == ";" and depth <= 0:
            return i + 1
        i += 1
    return n


CFG_TEST_RE = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
INNER_CFG_TEST_RE = re.compile(r"#\s*!\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
ATTR_RE = re.compile(r"\s*#\s*\[")
TEST_MOD_DECL_RE = re.compile(r"\s*(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;")


def cut_test_items(text):
    """Blank every `#[cfg(test)]` item. Returns (text, names of test `mod x;`)."""
    test_mods = set()
    pieces = []
    pos = 0
    for m in CFG_TEST_RE.finditer(text):
        if m.start() < pos:
            continue
        j = m.end()
        while True:  # further attributes on the same item
            a = ATTR_RE.match(text, j)
            if not a:
                break
            j = _match_close(text, a.end() - 1)
        d = TEST_MOD_DECL_RE.match(text, j)
        if d:
            test_mods.add(d.group(1))
        end = _item_end(text, j)
        pieces.append(text[pos:m.start()])
        pieces.append(_blank(text[m.start():end]))
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), test_mods


def depth_map(text):
    """Brace depth at every offset (as a list of (offset, depth) breakpoints)."""
    offs, depths = [0], [0]
    d = 0
    for i, c in enumerate(text):
        if c == "{":
            d += 1
            offs.append(i + 1)
            depths.append(d)
        elif c == "}":
            d = max(d - 1, 0)
            offs.append(i)
            depths.append(d)
    return offs, depths


def depth_at(dm, i):
    offs, depths = dm
    return depths[bisect.bisect_right(offs, i) - 1]


# ---------------------------------------------------------------------------
# `use` trees
# ---------------------------------------------------------------------------

USE_RE = re.compile(r"(?<![\w$])((?:pub(?:\s*\([^)]*\))?\s+)?)use\s+([^;]*);")
USE_TOKEN_RE = re.compile(r"::|[{},*]|\$?(?:r#)?" + IDENT)


class UseItem:
    __slots__ = ("segs", "alias", "glob", "is_self", "line", "text", "depth", "is_pub")

    def __init__(self, segs, alias, glob, is_self):
        self.segs, self.alias, self.glob, self.is_self = segs, alias, glob, is_self
        self.line = self.text = self.depth = self.is_pub = None


def parse_use_tree(tree):
    """`a::{b, c::{d as e, self}, f::*}` -> UseItems with full paths."""
    toks = USE_TOKEN_RE.findall(tree)
    toks = [t[2:] if t.startswith("r#") else t for t in toks]
    items = []
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take():
        t = peek()
        pos[0] += 1
        return t

    def parse(prefix):
        segs = list(prefix)
        if peek() == "::":  # leading `::` = extern crate path
            take()
            if not segs:
                segs.append("::")
        while True:
            t = peek()
            if t is None:
                break
            if t == "{":
                take()
                while peek() not in (None, "}"):
                    parse(segs)
                    if peek() == ",":
                        take()
                take()
                return
            if t == "*":
                take()
                items.append(UseItem(segs, None, True, False))
                return
            if t in (",", "}"):
                break
            take()
            if t == "self" and segs and segs != ["::"]:
                alias = segs[-1]
                if peek() == "as":
                    take()
                    alias = take()
                items.append(UseItem(list(segs), alias, False, True))
                return
            segs.append(t)
            if peek() == "::":
                take()
                continue
            alias = segs[-1]
            if peek() == "as":
                take()
                alias = take()
            items.append(UseItem(segs, alias, False, False))
            return

    while peek() is not None:
        parse([])
        if peek() == ",":
            take()
        elif peek() is not None:
            take()
    return items


# ---------------------------------------------------------------------------
# Workspace model
# ---------------------------------------------------------------------------

DEF_RE = re.compile(
    r"(?<![\w$])(fn|struct|enum|trait|type|const|static|union|mod)\s+(?:r#)?(" + IDENT + r")"
)
MACRO_DEF_RE = re.compile(r"macro_rules\s*!\s*(" + IDENT + r")")
MACRO_EXPORT_RE = re.compile(r"#\s*\[\s*macro_export\s*\]\s*(?:#\s*\[[^\]]*\]\s*)*macro_rules\s*!\s*(" + IDENT + r")")
MOD_DECL_RE = re.compile(r"(?<![\w$])(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+(?:r#)?(" + IDENT + r")\s*;")
VIS_IN_RE = re.compile(r"pub\s*\(\s*in\s+[^)]*\)")
PATH_RE = re.compile(
    r"(?<![\w$:.])(::\s*)?(\$?" + IDENT + r")((?:\s*::\s*" + IDENT + r")+)"
)
BARE_IDENT_RE = re.compile(r"(?<![\w$])" + IDENT)


def is_test_file_name(path):
    base = os.path.basename(path)
    return base == "tests.rs" or base.endswith("_tests.rs")


class SourceFile:
    def __init__(self, path, crate, modpath, display):
        self.path = path
        self.crate = crate
        self.modpath = modpath
        self.display = display
        with open(path, encoding="utf-8", errors="replace") as f:
            raw = f.read()
        stripped = strip_comments_and_literals(raw)
        self.whole_file_test = bool(INNER_CFG_TEST_RE.search(stripped))
        text, self.test_mods = cut_test_items(stripped)
        text = VIS_IN_RE.sub(lambda m: _blank(m.group(0)), text)
        self.text = text
        self._nl = [i for i, c in enumerate(text) if c == "\n"]
        dm = depth_map(text)
        self.children = {}  # child module name -> SourceFile (filled by the walk)
        self.mod_decls = [m.group(1) for m in MOD_DECL_RE.finditer(text) if depth_at(dm, m.start()) == 0]
        self.defs = set()  # items defined at the top level of the file
        self.inline_mods = set()  # `mod x { .. }` / `mod x;` names (modules, not items)
        for m in DEF_RE.finditer(text):
            if depth_at(dm, m.start()) == 0:
                (self.inline_mods if m.group(1) == "mod" else self.defs).add(m.group(2))
        for m in MACRO_DEF_RE.finditer(text):
            if depth_at(dm, m.start()) == 0:
                self.defs.add(m.group(1))
        self.macro_exports = set(MACRO_EXPORT_RE.findall(text))
        self.uses = []
        code = list(text)
        for m in USE_RE.finditer(text):
            line = self.line_of(m.start())
            depth = depth_at(dm, m.start())
            for it in parse_use_tree(m.group(2)):
                it.line, it.depth, it.is_pub = line, depth, bool(m.group(1).strip())
                it.text = "use " + "::".join(s for s in it.segs if s != "::") + ("::*" if it.glob else "")
                if it.is_self:
                    it.text += "::self"
                self.uses.append(it)
            code[m.start():m.end()] = _blank(m.group(0))
        for m in MOD_DECL_RE.finditer(text):
            code[m.start():m.end()] = _blank(m.group(0))
        self.code = "".join(code)  # text without use/mod declarations

    def line_of(self, off):
        return bisect.bisect_right(self._nl, off - 1) + 1


class Crate:
    def __init__(self, name, lib_name, src_dir):
        self.name = name
        self.lib_name = lib_name
        self.src_dir = src_dir
        self.modules = {}  # modpath tuple -> SourceFile
        self.macro_exports = {}  # name -> SourceFile
        self.excluded = []  # (display path, reason)
        self.orphans = []  # files no `mod` line declares, attached by their position


def _package_names(cargo_toml, dirname):
    name, lib = dirname, None
    try:
        with open(cargo_toml, encoding="utf-8") as f:
            section = None
            for line in f:
                s = line.strip()
                if s.startswith("["):
                    section = s
                    continue
                m = re.match(r'name\s*=\s*"([^"]+)"', s)
                if m and section == "[package]":
                    name = m.group(1)
                elif m and section == "[lib]":
                    lib = m.group(1)
    except OSError:
        pass
    return name, (lib or name).replace("-", "_")


class Workspace:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.crates = []
        self.by_lib = {}
        crates_dir = os.path.join(self.root, "crates")
        if not os.path.isdir(crates_dir):
            print(f"import_cycles: no crates/ directory under {self.root}", file=sys.stderr)
            raise SystemExit(2)
        for d in sorted(os.listdir(crates_dir)):
            src = os.path.join(crates_dir, d, "src")
            if not os.path.isdir(src):
                continue
            pkg, lib = _package_names(os.path.join(crates_dir, d, "Cargo.toml"), d)
            roots = [r for r in ("lib.rs", "main.rs") if os.path.isfile(os.path.join(src, r))]
            for r in roots:
                is_lib = r == "lib.rs"
                c = Crate(pkg if is_lib or len(roots) == 1 else pkg + " (bin)", lib if is_lib else None, src)
                self._walk(c, os.path.join(src, r), (), src)
                if is_lib or len(roots) == 1:
                    self._attach_orphans(c)
                for f in c.modules.values():
                    for name in f.macro_exports:
                        c.macro_exports.setdefault(name, f)
                self.crates.append(c)
                if c.lib_name:
                    self.by_lib[c.lib_name] = c
        self.files = [f for c in self.crates for f in c.modules.values()]

    def display(self, path):
        return os.path.relpath(path, self.root)

    def _attach_orphans(self, crate):
        """Files under src/ that no `mod` line declares (a refactor in progress, say):
        take them in as if declared where they sit, and say so."""
        known = {f.path for f in crate.modules.values()}
        known |= {os.path.join(self.root, d) for d, _ in crate.excluded}
        found = []
        for dirpath, dirnames, filenames in os.walk(crate.src_dir):
            if os.path.abspath(dirpath) == os.path.abspath(crate.src_dir):
                dirnames[:] = [d for d in dirnames if d != "bin"]
            for fn in filenames:
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, crate.src_dir).split(os.sep)
                if not fn.endswith(".rs") or rel in (["lib.rs"], ["main.rs"]):
                    continue
                if path in known or is_test_file_name(path):
                    continue
                modpath = tuple(rel[:-1]) if fn == "mod.rs" else tuple(rel[:-1] + [fn[:-3]])
                found.append((len(modpath), modpath, path))
        for _, modpath, path in sorted(found):
            parent = crate.modules.get(modpath[:-1])
            if parent is None or modpath in crate.modules or path in {f.path for f in crate.modules.values()}:
                continue
            child_dir = os.path.dirname(path) if path.endswith("mod.rs") else path[:-3]
            child = self._walk(crate, path, modpath, child_dir)
            if child is not None:
                parent.children[modpath[-1]] = child
                crate.orphans.append(self.display(path))

    def _walk(self, crate, path, modpath, child_dir):
        f = SourceFile(path, crate, modpath, self.display(path))
        if f.whole_file_test:
            crate.excluded.append((f.display, "#![cfg(test)]"))
            return None
        crate.modules[modpath] = f
        for t in sorted(f.test_mods):
            for cand in (os.path.join(child_dir, t + ".rs"), os.path.join(child_dir, t, "mod.rs")):
                if os.path.isfile(cand):
                    crate.excluded.append((self.display(cand), "#[cfg(test)] mod"))
        for name in f.mod_decls:
            cands = (os.path.join(child_dir, name + ".rs"), os.path.join(child_dir, name, "mod.rs"))
            cand = next((c for c in cands if os.path.isfile(c)), None)
            if cand is None:
                continue
            if is_test_file_name(cand):
                crate.excluded.append((self.display(cand), "test file name"))
                continue
            sub_dir = os.path.dirname(cand) if cand.endswith("mod.rs") else os.path.join(child_dir, name)
            child = self._walk(crate, cand, modpath + (name,), sub_dir)
            if child is not None:
                f.children[name] = child
        return f


# ---------------------------------------------------------------------------
# Name resolution
# ---------------------------------------------------------------------------

class Resolver:
    """Results: ("module", SourceFile) | ("item", SourceFile, note) | ("external",) | None."""

    def __init__(self, ws):
        self.ws = ws
        self._busy = set()

    def lookup_in_module(self, mod, name, in_file_scope=False, items_only=False):
        """The item/module `name` names inside module `mod` (its file). items_only:
        skip child modules (a name can be both a module and a fn, `lines::lines`)."""
        key = (mod.path, name, in_file_scope, items_only)
        if key in self._busy:
            return None
        self._busy.add(key)
        try:
            if name in mod.children and not items_only:
                return ("module", mod.children[name])
            if name in mod.defs or (name in mod.inline_mods and not items_only):
                return ("item", mod, None)
            for u in mod.uses:
                if (in_file_scope or u.depth == 0) and not u.glob and u.alias == name:
                    r = self.resolve(mod, u.segs)
                    return r if r is not None else ("external",)
            for u in mod.uses:
                if (in_file_scope or u.depth == 0) and u.glob:
                    src = self.resolve(mod, u.segs)
                    if src and src[0] == "module":
                        r = self.lookup_in_module(src[1], name)
                        if r is not None:
                            return r
            if mod.modpath == () and name in mod.crate.macro_exports:
                return ("item", mod.crate.macro_exports[name], "macro")
            return None
        finally:
            self._busy.discard(key)

    def resolve(self, f, segs):
        """Resolve a path as written in file f."""
        segs = [s for s in segs if s]
        if not segs:
            return None
        crate = f.crate
        i = 0
        if segs[0] == "::":
            if len(segs) > 1 and segs[1] in self.ws.by_lib:
                cur, i = self.ws.by_lib[segs[1]].modules.get(()), 2
            else:
                return ("external",)
        elif segs[0] in ("crate", "$crate"):
            cur, i = crate.modules.get(()), 1
        elif segs[0] in ("self", "super"):
            mp = f.modpath
            while i < len(segs) and segs[i] in ("self", "super"):
                if segs[i] == "super":
                    if not mp:
                        return None
                    mp = mp[:-1]
                i += 1
            cur = crate.modules.get(mp)
        else:
            first = segs[0]
            r = self.lookup_in_module(f, first, in_file_scope=True)
            if r is None:
                if first in self.ws.by_lib:
                    r = ("module", self.ws.by_lib[first].modules.get(()))
                else:
                    return ("external",)  # std/burn/..., a type parameter, Self, a local
            if r[0] != "module":
                return r
            cur, i = r[1], 1
        if cur is None:
            return None
        while i < len(segs):
            name = segs[i]
            if name == "self":
                i += 1
                continue
            r = self.lookup_in_module(cur, name)
            if r is None:
                return ("item", cur, f"not found in {cur.display}; assumed defined there")
            if r[0] != "module":
                return r
            cur = r[1]
            i += 1
        return ("module", cur)


# ---------------------------------------------------------------------------
# Graph
# ---------------------------------------------------------------------------

def build_graph(ws):
    """edges[(a, b)] = [(line, text), ...] with a, b SourceFiles; plus glob notes."""
    res = Resolver(ws)
    edges = defaultdict(list)
    globs = []

    def add(a, b, line, text):
        if b is None or a is b:
            return
        lst = edges[(a, b)]
        if (line, text) not in lst:
            lst.append((line, text))

    for f in ws.files:
        for u in f.uses:
            if u.segs and u.segs[0] == "::" and not (len(u.segs) > 1 and u.segs[1] in ws.by_lib):
                continue
            r = res.resolve(f, u.segs)
            if r is None or r[0] == "external":
                continue
            if u.glob:
                if r[0] == "item":  # `use Enum::*`
                    add(f, r[1], u.line, u.text)
                    continue
                used = []
                names = set(BARE_IDENT_RE.findall(f.code)) - KEYWORDS
                for name in sorted(names):
                    t = res.lookup_in_module(r[1], name)
                    if t and t[0] in ("item", "module") and t[1] is not f:
                        used.append((name, t[1]))
                        if t[0] == "item":
                            add(f, t[1], u.line, f"{u.text} ({name})")
                globs.append((f, u, r[1], used))
                continue
            if r[0] == "item":
                note = f" [{r[2]}]" if r[2] else ""
                add(f, r[1], u.line, u.text + note)
            elif r[0] == "module" and not u.is_self and len(u.segs) > 1:
                # a `use` of a module only brings its name into scope: no edge by itself,
                # unless the same name is also an item there (`pub use lines::lines;`)
                parent = res.resolve(f, u.segs[:-1])
                if parent and parent[0] == "module":
                    t = res.lookup_in_module(parent[1], u.segs[-1], items_only=True)
                    if t and t[0] == "item":
                        add(f, t[1], u.line, u.text)
        for m in PATH_RE.finditer(f.code):
            segs = [s.strip() for s in re.split(r"\s*::\s*", m.group(2) + m.group(3))]
            if m.group(1):
                segs = ["::"] + segs
            if segs[0] in ("Self",) or segs[0] in KEYWORDS - {"crate", "self", "super"}:
                continue
            r = res.resolve(f, segs)
            if r is None or r[0] == "external":
                continue
            text = "::".join(s for s in segs if s != "::")
            if r[0] == "item" and r[2] == "macro":
                text += "!"
            elif r[0] == "item" and r[2]:
                text += f" [{r[2]}]"
            add(f, r[1], f.line_of(m.start()), text)
    return edges, globs


def tarjan(nodes, succ):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w is v:
                            break
                    out.append(comp)
    return out


def shortest_cycles(comp, succ):
    inside = set(comp)
    seen, cycles = set(), []
    for start in sorted(comp, key=lambda f: f.display):
        prev = {start: None}
        q = deque([start])
        found = None
        while q and found is None:
            v = q.popleft()
            for w in sorted(succ[v], key=lambda f: f.display):
                if w not in inside:
                    continue
                if w is start:
                    found = v
                    break
                if w not in prev:
                    prev[w] = v
                    q.append(w)
        if found is None:
            continue
        path = []
        v = found
        while v is not None:
            path.append(v)
            v = prev[v]
        path.reverse()
        k = min(range(len(path)), key=lambda j: path[j].display)
        path = path[k:] + path[:k]
        key = tuple(p.path for p in path)
        if key not in seen:
            seen.add(key)
            cycles.append(path)
    return cycles


def analyse(root):
    ws = Workspace(root)
    edges, globs = build_graph(ws)
    succ = defaultdict(set)
    for (a, b) in edges:
        succ[a].add(b)
    nodes = sorted(ws.files, key=lambda f: f.display)
    for n in nodes:
        succ[n]
    sccs = [sorted(c, key=lambda f: f.display) for c in tarjan(nodes, succ) if len(c) > 1]
    sccs.sort(key=lambda c: c[0].display)
    return ws, edges, globs, succ, sccs


def top_module(f):
    """The crate's top-level module a file belongs to, e.g. `phaselab-core::models`."""
    return f"{f.crate.name}::{f.modpath[0]}" if f.modpath else f"{f.crate.name}::(crate root)"


def module_cycles(ws, edges):
    """Cycles between top-level modules (crate::models, crate::cpu, ...): every file
    collapsed into its top-level module. Returns [(modules, {(ma, mb): [(a, b), ...]})]."""
    msucc = defaultdict(set)
    behind = defaultdict(list)
    for (a, b) in edges:
        ma, mb = top_module(a), top_module(b)
        if ma != mb:
            msucc[ma].add(mb)
            behind[(ma, mb)].append((a, b))
    mods = sorted({top_module(f) for f in ws.files})
    for m in mods:
        msucc[m]
    out = []
    for comp in tarjan(mods, msucc):
        if len(comp) > 1:
            inside = set(comp)
            out.append((sorted(comp), {k: sorted(v, key=lambda e: (e[0].display, e[1].display))
                                       for k, v in behind.items() if k[0] in inside and k[1] in inside}))
    return sorted(out)


def _hub(comp, succ):
    """A module file (mod.rs/lib.rs/main.rs) whose removal leaves the component
    acyclic while every other file of it is one of its descendant modules, if any:
    the children use items of their parent, which in turn re-exports or calls them."""
    for h in comp:
        if os.path.basename(h.path) not in ("mod.rs", "lib.rs", "main.rs"):
            continue
        rest = [f for f in comp if f is not h]
        if not all(f.crate is h.crate and f.modpath[:len(h.modpath)] == h.modpath for f in rest):
            continue
        inside = set(rest)
        sub = {f: {g for g in succ[f] if g in inside} for f in rest}
        if not any(len(c) > 1 for c in tarjan(rest, sub)):
            return h
    return None


def _why(entries):
    """[(line, text)] -> 'use a::b::{C, D} (L4); a::f (L10, L12)'."""
    groups = {}
    for line, text in entries:
        m = re.match(r"use (.*)::([^:\s]+)$", text)
        key = ("use", line, m.group(1)) if m else ("path", text)
        groups.setdefault(key, []).append(m.group(2) if m else line)
    parts = []
    for key, vals in groups.items():
        if key[0] == "use":
            names = vals[0] if len(vals) == 1 else "{" + ", ".join(vals) + "}"
            parts.append((key[1], f"use {key[2]}::{names} (L{key[1]})"))
        else:
            parts.append((vals[0], f"{key[1]} (" + ", ".join(f"L{v}" for v in sorted(set(vals))) + ")"))
    return "; ".join(t for _, t in sorted(parts))


def _short(f, base):
    return os.path.relpath(f.path, base) if base else f.display


def report(root, show_edges=False, out=sys.stdout):
    ws, edges, globs, succ, sccs = analyse(root)
    p = lambda *a: print(*a, file=out)
    n_edges = len(edges)
    p(f"import_cycles: {ws.root}")
    p(f"  {len(ws.files)} files in {len(ws.crates)} crate(s), {n_edges} file->file edges; "
      f"{sum(len(c.excluded) for c in ws.crates)} test file(s) left out")
    for c in ws.crates:
        for o in c.orphans:
            p(f"  warning: {o} is not declared by any `mod` line; taken in as if it were")
    unresolved = sorted({(a.display, l, t) for (a, b), why in edges.items() for l, t in why if "[not found" in t})
    for d, l, t in unresolved:
        p(f"  warning: {d}:{l} {t}")
    if show_edges:
        p("\nall edges:")
        for (a, b), why in sorted(edges.items(), key=lambda kv: (kv[0][0].display, kv[0][1].display)):
            p(f"  {a.display} -> {b.display}  ({_why(why)})")
    if globs:
        p("\nglob imports of workspace modules outside test code:")
        for f, u, target, used in globs:
            names = ", ".join(f"{n}->{os.path.basename(t.path)}" for n, t in used) or "no names used"
            p(f"  {f.display}:{u.line} {u.text} (module file {target.display}): {names}")
    if not sccs:
        p("\nno file-level import cycles")
    else:
        p(f"\n{len(sccs)} file-level import cycle(s) (strongly connected components with more than one file):")
    for k, comp in enumerate(sccs, 1):
        crates = {f.crate.src_dir for f in comp}
        base = crates.pop() if len(crates) == 1 else None
        where = f" in {os.path.relpath(base, ws.root)}/" if base else ""
        hub = _hub(comp, succ)
        kind = (f" (every loop passes through the parent module file {_short(hub, base)}, "
                f"whose child modules use items defined in it)") if hub else ""
        p(f"\n[{k}] {len(comp)} files{where}{kind}:")
        for f in comp:
            p(f"      {_short(f, base)}")
        p("    edges:")
        inside = set(comp)
        for a in comp:
            for b in sorted(succ[a], key=lambda f: f.display):
                if b in inside:
                    p(f"      {_short(a, base)} -> {_short(b, base)}  ({_why(edges[(a, b)])})")
        p("    shortest loops:")
        for cyc in shortest_cycles(comp, succ):
            p("      " + " -> ".join(_short(f, base) for f in cyc + [cyc[0]]))
    _module_section(ws, edges, sccs, p)
    return 1 if sccs else 0


def _module_section(ws, edges, sccs, p):
    mcycles = module_cycles(ws, edges)
    covered = [{top_module(f) for f in c} for c in sccs]
    mcycles = [mc for mc in mcycles if not any(set(mc[0]) <= cov for cov in covered)]
    if mcycles:
        p(f"\nmodule-level loops (each file collapsed into its top-level module; informational, "
          f"not counted in the exit status; loops already inside one file-level cycle are left out):")
        for k, (mods, behind) in enumerate(mcycles, 1):
            p(f"\n  <{k}> " + ", ".join(mods))
            for (ma, mb), pairs in sorted(behind.items()):
                p(f"      {ma} -> {mb}:")
                for a, b in pairs:
                    p(f"        {a.display} -> {b.display}  ({_why(edges[(a, b)])})")


# ---------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------

SELF_TEST_FILES = {
    "crates/demo/Cargo.toml": '[package]\nname = "demo-lib"\n',
    "crates/demo/src/lib.rs": "pub mod a;\npub mod b;\npub mod d;\npub mod m;\n",
    # a <-> b: a through a grouped `use`, b through an inline `super::` path.
    "crates/demo/src/a.rs": (
        "use crate::{b::{g, self as bee}, d::D};\n"
        "pub fn f() -> D { g(); bee::g(); D }\n"
        "pub fn f2() {}\n"
    ),
    "crates/demo/src/b.rs": (
        "/// Calls `crate::d::D` in a doc comment only.\n"
        "pub fn g() { let _ = super::a::f2(); }\n"
    ),
    # d.rs -> m/y.rs through m/mod.rs's glob re-export, and m/x.rs -> d.rs: a loop
    # between the modules d and m, but no file-level cycle.
    "crates/demo/src/d.rs": "pub struct D;\npub fn y() -> crate::m::Y { crate::m::zero() }\n",
    # m/mod.rs re-exports x::X and y::*; x.rs uses crate::m::Y (-> y.rs, not
    # mod.rs), y.rs mentions x only in a comment and a string: no cycle.
    "crates/demo/src/m/mod.rs": (
        "pub mod x;\npub mod y;\npub use x::X;\npub use y::*;\n"
        "pub fn helper() {}\n"
        "#[cfg(test)]\nmod tests;\n"
    ),
    "crates/demo/src/m/x.rs": (
        "use crate::m::Y;\n"
        "pub struct X(pub Y);\n"
        "pub fn l<'a>(s: &'a str) -> &'a str { s }\n"
        "#[cfg(test)]\n"
        "mod tests {\n"
        "    use super::super::helper;\n"
        "    fn t() { let c = '{'; let s = \"}}\"; let _ = crate::m::helper(); }\n"
        "}\n"
        "pub fn after() -> crate::d::D { crate::d::D }\n"
    ),
    "crates/demo/src/m/y.rs": (
        "// see crate::m::x::X\n"
        "pub struct Y;\n"
        "pub const NAME: &str = \"crate::m::x::X {\";\n"
        "pub fn zero() -> Y { Y }\n"
    ),
    "crates/demo/src/m/tests.rs": "use super::*;\nuse crate::m::x::X;\n",
    # a second crate: cross-crate paths resolve into demo's files.
    "crates/app/Cargo.toml": '[package]\nname = "app"\n',
    "crates/app/src/main.rs": "mod run;\nuse demo_lib::m::X;\nfn main() { run::go(); }\n",
    "crates/app/src/run.rs": "pub fn go() { let _ = demo_lib::m::zero(); }\n",
}


def self_test():
    import io
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for rel, body in SELF_TEST_FILES.items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(body)
        ws, edges, globs, succ, sccs = analyse(tmp)
        got_edges = {(a.display, b.display) for (a, b) in edges}
        got_sccs = [[f.display for f in c] for c in sccs]
        d = lambda p: os.path.join("crates", p.split("/")[0], "src", *p.split("/")[1:])
        problems = []

        def expect(cond, what):
            if not cond:
                problems.append(what)

        expect(got_sccs == [[d("demo/a.rs"), d("demo/b.rs")]], f"one cycle a.rs <-> b.rs, got {got_sccs}")
        expect((d("demo/m/x.rs"), d("demo/m/y.rs")) in got_edges, "x.rs -> y.rs through the mod.rs glob re-export")
        expect((d("demo/m/mod.rs"), d("demo/m/x.rs")) in got_edges, "mod.rs -> x.rs (pub use)")
        expect((d("demo/m/x.rs"), d("demo/m/mod.rs")) not in got_edges, "no x.rs -> mod.rs (test code only)")
        expect((d("demo/m/x.rs"), d("demo/d.rs")) in got_edges, "x.rs -> d.rs after the test block")
        expect((d("demo/m/y.rs"), d("demo/m/x.rs")) not in got_edges, "no y.rs -> x.rs (comment/string)")
        expect((d("demo/b.rs"), d("demo/d.rs")) not in got_edges, "no b.rs -> d.rs (doc comment)")
        expect((d("demo/a.rs"), d("demo/d.rs")) in got_edges, "a.rs -> d.rs (grouped use)")
        expect((d("app/main.rs"), d("demo/m/x.rs")) in got_edges, "cross-crate use")
        expect((d("app/run.rs"), d("demo/m/y.rs")) in got_edges, "cross-crate inline path via glob re-export")
        expect((d("app/main.rs"), d("app/run.rs")) in got_edges, "child module path run::go")
        expect(all(f.display != d("demo/m/tests.rs") for f in ws.files), "tests.rs left out")
        expect((d("demo/d.rs"), d("demo/m/y.rs")) in got_edges, "d.rs -> y.rs (not mod.rs)")
        mods = [m for m, _ in module_cycles(ws, edges)]
        expect(["demo-lib::d", "demo-lib::m"] in mods, f"module-level loop d <-> m, got {mods}")
        buf = io.StringIO()
        rc = report(tmp, out=buf)
        expect(rc == 1, f"exit status 1 on a cycle, got {rc}")
        expect("a.rs -> b.rs  (super::a::f2" not in buf.getvalue(), "edge direction")
        expect("b.rs -> a.rs  (super::a::f2 (L2))" in buf.getvalue(), f"report names the edge:\n{buf.getvalue()}")
        # break the cycle: the same tree must then pass
        with open(os.path.join(tmp, "crates/demo/src/b.rs"), "w", encoding="utf-8") as f:
            f.write("pub fn g() {}\n")
        rc = report(tmp, out=io.StringIO())
        expect(rc == 0, f"exit status 0 once the cycle is gone, got {rc}")
    if problems:
        print("self-test FAILED:")
        for pr in problems:
            print("  -", pr)
        return 1
    print("self-test passed")
    return 0


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--self-test", "--edges", "--help"}
    if unknown or len(args) > 1 or "--help" in flags:
        print(__doc__ if "--help" in flags else f"usage: {os.path.basename(sys.argv[0])} [ROOT] [--edges] [--self-test]")
        return 0 if "--help" in flags and not unknown else 2
    if "--self-test" in flags:
        return self_test()
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    return report(root, show_edges="--edges" in flags)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
