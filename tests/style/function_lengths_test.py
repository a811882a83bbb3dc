#!/usr/bin/env python3
"""The function-length check must fail where it claims to guard: planted functions of known
lengths (counted by hand from how they are written here), braces hidden in literals and
comments, class members, constructors, and the allow list's ratchet."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, 'function_lengths.py')


def body(n):
    """n statement lines."""
    return ''.join(f'  x += {i};\n' for i in range(n))


# Line counts: head line + body lines + closing brace.
SOURCE = (
    '#include <string>\n'
    '#define BRACE {\n'                                   # a preprocessor brace: ignored
    'namespace a {\n'
    'namespace {\n'
    'int EightyOne(int x) {\n' + body(78) + '  return x;\n}\n'  # 1 + 78 + 1 + 1 = 81
    '}  // namespace\n'
    'const char* kText = "}}}{";\n'
    'int Tricky(int x) {\n'
    '  const char* s = "{{{";  // }}}\n'
    '  const char* r = R"({)";\n'
    "  char c = '{';\n"
    '  /* } */\n'
    '  auto f = [](int y) { return y; };\n'
    '  return x + f(1) + s[0] + r[0] + c;\n'
    '}\n'
    'struct S {\n'
    '  S(int v) : v_(v), w_{v} {\n' + body(80) + '  }\n'  # 1 + 80 + 1 = 82
    '  int Member(int x) const {\n' + body(79) + '    return x;\n  }\n'  # 1 + 79 + 1 + 1 = 82
    ' private:\n'
    '  int v_;\n'
    '  int w_;\n'
    '};\n'
    'enum class E { kA, kB };\n'
    'int Short(int x) { return x; }\n'
    '}  // namespace a\n'
)


def run(args, cwd):
    r = subprocess.run([sys.executable, TOOL] + args, cwd=cwd, capture_output=True, text=True)
    return r.returncode, r.stdout


def main():
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'src')
        os.mkdir(src)
        with open(os.path.join(src, 'planted.cc'), 'w') as f:
            f.write(SOURCE)
        rc, out = run(['--root', tmp, 'src'], tmp)
        rows = {line.split()[-1]: int(line.split()[0]) for line in out.splitlines()}
        expect(rc == 0, 'listing exits 0')
        expect(rows == {'EightyOne': 81, 'S': 82, 'Member': 82, 'Tricky': 8, 'Short': 1},
               f'lengths as counted by hand: {rows}')

        rc, out = run(['--max', '81', '--root', tmp, 'src'], tmp)
        expect(rc == 1, '--max 81 fails on the two 82-line functions')
        expect('S: longer than 81' in out and 'Member: longer than 81' in out, out)
        expect('EightyOne' not in out, 'an 81-line function passes --max 81')

        rc, out = run(['--max', '82', '--root', tmp, 'src'], tmp)
        expect(rc == 0, f'--max 82 passes: {out}')

        allow = os.path.join(tmp, 'allow.txt')
        with open(allow, 'w') as f:
            f.write('# known long\n82 src/planted.cc S\n82 src/planted.cc Member\n')
        rc, out = run(['--max', '81', '--allow', allow, '--root', tmp, 'src'], tmp)
        expect(rc == 0, f'allowed at their length: {out}')

        with open(allow, 'w') as f:
            f.write('81 src/planted.cc S\n82 src/planted.cc Member\n90 src/planted.cc Gone\n'
                    '85 src/planted.cc EightyOne\n')
        rc, out = run(['--max', '81', '--allow', allow, '--root', tmp, 'src'], tmp)
        expect(rc == 1, 'the ratchet fails')
        expect('S: grew past its recorded 81' in out, f'growth past the allowance: {out}')
        expect('Gone: in the allow list but not found' in out, f'stale entry: {out}')
        expect('EightyOne: now 81 lines or fewer' in out, f'entry no longer needed: {out}')
        expect('Member' not in out, f'Member within its allowance: {out}')

    for f in failures:
        print('FAIL:', f)
    print('ok' if not failures else f'{len(failures)} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
