"""The OData v4 subset that eAccounting's list endpoints understand.

Used by eaccounting.py for `$filter`, `$orderby` and `$select`.  A real
parser (tokenizer + recursive descent), so a value with quotes in it cannot
change the meaning of a filter: `'O''Brien'` is one string literal.

Supported:
  comparison  eq ne gt ge lt le
  logical     and or not, parentheses
  literals    'string' ('' escapes a quote), integers and decimals, true,
              false, null, bare GUIDs and guid'...', ISO dates/date-times
              bare (2026-03-01, 2026-03-01T10:00:00Z) and datetime'...'
  unary minus on numbers and properties (-TotalAmountInvoiceCurrency)
  functions   contains, startswith, endswith, substringof (v3 order),
              tolower, toupper, trim, length
  lambda      Rows/any(r: ...), Rows/all(r: ...), Rows/any()
  paths       A/B (nested objects)

Errors raise ODataError(code, message): 6000 QueryParameterError for bad
syntax, unknown properties and type mismatches, 6001 InvalidInput for a
malformed date.

Property names are matched exactly (case-sensitive, PascalCase) - stricter
than a case-insensitive server, and always right against the real one.
String comparisons are case-insensitive, as SQL Server's default collation
behind the real service makes them.
"""

import datetime
import decimal
import re

D = decimal.Decimal


class ODataError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def qerr(message):
    return ODataError(6000, message)


# ---------------------------------------------------------------------------
# dates


_DT_RX = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,7})?)?)?([Zz]|[+-]\d{2}:\d{2})?$")


def parse_datetime(text):
    """ISO date or date-time -> naive UTC datetime; None when malformed."""
    m = _DT_RX.match(text.strip())
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    try:
        value = datetime.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0),
                                  int(round(float(frac) * 1e6)) if frac else 0)
    except ValueError:
        return None
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        offset = datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        value = value - sign * offset
    return value


# ---------------------------------------------------------------------------
# tokenizer

_TOKEN_RX = re.compile(r"""
    (?P<ws>\s+)
  | (?P<typed>(?:datetime|datetimeoffset|guid)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
  | (?P<date>\d{4}-\d{1,2}-\d{1,2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?(?![\w-]))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![\w]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[()/,:-])
""", re.VERBOSE)

_UUID_RX = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def tokenize(text):
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN_RX.match(text, pos)
        if not m:
            # an unterminated quote is the classic broken filter
            if text[pos] == "'":
                raise qerr("Unterminated string literal at position %d" % pos)
            raise qerr("Syntax error at position %d ('%s')" % (pos, text[pos:pos + 10]))
        kind = m.lastgroup
        value = m.group(kind)
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "string":
            out.append(("lit", value[1:-1].replace("''", "'"), "string"))
        elif kind == "typed":
            prefix, _, rest = value.partition("'")
            inner = rest[:-1].replace("''", "'")
            if prefix == "guid":
                if not _UUID_RX.match(inner):
                    raise qerr("Invalid guid literal %s" % value)
                out.append(("lit", inner.lower(), "guid"))
            else:
                dt = parse_datetime(inner)
                if dt is None:
                    raise ODataError(6001, "Invalid DateTime format: '%s'" % inner)
                out.append(("lit", dt, "datetime"))
        elif kind == "guid":
            out.append(("lit", value.lower(), "guid"))
        elif kind == "date":
            dt = parse_datetime(value)
            if dt is None:
                raise ODataError(6001, "Invalid DateTime format: '%s'" % value)
            out.append(("lit", dt, "datetime"))
        elif kind == "number":
            out.append(("lit", D(value.rstrip("mMdDfFlL")), "number"))
        elif kind == "ident":
            low = value.lower()
            if low in ("true", "false"):
                out.append(("lit", low == "true", "bool"))
            elif low == "null":
                out.append(("lit", None, "null"))
            else:
                out.append(("ident", value))
        else:
            out.append(("punct", value))
    out.append(("end",))
    return out


# ---------------------------------------------------------------------------
# parser -> AST tuples

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
FUNCTIONS = {"contains": 2, "startswith": 2, "endswith": 2, "substringof": 2,
             "tolower": 1, "toupper": 1, "trim": 1, "length": 1}


