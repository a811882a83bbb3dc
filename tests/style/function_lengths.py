#!/usr/bin/env python3
"""Lengths of the C++ function definitions in a tree, by brace counting.

Usage: function_lengths.py [--max N [--allow FILE]] [--top K] [--root DIR] PATH...

Prints `LINES path:line name` for every function definition (longest first, the K longest
with --top), and with --max exits 1 if any is longer than N lines, listing those. --allow
names a file of `LINES path name` lines: functions known to be longer, each allowed up to its
recorded length and no more (a ratchet: the list may only shrink; an entry whose function is
gone or now short enough fails too, so that the list stays true). Paths are printed relative
to --root.

How it counts (simple on purpose, so that it is easy to check by hand):
- comments, string and character literals (raw strings too) and preprocessor lines are blanked
  first, keeping line numbers, so braces inside them do not count;
- the file is walked brace by brace, tracking scopes. A `{` at namespace or class scope opens a
  function body when the text before it (since the last `;`, `{` or `}` of that scope) looks
  like a function head: a parenthesised parameter list followed only by qualifiers
  (const, noexcept, override, final, &, &&, a trailing return type) or by a constructor's
  initialiser list. `namespace`, `class`, `struct`, `union` and `extern "C"` open scopes that
  are walked into; any other brace at those scopes (enum, initialiser) is skipped whole.
- a function's length runs from the first line of its head (template line included) to its
  closing brace; lambdas and local classes count as part of the function that holds them.
"""
import argparse
import os
import re
import sys

EXTENSIONS = ('.cc', '.h', '.cpp', '.hpp')


