"""Magento 2 search machinery for the emulator: query strings, searchCriteria,
filters, sorting, paging and `?fields=` partial responses.

Semantics follow Magento 2.4 (see shared/spec/magento2-api.md section 3):
filters inside a group are OR-ed, groups are AND-ed; condition types are
Magento's SQL conditions (Framework\\DB\\Adapter\\Pdo\\Mysql::prepareSqlCondition)
evaluated the way MySQL would: NULL never compares (so `neq` does not match a
missing value), strings compare case-insensitively (a *_ci collation), a
number column compares numerically, `in`/`nin` split the value on commas,
an unknown condition type falls back to `eq`, `like` uses % and _ wildcards.
"""

import re
import urllib.parse

from magento2_errors import MagentoError, required_field_error

DATETIME_RX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


# ---- PHP query-string parsing ---------------------------------------------------

def php_parse_qs(query_string):
    """Parse a query string the way PHP's parse_str fills $_GET.

    Bracketed names nest (`a[b][c]=v` -> {"a": {"b": {"c": "v"}}}), `a[]=v`
    appends, `+` is a space, the last duplicate wins.  Arrays are dicts with
    string keys in insertion order, as PHP arrays.
    """
    result = {}
    for pair in query_string.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name = urllib.parse.unquote_plus(name)
        value = urllib.parse.unquote_plus(value)
        base, keys = _split_php_name(name)
        if not base:
            continue
        _php_assign(result, [base] + keys, value)
    return result


def _split_php_name(name):
    name = name.lstrip(" ")
    first = name.find("[")
    if first <= 0 or "]" not in name[first:]:
        return name.replace(".", "_").replace(" ", "_"), []
    base = name[:first].replace(".", "_").replace(" ", "_")
    keys, rest = [], name[first:]
    while rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            break
        keys.append(rest[1:close])
        rest = rest[close + 1:]
    return base, keys


def _php_assign(node, keys, value):
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if key == "":  # `[]`: the next integer index
            ints = [int(k) for k in node if k.lstrip("-").isdigit()]
            key = str(max(ints) + 1 if ints else 0)
        if last:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child


# ---- data-object property names --------------------------------------------------

def upper_camel(name):
    """Magento's SimpleDataObjectConverter::snakeCaseToUpperCamelCase."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def snake_case(name):
    """camelCase -> snake_case (Magento accepts both on input, answers snake_case)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def match_property(key, properties):
    """The snake_case property a request key names, or None.

    Magento turns the key into UpperCamelCase and looks for a getter with that
    exact name, so `page_size`, `pageSize` and `PageSize` work, `pagesize`
    does not.
    """
    wanted = upper_camel(key)
    for prop in properties:
        if upper_camel(prop) == wanted:
            return prop
    return None


def unsupported_field(key):
    return MagentoError(400, '"%fieldName" is not supported. Correct the field name and try again.',
                        {"fieldName": upper_camel(key)})


def type_error(value, expected):
    return MagentoError(400, 'The "%value" value\'s type is invalid. The "%type" type was expected. '
                             'Verify and try again.', {"value": str(value), "type": expected})


