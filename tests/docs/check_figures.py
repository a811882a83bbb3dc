#!/usr/bin/env python3
"""The figures the prose quotes, compared with the output of the commands that produce them.

run_docs.sh checks that every command of the guides exits 0; this checks the numbers the
pages and the README quote (thresholds, false pages a week, delays). The table
(tests/docs/figures.tsv) holds no figure: it says which command's output field goes into
which phrase, so when a default changes the failure names the page, the phrase and the new
value, and only the prose needs updating.

   check_figures.py TABLE ROOT     (run in an empty work dir, `isoscope` first on PATH)

Table lines, tab-separated (# comments and blank lines skipped):
   setup <TAB> COMMAND                        run once, in order, before any row
   PAGE <TAB> COMMAND <TAB> FIELDS <TAB> PHRASE
PAGE is a path under ROOT. COMMAND runs with bash in the work dir (FIGURES_DIR is the table's
directory); its standard output is read, each command once. FIELDS is either
   json:F,F,...   F = a dotted path into the output's JSON (list[key=value] picks the element
                  whose key is value) then |-separated steps: len, /N (divide), word (0 ->
                  "no", 1 -> "one", ... ten), or a Python format spec such as .2f
   re:REGEX       the groups of REGEX's first match in the output (multi-line mode)
PHRASE holds one {} per field; it must occur in PAGE, any run of whitespace matching any
other (prose wraps, tables pad)."""
import json
import os
import re
import subprocess
import sys

WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def squash(text):
    return re.sub(r"\s+", " ", text).strip()


def walk(value, path):
    for part in path.split("."):
        pick = re.fullmatch(r"(\w+)\[(\w+)=([^\]]*)\]", part)
        if pick:
            name, key, want = pick.groups()
            matches = [e for e in value[name] if str(e.get(key)) == want]
            if len(matches) != 1:
                raise KeyError(f"{part}: {len(matches)} elements match")
            value = matches[0]
        else:
            value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def step(value, op):
    if op == "len":
        return len(value)
    if op.startswith("/"):
        return value / float(op[1:])
    if op == "word":
        return WORDS[value] if isinstance(value, int) and 0 <= value < len(WORDS) else str(value)
    return format(value, op)


def fields(spec, output):
    kind, _, rest = spec.partition(":")
    if kind == "re":
        m = re.search(rest, output, re.MULTILINE)
        if not m:
            raise ValueError(f"no match for {rest!r} in the output")
        return list(m.groups())
    if kind != "json":
        raise ValueError(f"fields must start with json: or re: ({spec})")
    data = json.loads(output)
    values = []
    for item in rest.split(","):
        path, *ops = item.split("|")
        value = walk(data, path)
        for op in ops:
            value = step(value, op)
        values.append(str(value))
    return values


def said(page_text, phrase):
    """What the page says where the phrase's figures go, for the failure message."""
    words = [re.escape(w) for w in squash(phrase).split("{}")]
    pattern = r"(\S+?)".join(w.replace(r"\ ", r"\s+") for w in words)
    m = re.search(pattern, page_text)
    return squash(m.group(0)) if m else None


def main(table, root):
    here = os.path.dirname(os.path.abspath(table))
    env = dict(os.environ, FIGURES_DIR=here)
    cache = {}

    def run(command):
        if command not in cache:
            p = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError(f"`{command}` exited {p.returncode}: {p.stderr.strip()[-400:]}")
            cache[command] = p.stdout
        return cache[command]

    passed = failed = 0
    with open(table, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    for line in lines:
        cells = line.split("\t")
        if cells[0] == "setup":
            run(cells[1])
            continue
        if len(cells) != 4:
            print(f"FAIL: figures table line is not 4 tab-separated cells: {line}")
            failed += 1
            continue
        page, command, spec, phrase = cells
        try:
            values = fields(spec, run(command))
            expected = phrase.format(*values)
        except (RuntimeError, ValueError, KeyError, IndexError, TypeError) as e:
            print(f"FAIL: {page}: {phrase!r}: {e}")
            failed += 1
            continue
        with open(os.path.join(root, page), encoding="utf-8") as f:
            text = f.read()
        if squash(expected) in squash(text):
            passed += 1
            print(f"ok {page}: {squash(expected)}")
        else:
            failed += 1
            now = said(text, phrase)
            print(f"FAIL: {page} should say {squash(expected)!r} (from `{command}`); "
                  + (f"it says {now!r}" if now else "the phrase is not on the page"))
    print(f"figures: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