def blank(text):
    """Comments, literals and preprocessor lines replaced by spaces; newlines kept."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == '#':
            # a preprocessor line, with its backslash continuations
            while i < n and not (text[i] == '\n' and text[i - 1] != '\\'):
                out.append('\n' if text[i] == '\n' else ' ')
                i += 1
            continue
        if c == '\n':
            out.append(c)
            line_start = True
            i += 1
            continue
        if not c.isspace():
            line_start = False
        if text.startswith('//', i):
            while i < n and text[i] != '\n':
                out.append(' ')
                i += 1
            continue
        if text.startswith('/*', i):
            end = text.find('*/', i + 2)
            end = n if end < 0 else end + 2
            out.extend('\n' if ch == '\n' else ' ' for ch in text[i:end])
            i = end
            continue
        raw = re.match(r'(?:u8|u|U|L)?R"([^()\\ ]{0,16})\(', text[i:i + 24])
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            close = ')' + raw.group(1) + '"'
            end = text.find(close, i + raw.end())
            end = n if end < 0 else end + len(close)
            out.extend('\n' if ch == '\n' else ' ' for ch in text[i:end])
            out[-1] = '0'  # a literal stays an operand
            i = end
            continue
        if c in '"\'':
            # a digit separator (1'000'000) is not a character literal
            if c == '\'' and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                out.append(' ')
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.extend(' ' * (min(j + 1, n) - i - 1))
            out.append('0')
            i = j + 1
            continue
        out.append(c)
        i += 1
    return ''.join(out)


HEAD_TAIL = re.compile(
    r'\)\s*(?:const|noexcept(?:\s*\([^()]*\))?|override|final|mutable|&&|&|\s)*'
    r'(?:->\s*[\w:<>,\s*&]+)?\s*$')
CONTAINER = re.compile(r'^(?:template\s*<[^{}]*>\s*)?(?:inline\s+)?'
                       r'(?:namespace\b[^()]*|(?:class|struct|union)\b[^()=]*|extern\s+0\s*)$')


def is_function_head(head):
    head = head.strip()
    if not head or '(' not in head:
        return False
    # drop a constructor's initialiser list: `Foo(int a) : a_(a), b_{}` -> `Foo(int a)`
    depth = 0
    for k, ch in enumerate(head):
        if ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
        elif (ch == ':' and depth == 0 and head[k - 1:k + 1] != '::' and
              head[k:k + 2] != '::' and head[:k].rstrip().endswith(')')):
            head = head[:k]
            break
    if re.search(r'(^|[^=!<>])=([^=]|$)', head.split('(', 1)[0]):
        return False  # `auto f = [](...) {`, `T x = T(...) {`: a variable
    if re.match(r'^(?:if|for|while|switch|catch|return)\b', head):
        return False
    return bool(HEAD_TAIL.search(head))


def in_init_list(head):
    """True when `head` is a constructor head whose initialiser list is not finished, its last
    word a member about to be brace-initialised: `S(int v) : v_(v), w_` before `{v}`."""
    head = head.rstrip()
    if not head or not (head[-1].isalnum() or head[-1] == '_'):
        return False
    return re.search(r'\)\s*:(?!:)', head) is not None and '=' not in head.split('(', 1)[0]


def function_name(head):
    before = head.split('(', 1)[0] if not head.lstrip().startswith('operator') else head
    m = re.search(r'((?:[\w~]+::)*(?:operator\s*\S+|~?\w+))\s*$', before)
    return m.group(1) if m else '?'


def functions(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = blank(f.read())
    line_of = []
    line = 1
    for ch in text:
        line_of.append(line)
        if ch == '\n':
            line += 1
    found = []
    i, n = 0, len(text)
    head_start = 0

    def skip_block(k):
        depth = 0
        while k < n:
            if text[k] == '{':
                depth += 1
            elif text[k] == '}':
                depth -= 1
                if depth == 0:
                    return k
            k += 1
        return n - 1

    while i < n:
        c = text[i]
        if c in ';}':
            head_start = i + 1
        elif c == '{':
            head = text[head_start:i]
            if CONTAINER.match(head.strip()):
                head_start = i + 1  # walk into the namespace or class
            elif in_init_list(head):
                i = skip_block(i)  # `w_{v}` in a constructor's initialiser list: still the head
            else:
                end = skip_block(i)
                if is_function_head(head):
                    first = head_start + (len(head) - len(head.lstrip()))
                    found.append((line_of[end] - line_of[first] + 1, path, line_of[first],
                                  function_name(head.strip())))
                i = end
                head_start = i + 1
        elif c == ':' and text[i - 1:i + 1] != '::' and text[i:i + 2] != '::':
            # `public:` in a class: an access label ends a head
            if re.search(r'\b(public|private|protected)\s*$', text[head_start:i]):
                head_start = i + 1
        i += 1
    return found


def read_allow(path):
    allowed = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                lines, where, name = line.split()
                allowed[(where, name)] = int(lines)
    return allowed


def check(found, limit, allowed):
    """The problems: functions over `limit` (or over their allowance), stale allowances."""
    problems = []
    seen = set()
    for lines, path, line, name in found:
        key = (path, name)
        if key in allowed:
            seen.add(key)
            if lines > allowed[key]:
                problems.append(f'{lines:5d} {path}:{line} {name}: grew past its recorded '
                                f'{allowed[key]} lines (split it instead)')
            elif lines <= limit:
                problems.append(f'{lines:5d} {path}:{line} {name}: now {limit} lines or fewer: '
                                'remove it from the allow list')
        elif lines > limit:
            problems.append(f'{lines:5d} {path}:{line} {name}: longer than {limit} lines')
    for key in sorted(set(allowed) - seen):
        problems.append(f'      {key[0]} {key[1]}: in the allow list but not found')
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--max', type=int, default=0, help='fail on a function longer than this')
    parser.add_argument('--allow', help='file of `LINES path name`: known longer functions')
    parser.add_argument('--top', type=int, default=0, help='print only the K longest')
    parser.add_argument('--root', default='.', help='print paths relative to this folder')
    parser.add_argument('paths', nargs='+')
    args = parser.parse_args()
    found = []
    for d in args.paths:
        files = [d] if os.path.isfile(d) else [
            os.path.join(root, f) for root, _, names in os.walk(d) for f in names
            if f.endswith(EXTENSIONS)]
        for p in sorted(files):
            found.extend((lines, os.path.relpath(path, args.root), line, name)
                         for lines, path, line, name in functions(p))
    found.sort(key=lambda r: (-r[0], r[1], r[2]))
    if args.max:
        problems = check(found, args.max, read_allow(args.allow) if args.allow else {})
        for p in problems:
            print(p)
        print(f'{len(problems)} problem(s) in {len(found)} functions (limit {args.max} lines)')
        return 1 if problems else 0
    for r in found[:args.top or None]:
        print(f'{r[0]:5d} {r[1]}:{r[2]} {r[3]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