def _as_list(value, what):
    """A PHP array given as dict -> its values in order; anything else is a type error."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    raise type_error(value, what)


def _as_int(value):
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise type_error(value, "int")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise type_error(value, "int")


# ---- searchCriteria ---------------------------------------------------------------

class Filter:
    __slots__ = ("field", "value", "condition", "given_condition", "_regex", "_list")

    def __init__(self, field, value, condition):
        self.field = field
        self.value = value
        self.given_condition = condition
        self.condition = (condition or "eq").lower() if condition else "eq"
        self._regex = None
        self._list = None

    def echo(self):
        out = {"field": self.field}
        if self.value is not None:
            out["value"] = self.value
        if self.given_condition is not None:
            out["condition_type"] = self.given_condition
        return out


class SearchCriteria:
    """A parsed searchCriteria: groups (list of lists of Filter), sort orders, paging."""

    def __init__(self):
        self.groups = []
        self.sort_orders = []  # [(field, "ASC"|"DESC"|None)]
        self.sort_given = False
        self.page_size = None
        self.current_page = None

    def echo(self):
        """search_criteria as Magento echoes it: snake_case, only what was sent."""
        out = {"filter_groups": [{"filters": [f.echo() for f in group]} for group in self.groups]}
        if self.sort_given:
            orders = []
            for field, direction in self.sort_orders:
                o = {"field": field} if field is not None else {}
                if direction is not None:
                    o["direction"] = direction
                orders.append(o)
            out["sort_orders"] = orders
        if self.page_size is not None:
            out["page_size"] = self.page_size
        if self.current_page is not None:
            out["current_page"] = self.current_page
        return out


_CRITERIA_PROPS = ("filter_groups", "sort_orders", "page_size", "current_page")
_FILTER_PROPS = ("field", "value", "condition_type")


def parse_search_criteria(params, required=True):
    """searchCriteria from the parsed query (php_parse_qs output)."""
    if "searchCriteria" not in params:
        if required:
            raise required_field_error("searchCriteria")
        return SearchCriteria()
    raw = params["searchCriteria"]
    criteria = SearchCriteria()
    if not isinstance(raw, dict):
        # `?searchCriteria=` or `=0` is accepted as "no criteria" (#33940)
        if str(raw).strip() in ("", "0"):
            return criteria
        raise type_error(raw, "Magento\\Framework\\Api\\SearchCriteriaInterface")
    for key, value in raw.items():
        prop = match_property(key, _CRITERIA_PROPS)
        if prop is None:
            raise unsupported_field(key)
        if prop == "filter_groups":
            criteria.groups = [_parse_group(g) for g in _as_list(value, "Magento\\Framework\\Api\\Search\\FilterGroup[]")]
        elif prop == "sort_orders":
            criteria.sort_given = True
            criteria.sort_orders = [_parse_sort(s) for s in _as_list(value, "Magento\\Framework\\Api\\SortOrder[]")]
        elif prop == "page_size":
            criteria.page_size = _as_int(value)
        else:
            criteria.current_page = _as_int(value)
    return criteria


def _parse_group(raw):
    if not isinstance(raw, dict):
        raise type_error(raw, "Magento\\Framework\\Api\\Search\\FilterGroup")
    filters = []
    for key, value in raw.items():
        if match_property(key, ("filters",)) is None:
            raise unsupported_field(key)
        for f in _as_list(value, "Magento\\Framework\\Api\\Filter[]"):
            filters.append(_parse_filter(f))
    return filters


def _parse_filter(raw):
    if not isinstance(raw, dict):
        raise type_error(raw, "Magento\\Framework\\Api\\Filter")
    data = {}
    for key, value in raw.items():
        prop = match_property(key, _FILTER_PROPS)
        if prop is None:
            raise unsupported_field(key)
        if isinstance(value, (dict, list)):
            raise type_error("Array", "string")
        data[prop] = value
    if data.get("field") in (None, ""):
        # Magento would build SQL on an empty column name; refuse instead (documented)
        raise required_field_error("field")
    return Filter(data["field"], data.get("value"), data.get("condition_type"))


def _parse_sort(raw):
    if not isinstance(raw, dict):
        raise type_error(raw, "Magento\\Framework\\Api\\SortOrder")
    field = direction = None
    for key, value in raw.items():
        prop = match_property(key, ("field", "direction"))
        if prop is None:
            raise unsupported_field(key)
        if prop == "field":
            field = value
        else:
            direction = str(value).upper()
            if direction not in ("ASC", "DESC"):
                raise MagentoError(400, "The sort order has to be specified as %1 for ascending order or "
                                        "%2 for descending order.", ["ASC", "DESC"])
    return field, direction


# ---- evaluating filters ------------------------------------------------------------

def mysql_number(text):
    """MySQL's string-to-number conversion: the leading numeric prefix, else 0."""
    m = re.match(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", str(text))
    return float(m.group(0)) if m else 0.0


def _norm_str(value):
    # *_ci collation: case-insensitive; PAD SPACE: trailing blanks do not count
    return str(value).rstrip(" ").casefold()


def norm_datetime(text):
    text = str(text).strip()
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        return text + " 00:00:00"
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", text):
        return text.replace("T", " ")
    return text


def _like_regex(pattern):
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _compare(field_value, filter_value):
    """-1/0/1 comparing a stored value with a filter value, MySQL style; None for NULL."""
    if field_value is None or filter_value is None:
        return None
    if isinstance(field_value, bool):
        field_value = int(field_value)
    if isinstance(field_value, (int, float)):
        other = mysql_number(filter_value)
        return (field_value > other) - (field_value < other)
    if isinstance(field_value, list):
        field_value = ",".join(str(v) for v in field_value)
    left = str(field_value)
    right = str(filter_value)
    if DATETIME_RX.match(left):
        right = norm_datetime(right)
        return (left > right) - (left < right)
    a, b = _norm_str(left), _norm_str(right)
    return (a > b) - (a < b)


def _as_text(value):
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def filter_matches(f, field_value):
    """True when one filter matches one stored value."""
    cond = f.condition
    if cond == "null":
        return field_value is None
    if cond == "notnull":
        return field_value is not None
    if field_value is None:
        return False  # SQL: any comparison with NULL is not true
    if cond in ("like", "nlike"):
        if f.value is None:
            return False
        if f._regex is None:
            f._regex = _like_regex(str(f.value))
        hit = f._regex.fullmatch(_as_text(field_value)) is not None
        return hit if cond == "like" else not hit
    if cond in ("in", "nin"):
        if f._list is None:
            f._list = str(f.value if f.value is not None else "").split(",")
        hit = any(_compare(field_value, v) == 0 for v in f._list)
        return hit if cond == "in" else not hit
    if cond in ("finset", "nfinset"):
        members = [_norm_str(m) for m in _as_text(field_value).split(",")]
        needle = _norm_str(f.value if f.value is not None else "")
        hit = "," not in needle and needle in members
        return hit if cond == "finset" else not hit
    c = _compare(field_value, f.value)
    if c is None:
        return False
    if cond == "neq":
        return c != 0
    if cond == "gt":
        return c > 0
    if cond == "lt":
        return c < 0
    if cond in ("gteq", "moreq", "from"):
        return c >= 0
    if cond in ("lteq", "to"):
        return c <= 0
    return c == 0  # eq, and any unknown condition type (Magento's fallback)


def matches(criteria, get):
    """True when an item passes every group; get(field) returns the item's value."""
    for group in criteria.groups:
        if group and not any(filter_matches(f, get(f.field)) for f in group):
            return False
    return True


# ---- sorting and paging ---------------------------------------------------------------

def _sort_key(value):
    # MySQL: NULL sorts first ascending; numbers by value; strings case-insensitively
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (int, float)):
        return (1, value, "")
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return (2, 0, _norm_str(value))


