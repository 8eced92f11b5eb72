#!/usr/bin/env python3
"""The function-length rule of ARCHITECTURE.md, checked: no function of the libraries is longer than
LIMIT lines (120), from its signature to its closing brace. A light C++ scan: comments, strings and
character literals are blanked, then each outermost brace block whose header looks like a function
(a parameter list, not a class, namespace, initializer or control statement) is measured; lambdas
count as part of the function that holds them.
Usage: scripts/check_function_length.py [SOURCE_DIR] [LIMIT]; exit 0 when it holds, 1 with the offences."""
import os
import re
import sys

AREAS = ["util", "digest", "readers", "normalize", "image", "dockerfile", "diff", "report", "verify", "cli"]
SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$")
CONTROL = re.compile(r"^(if|for|while|switch|catch|do|else|try)\b")


def blank(text):
    """Comments, string and character literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(name, first line, last line) of each outermost function body."""
    code = blank(text)
    found = []
    stack = []  # per open brace: is it a function body?
    in_function = 0
    last_stop = 0  # index after the last ';', '{' or '}' at scope level
    for i, c in enumerate(code):
        if c == "{":
            header = code[last_stop:i].strip()
            is_function = (
                in_function == 0
                and "(" in header
                and not SCOPE.search(header.split("(")[0])
                and not CONTROL.match(header)
                and not header.endswith("=")
                and not re.search(r"=\s*$|\breturn\b", header)
            )
            if is_function:
                start_index = last_stop + (len(code[last_stop:i]) - len(code[last_stop:i].lstrip()))
                name = re.findall(r"([~\w:]+)\s*\(", header.split(")")[0] + ")")
                found.append([name[0] if name else "?", code.count("\n", 0, start_index) + 1, None])
                in_function += 1
            stack.append(is_function)
            last_stop = i + 1
        elif c == "}":
            if stack and stack.pop():
                in_function -= 1
                found[-1][2] = code.count("\n", 0, i) + 1
            last_stop = i + 1
        elif c == ";" and in_function == 0:
            last_stop = i + 1
    return [f for f in found if f[2] is not None]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    problems = []
    count = 0
    for area in AREAS:
        folder = os.path.join(root, area)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".cpp", ".hpp")):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                text = f.read()
            for fn, first, last in functions(text):
                count += 1
                if last - first + 1 > limit:
                    problems.append(f"{area}/{name}:{first}: {fn} is {last - first + 1} lines (at most {limit})")
    for p in problems:
        print(p)
    print(f"{count} functions, {len(problems)} over {limit} lines")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