class _Parser:
    def __init__(self, tokens):
        self.toks = tokens
        self.i = 0

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def is_word(self, word, k=0):
        t = self.peek(k)
        return t[0] == "ident" and t[1].lower() == word

    def is_punct(self, p, k=0):
        t = self.peek(k)
        return t[0] == "punct" and t[1] == p

    def expect_punct(self, p):
        if not self.is_punct(p):
            raise qerr("Expected '%s' but found %s" % (p, _describe(self.peek())))
        self.take()

    def parse(self):
        node = self.parse_or()
        if self.peek()[0] != "end":
            raise qerr("Unexpected %s" % _describe(self.peek()))
        return node

    def parse_or(self):
        node = self.parse_and()
        while self.is_word("or"):
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self):
        node = self.parse_not()
        while self.is_word("and"):
            self.take()
            node = ("and", node, self.parse_not())
        return node

    def parse_not(self):
        if self.is_word("not"):
            self.take()
            return ("not", self.parse_not())
        return self.parse_cmp()

    def parse_cmp(self):
        left = self.parse_unary()
        t = self.peek()
        if t[0] == "ident" and t[1].lower() in COMPARISONS:
            self.take()
            right = self.parse_unary()
            return ("cmp", t[1].lower(), left, right)
        return left

    def parse_unary(self):
        if self.is_punct("-"):
            self.take()
            return ("neg", self.parse_unary())
        return self.parse_primary()

    def parse_primary(self):
        t = self.peek()
        if t[0] == "punct" and t[1] == "(":
            self.take()
            node = self.parse_or()
            self.expect_punct(")")
            return node
        if t[0] == "lit":
            self.take()
            return ("lit", t[1], t[2])
        if t[0] == "ident":
            name = t[1]
            if name.lower() in FUNCTIONS and self.is_punct("(", 1):
                return self.parse_function()
            if name.lower() in COMPARISONS + ("and", "or", "not"):
                raise qerr("Unexpected keyword '%s'" % name)
            return self.parse_path()
        raise qerr("Unexpected %s" % _describe(t))

    def parse_function(self):
        name = self.take()[1].lower()
        self.expect_punct("(")
        args = [self.parse_or()]
        while self.is_punct(","):
            self.take()
            args.append(self.parse_or())
        self.expect_punct(")")
        if len(args) != FUNCTIONS[name]:
            raise qerr("Function %s takes %d arguments" % (name, FUNCTIONS[name]))
        return ("func", name, args)

    def parse_path(self):
        parts = [self.take()[1]]
        while self.is_punct("/"):
            self.take()
            t = self.peek()
            if t[0] != "ident":
                raise qerr("Expected a property name after '/'")
            if t[1].lower() in ("any", "all") and self.is_punct("(", 1):
                return self.parse_lambda(parts)
            parts.append(self.take()[1])
        return ("path", parts)

    def parse_lambda(self, parts):
        kind = self.take()[1].lower()
        self.expect_punct("(")
        if self.is_punct(")"):
            if kind == "all":
                raise qerr("all() needs a lambda expression")
            self.take()
            return ("lambda", kind, parts, None, None)
        var = self.take()
        if var[0] != "ident":
            raise qerr("Expected a lambda variable name")
        self.expect_punct(":")
        body = self.parse_or()
        self.expect_punct(")")
        return ("lambda", kind, parts, var[1], body)


def _describe(tok):
    if tok[0] == "end":
        return "end of expression"
    if tok[0] == "lit":
        return "literal %r" % (tok[1],)
    return "'%s'" % tok[1]


def parse_filter(text):
    if not text or not text.strip():
        raise qerr("The $filter query option is empty")
    return _Parser(tokenize(text)).parse()


# ---------------------------------------------------------------------------
# typing against the schema, then evaluation

class SchemaView:
    """What the filter needs from a JSON schema: the type of a property path."""

    def __init__(self, schemas, root_name):
        self.schemas = schemas
        self.root = root_name

    def resolve(self, schema):
        while schema and "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def prop(self, schema, name):
        schema = self.resolve(schema)
        props = (schema or {}).get("properties", {})
        if name not in props:
            return None
        return self.resolve(props[name])

    def kind_of(self, schema):
        """'string' | 'number' | 'bool' | 'datetime' | 'guid' | 'array' | 'object'."""
        t = schema.get("type")
        types = [x for x in (t if isinstance(t, list) else [t]) if x != "null"]
        base = types[0] if types else "object"
        if base == "string":
            fmt = schema.get("format")
            return {"date-time": "datetime", "uuid": "guid"}.get(fmt, "string")
        if base in ("number", "integer"):
            return "number"
        if base == "boolean":
            return "bool"
        return base


