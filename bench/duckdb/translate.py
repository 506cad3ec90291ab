"""xuncha's rule SQL (DataFusion dialect, placeholders filled by `xuncha
rules --show`) rewritten for DuckDB. Functions both engines spell alike run
as they are; xuncha's own functions are macros in udfs.sql; what remains is
rewritten here, mechanically:

- named_struct('k', v, ...)      -> struct_pack("k" := v, ...)
- regexp_match(s, p)[1]          -> regexp_extract(s, p)   (whole match; the
                                    rules' patterns have no groups)
- hash64(a, b, ...)              -> hash(a, b, ...)        (variadic, so not a
                                    macro; any 64-bit hash serves the rules)
"""
import re


def _call_end(sql, open_paren):
    """Index of the parenthesis closing the one at `open_paren`."""
    depth, i, quoted = 0, open_paren, False
    while i < len(sql):
        c = sql[i]
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses")


def _split_args(text):
    """Top-level comma-separated arguments of a call's inside."""
    args, depth, quoted, start = [], 0, False, 0
    for i, c in enumerate(text):
        if c == "'":
            quoted = not quoted
        elif not quoted and c in "([":
            depth += 1
        elif not quoted and c in ")]":
            depth -= 1
        elif not quoted and depth == 0 and c == ",":
            args.append(text[start:i].strip())
            start = i + 1
    args.append(text[start:].strip())
    return args


def _rewrite_calls(sql, name, rewrite):
    out, at = [], 0
    pattern = re.compile(r"\b" + name + r"\s*\(", re.IGNORECASE)
    while True:
        m = pattern.search(sql, at)
        if not m:
            out.append(sql[at:])
            return "".join(out)
        open_paren = m.end() - 1
        close = _call_end(sql, open_paren)
        args = _split_args(sql[open_paren + 1:close])
        replacement, consumed = rewrite(args, sql[close + 1:])
        out.append(sql[at:m.start()])
        out.append(_rewrite_calls(replacement, name, rewrite))
        at = close + 1 + consumed


def _named_struct(args, _rest):
    pairs = []
    for key, value in zip(args[0::2], args[1::2]):
        pairs.append('"' + key.strip("'") + '" := ' + value)
    return "struct_pack(" + ", ".join(pairs) + ")", 0


def _regexp_match(args, rest):
    m = re.match(r"\s*\[\s*1\s*\]", rest)
    if not m:
        raise ValueError("regexp_match without [1] has no DuckDB rewrite here")
    return "regexp_extract(" + ", ".join(args) + ")", m.end()


def translate(sql):
    sql = _rewrite_calls(sql, "named_struct", _named_struct)
    sql = _rewrite_calls(sql, "regexp_match", _regexp_match)
    return re.sub(r"\bhash64\s*\(", "hash(", sql, flags=re.IGNORECASE)


if __name__ == "__main__":
    import sys
    print(translate(sys.stdin.read()))