def sort_items(items, criteria, get):
    """Sort in place by the sort orders (stable; ties keep the primary-key order given)."""
    for field, direction in reversed(criteria.sort_orders):
        if not field:
            continue
        # a direction other than ASC (or none) sorts descending, as SortOrder processing does
        descending = direction != "ASC"
        items.sort(key=lambda item: _sort_key(get(item, field)), reverse=descending)
    return items


def page_bounds(criteria, total, legacy=False):
    """(start, stop) slice of the matching items for the requested page."""
    size = criteria.page_size
    if not size or size <= 0:
        return 0, total  # no pageSize: every match, whatever currentPage says
    page = criteria.current_page or 1
    if page < 1:
        page = 1
    if legacy and total > 0:
        last = (total + size - 1) // size
        page = min(page, last)  # Magento <= 2.3 repeats the last page
    start = (page - 1) * size
    return min(start, total), min(start + size, total)


# ---- ?fields= partial responses ---------------------------------------------------------

def parse_fields(spec):
    """`items[a,b[c]],total_count` -> {"items": {"a": None, "b": {"c": None}}, "total_count": None}."""
    pos = 0

    def parse_list():
        nonlocal pos
        out = {}
        name = ""
        while pos < len(spec):
            ch = spec[pos]
            pos += 1
            if ch == ",":
                if name.strip():
                    out[name.strip()] = None
                name = ""
            elif ch == "[":
                out[name.strip()] = parse_list()
                name = ""
                # skip to the next separator
                while pos < len(spec) and spec[pos] not in ",]":
                    pos += 1
                if pos < len(spec) and spec[pos] == ",":
                    pos += 1
            elif ch == "]":
                break
            else:
                name += ch
        if name.strip():
            out[name.strip()] = None
        return out

    return parse_list()


def apply_fields(data, tree):
    """Keep only the requested keys (Magento's FieldsFilter)."""
    if isinstance(data, list):
        return [apply_fields(item, tree) for item in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, sub in tree.items():
        if key in data and data[key] is not None:
            out[key] = data[key] if sub is None else apply_fields(data[key], sub)
    return out