class RecordView:
    """A record whose top-level members are computed when they are read, with get(name) as on a
    dict: eaccounting.py's lists hand these to the filter and $orderby, so a lookup among
    thousands of documents shapes only the members it compares (and the page it answers)."""

    __slots__ = ()

    def get(self, name, default=None):
        raise NotImplementedError


class Compiled:
    """A type-checked filter: call .matches(record)."""

    def __init__(self, ast, view):
        self.ast = ast
        self.view = view
        self._check(ast, {"$root": view.resolve({"$ref": "#/components/schemas/" + view.root})})

    # static pass: every path exists; every comparison is between compatible kinds
    def _check(self, node, scope):
        tag = node[0]
        if tag in ("or", "and"):
            self._expect_bool(node[1], scope)
            self._expect_bool(node[2], scope)
            return "bool"
        if tag == "not":
            self._expect_bool(node[1], scope)
            return "bool"
        if tag == "cmp":
            left = self._check(node[2], scope)
            right = self._check(node[3], scope)
            self._compatible(node, left, right)
            return "bool"
        if tag == "neg":
            k = self._check(node[1], scope)
            if k not in ("number",):
                raise qerr("Unary minus needs a number")
            return "number"
        if tag == "lit":
            return {"string": "string", "number": "number", "bool": "bool", "null": "null",
                    "guid": "guid", "datetime": "datetime"}[node[2]]
        if tag == "path":
            schema = self._path_schema(node[1], scope)
            return self.view.kind_of(schema)
        if tag == "func":
            name, args = node[1], node[2]
            kinds = [self._check(a, scope) for a in args]
            for k in kinds:
                if k not in ("string", "null"):
                    raise qerr("Function %s expects string arguments" % name)
            if name in ("tolower", "toupper", "trim"):
                return "string"
            if name == "length":
                return "number"
            return "bool"
        if tag == "lambda":
            _, kind, parts, var, body = node
            schema = self._path_schema(parts, scope)
            if self.view.kind_of(schema) != "array":
                raise qerr("%s is not a collection" % "/".join(parts))
            if body is not None:
                inner = dict(scope)
                inner[var] = self.view.resolve(schema.get("items", {}))
                self._expect_bool(body, inner)
            return "bool"
        raise qerr("Unsupported expression")

    def _expect_bool(self, node, scope):
        if self._check(node, scope) != "bool":
            raise qerr("Expected a boolean expression")

    def _compatible(self, node, left, right):
        kinds = {left, right}
        if "null" in kinds:
            if node[1] not in ("eq", "ne"):
                raise qerr("null can only be compared with eq or ne")
            return
        if left == right:
            return
        # dates accept a quoted string; it must then parse as a date (6001 otherwise)
        if kinds == {"datetime", "string"}:
            lit = node[3] if node[3][0] == "lit" else node[2] if node[2][0] == "lit" else None
            if lit is None or parse_datetime(lit[1]) is None:
                raise ODataError(6001, "Invalid DateTime format: '%s'" % (lit[1] if lit else "?"))
            return
        raise qerr("Cannot compare %s with %s" % (left, right))

    def _path_schema(self, parts, scope):
        if parts[0] in scope and parts[0] != "$root":
            schema, rest = scope[parts[0]], parts[1:]
            label = parts[0]
        else:
            schema, rest = scope["$root"], parts
            label = self.view.root
        for name in rest:
            sub = self.view.prop(schema, name)
            if sub is None:
                raise qerr("Could not find a property named '%s' on type '%s'" % (name, label))
            schema, label = sub, name
        return schema

    # evaluation
    def matches(self, record):
        return self._eval(self.ast, {"$root": record}) is True

    def _value(self, parts, env):
        if parts[0] in env and parts[0] != "$root":
            node, rest = env[parts[0]], parts[1:]
        else:
            node, rest = env["$root"], parts
        for name in rest:
            if not isinstance(node, (dict, RecordView)):
                return None
            node = node.get(name)
        return node

    def _eval(self, node, env):
        tag = node[0]
        if tag == "or":
            return self._eval(node[1], env) is True or self._eval(node[2], env) is True
        if tag == "and":
            return self._eval(node[1], env) is True and self._eval(node[2], env) is True
        if tag == "not":
            v = self._eval(node[1], env)
            return None if v is None else not v
        if tag == "lit":
            return node[1]
        if tag == "path":
            return self._value(node[1], env)
        if tag == "neg":
            v = self._eval(node[1], env)
            return None if v is None else -D(str(v))
        if tag == "cmp":
            return _compare(node[1], self._eval(node[2], env), self._eval(node[3], env))
        if tag == "func":
            return _call(node[1], [self._eval(a, env) for a in node[2]])
        if tag == "lambda":
            _, kind, parts, var, body = node
            items = self._value(parts, env) or []
            if body is None:
                return len(items) > 0
            results = []
            for item in items:
                inner = dict(env)
                inner[var] = item
                results.append(self._eval(body, inner) is True)
            return any(results) if kind == "any" else all(results)
        return None


