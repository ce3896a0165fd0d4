#!/usr/bin/env python3
"""Lists the SQL a release's upgrade script needs for functions and types.

    scripts/upgrade-objects.py OLD_INSTALL_SCRIPT > part.sql
    scripts/upgrade-objects.py --update UPGRADE_SCRIPT OLD_INSTALL_SCRIPT

Compares the install SQL in src/sql/*.sql with the previous release's
generated install script (OLD_INSTALL_SCRIPT, e.g.
tests/upgrade/credit_scoring--0.1.0.sql) and prints, in install order:
CREATE TYPE for new composite types, CREATE FUNCTION (with its COMMENT and
REVOKE) for new functions, CREATE OR REPLACE FUNCTION for changed ones.
Tables, views, triggers and data migrations are written by hand; the
upgrade test (tests/upgrade/run.sh) compares the result with a fresh
install object for object, so nothing missed here goes unnoticed.
"""
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FILES = ["score.sql", "scorecards.sql", "triggers.sql", "views.sql"]

def split(text):
    """Top-level SQL statements (dollar quotes, quotes and comments respected)."""
    out, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif c == "'":
            i = text.find("'", i + 1) + 1 or n
            continue
        elif c == "$":
            m = re.match(r"\$\w*\$", text[i:])
            if m:
                end = text.find(m.group(0), i + len(m.group(0)))
                i = n if end < 0 else end + len(m.group(0))
                continue
        elif c == ";":
            out.append(text[start : i + 1].strip())
            start = i + 1
        i += 1
    return out


HEAD = re.compile(r"^CREATE (?:OR REPLACE )?(FUNCTION|TYPE) (\"?[\w.]+\"?)\s*(\((.*?)\))?", re.S)


def statements(text):
    """(kind, name, identity, text) of every CREATE FUNCTION / TYPE."""
    out = []
    for st in split(text):
        lines = st.splitlines()
        while lines and (lines[0].startswith("--") or not lines[0].strip()):
            lines.pop(0)  # the comments before the statement, not those in its body
        body = "\n".join(lines).strip()
        m = HEAD.match(body)
        if not m:
            continue
        kind, name = m.group(1), m.group(2).strip('"')
        if not name.startswith("credit."):
            name = "credit." + name
        ident = name
        if kind == "FUNCTION":
            types = []
            for arg in re.split(r",(?![^(]*\))", m.group(4) or ""):
                arg = re.sub(r"\s+DEFAULT\s+.*", "", arg.strip(), flags=re.S)
                arg = re.sub(r"/\*.*?\*/", "", arg).strip()
                if arg:
                    words = arg.split()
                    types.append(" ".join(words[1:]) if len(words) > 1 else words[0])
            ident = f"{name}({', '.join(types)})"
        out.append((kind, name, ident, body.rstrip(";") + ";\n"))
    return out


def extras(text, name):
    """COMMENT and REVOKE statements about an object."""
    return "".join(
        st + "\n"
        for st in split(text)
        if re.match(rf"^(COMMENT ON (FUNCTION|TYPE)|REVOKE .* ON FUNCTION) {re.escape(name)}\b", st, re.S)
    )


def norm(sql):
    return re.sub(r"\s+", " ", sql.replace("CREATE OR REPLACE", "CREATE")).strip()


def main():
    if sys.argv[1] == "--update":
        # Rewrite the generated block of an upgrade script in place.
        script, old_install = Path(sys.argv[2]), sys.argv[3]
        import io
        from contextlib import redirect_stdout
        buf = io.StringIO()
        with redirect_stdout(buf):
            sys.argv = [sys.argv[0], old_install]
            main()
        text = script.read_text()
        begin, end = "-- BEGIN generated\n", "-- END generated\n"
        a, b = text.index(begin) + len(begin), text.index(end)
        script.write_text(text[:a] + buf.getvalue() + text[b:])
        return
    old = Path(sys.argv[1]).read_text()
    old_defs = {ident: body for kind, name, ident, body in statements(old)}
    for f in FILES:
        new = (REPO / "src" / "sql" / f).read_text()
        for kind, name, ident, body in statements(new):
            if ident not in old_defs:
                print(body + extras(new, name))
            elif kind == "FUNCTION" and norm(body) != norm(old_defs[ident]):
                print(body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


if __name__ == "__main__":
    main()