def _norm(v):
    """Make two sides comparable: dates -> datetime, numbers -> Decimal, strings casefolded."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float, D)):
        return D(str(v))
    if isinstance(v, datetime.datetime):
        return v
    if isinstance(v, str):
        return v.casefold()
    return v


def _as_date_pair(a, b):
    if isinstance(a, datetime.datetime) and isinstance(b, str):
        return a, parse_datetime(b)
    if isinstance(b, datetime.datetime) and isinstance(a, str):
        return parse_datetime(a), b
    return a, b


def _compare(op, a, b):
    a, b = _as_date_pair(a, b)
    if a is None or b is None:
        if op == "eq":
            return a is None and b is None
        if op == "ne":
            return not (a is None and b is None)
        return False
    a, b = _norm(a), _norm(b)
    try:
        if op == "eq":
            return a == b
        if op == "ne":
            return a != b
        if op == "gt":
            return a > b
        if op == "ge":
            return a >= b
        if op == "lt":
            return a < b
        if op == "le":
            return a <= b
    except TypeError:
        return False
    return False


def _call(name, args):
    if name in ("tolower", "toupper", "trim", "length"):
        s = args[0]
        if s is None:
            return None
        return {"tolower": s.lower(), "toupper": s.upper(), "trim": s.strip(), "length": len(s)}[name]
    a, b = args
    if name == "substringof":
        a, b = b, a
    if a is None or b is None:
        return False
    a, b = a.casefold(), b.casefold()
    if name in ("contains", "substringof"):
        return b in a
    if name == "startswith":
        return a.startswith(b)
    return a.endswith(b)


def compile_filter(text, schemas, root_name):
    return Compiled(parse_filter(text), SchemaView(schemas, root_name))


# ---------------------------------------------------------------------------
# $orderby and $select

def parse_orderby(text, schemas, root_name):
    """'A desc, B' -> [(["A"], True), (["B"], False)] (desc flag)."""
    view = SchemaView(schemas, root_name)
    root = view.resolve({"$ref": "#/components/schemas/" + root_name})
    keys = []
    for clause in text.split(","):
        words = clause.split()
        if not words or len(words) > 2:
            raise qerr("Invalid $orderby clause '%s'" % clause.strip())
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise qerr("Invalid $orderby direction '%s'" % words[1])
        parts = words[0].split("/")
        schema = root
        for name in parts:
            sub = view.prop(schema, name)
            if sub is None:
                raise qerr("Could not find a property named '%s' on type '%s'" % (name, root_name))
            schema = sub
        if view.kind_of(schema) in ("array", "object"):
            raise qerr("Cannot order by '%s'" % words[0])
        keys.append((parts, direction == "desc"))
    return keys


def sort_records(records, keys):
    """Stable multi-key sort; None sorts first ascending, as SQL Server does."""
    out = list(records)
    for parts, desc in reversed(keys):
        def key(rec, parts=parts):
            v = rec
            for p in parts:
                v = v.get(p) if isinstance(v, (dict, RecordView)) else None
            if v is None:
                return (0, 0, 0)
            if isinstance(v, str):
                dt = parse_datetime(v) if len(v) >= 10 and v[4:5] == "-" else None
                return (1, 1, dt) if dt is not None else (1, 2, v.casefold())
            if isinstance(v, bool):
                return (1, 0, int(v))
            return (1, 0, D(str(v)))
        out.sort(key=key, reverse=desc)
    return out


def parse_select(text, schemas, root_name):
    view = SchemaView(schemas, root_name)
    root = view.resolve({"$ref": "#/components/schemas/" + root_name})
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise qerr("The $select query option is empty")
    for n in names:
        if view.prop(root, n) is None:
            raise qerr("Could not find a property named '%s' on type '%s'" % (n, root_name))
    return names
