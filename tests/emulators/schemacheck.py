"""A small JSON-schema validator for contract tests (standard library only).

Shared by the emulator test suites: eAccounting publishes OpenAPI 3.1 (JSON
Schema 2020-12 flavoured: `"type": ["string", "null"]`), Magento publishes
Swagger 2.0 (`#/definitions/...`, `x-nullable`).  One validator covers both:

    from schemacheck import Validator, load_document
    v = Validator(load_document("eaccounting-v2.openapi.json"))
    errors = v.validate(instance, "#/components/schemas/CustomerApi")
    v.check(instance, "CustomerApi")   # raises SchemaViolation with every error

Supported keywords: $ref (JSON pointer inside the document), type (a string
or a list, "null" included), nullable (OpenAPI 3.0) / x-nullable (Swagger 2),
properties, required, additionalProperties (bool or schema), items, minItems,
maxItems, enum, const, format (uuid, date-time, date), maxLength, minLength,
pattern (unanchored, as JSON Schema says), minimum, maximum,
exclusiveMinimum, exclusiveMaximum (number or Swagger-2 boolean form),
anyOf, oneOf, allOf.  Unknown keywords are ignored.

mode="response" (default) checks documents as the server sends them;
mode="request" lets readOnly properties be absent even when listed in
`required` (OpenAPI says they are not sent in requests).

datetime_without_offset: .NET services (eAccounting) emit DateTime values
without a UTC offset ("2026-03-01T00:00:00").  RFC 3339 requires an offset, so
by default such values fail `format: date-time`; pass True to accept them.
"""

import decimal
import json
import re

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_TIME = r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?"
_OFFSET = r"([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
_DATETIME = re.compile("^" + _DATE + "[Tt]" + _TIME + _OFFSET + "$")
_DATETIME_NO_OFFSET = re.compile("^" + _DATE + "[Tt]" + _TIME + _OFFSET + "?$")
_DATE_ONLY = re.compile("^" + _DATE + "$")


class SchemaViolation(AssertionError):
    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors


def load_document(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _is_integer(x):
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    if isinstance(x, float):
        return x.is_integer()
    if isinstance(x, decimal.Decimal):
        return x == x.to_integral_value()
    return False


def _is_number(x):
    return isinstance(x, (int, float, decimal.Decimal)) and not isinstance(x, bool)


_TYPE_CHECKS = {
    "null": lambda x: x is None,
    "boolean": lambda x: isinstance(x, bool),
    "integer": _is_integer,
    "number": _is_number,
    "string": lambda x: isinstance(x, str),
    "array": lambda x: isinstance(x, list),
    "object": lambda x: isinstance(x, dict),
}


class Validator:
    def __init__(self, document, mode="response", datetime_without_offset=False):
        self.doc = document
        self.mode = mode
        self.datetime_without_offset = datetime_without_offset

    # ---- public -----------------------------------------------------------
    def schema_ref(self, name):
        """'#/...' pointers pass through; a bare name is looked up in the
        components (OpenAPI 3) or definitions (Swagger 2)."""
        if name.startswith("#"):
            return name
        if "components" in self.doc:
            return "#/components/schemas/" + name
        return "#/definitions/" + name

    def validate(self, instance, schema, path="$"):
        """All violations as a list of 'path: message' strings."""
        if isinstance(schema, str):
            schema = {"$ref": self.schema_ref(schema)}
        errors = []
        self._validate(instance, schema, path, errors, 0)
        return errors

    def check(self, instance, schema):
        errors = self.validate(instance, schema)
        if errors:
            raise SchemaViolation(errors)

    # ---- internals --------------------------------------------------------
    def resolve(self, ref):
        if not ref.startswith("#"):
            raise ValueError("only local $ref is supported: %s" % ref)
        node = self.doc
        for part in ref[1:].split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[part]
        return node

    def _types(self, schema):
        t = schema.get("type")
        if t is None:
            return None
        types = list(t) if isinstance(t, list) else [t]
        if schema.get("nullable") or schema.get("x-nullable"):
            types.append("null")
        return types

    def _validate(self, x, schema, path, errors, depth):
        if depth > 64:
            errors.append("%s: schema nesting too deep" % path)
            return
        if not isinstance(schema, dict):
            return
        if "$ref" in schema:
            target = self.resolve(schema["$ref"])
            # Swagger 2 / OpenAPI 3.0: a $ref replaces its siblings
            if x is None and (schema.get("nullable") or schema.get("x-nullable")):
                return
            self._validate(x, target, path, errors, depth + 1)
            return
        for sub in schema.get("allOf", []):
            self._validate(x, sub, path, errors, depth + 1)
        if "anyOf" in schema:
            if not any(not self.validate(x, s, path) for s in schema["anyOf"]):
                errors.append("%s: matches none of anyOf" % path)
        if "oneOf" in schema:
            n = sum(1 for s in schema["oneOf"] if not self.validate(x, s, path))
            if n != 1:
                errors.append("%s: matches %d of oneOf (need exactly 1)" % (path, n))
        types = self._types(schema)
        if types is not None and not any(_TYPE_CHECKS.get(t, lambda v: True)(x) for t in types):
            errors.append("%s: %s is not of type %s" % (path, _short(x), "/".join(types)))
            return
        if "enum" in schema and x not in schema["enum"]:
            errors.append("%s: %s not in enum %s" % (path, _short(x), schema["enum"]))
        if "const" in schema and x != schema["const"]:
            errors.append("%s: %s != const %s" % (path, _short(x), schema["const"]))
        if isinstance(x, str):
            self._string(x, schema, path, errors)
        elif _is_number(x):
            self._number(x, schema, path, errors)
        elif isinstance(x, list):
            self._array(x, schema, path, errors, depth)
        elif isinstance(x, dict):
            self._object(x, schema, path, errors, depth)

    def _string(self, x, schema, path, errors):
        if "maxLength" in schema and len(x) > schema["maxLength"]:
            errors.append("%s: length %d > maxLength %d" % (path, len(x), schema["maxLength"]))
        if "minLength" in schema and len(x) < schema["minLength"]:
            errors.append("%s: length %d < minLength %d" % (path, len(x), schema["minLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], x):
            errors.append("%s: %s does not match pattern %s" % (path, _short(x), schema["pattern"]))
        fmt = schema.get("format")
        if fmt == "uuid" and not _UUID.match(x):
            errors.append("%s: %s is not a uuid" % (path, _short(x)))
        elif fmt == "date-time":
            rx = _DATETIME_NO_OFFSET if self.datetime_without_offset else _DATETIME
            if not rx.match(x):
                errors.append("%s: %s is not an RFC 3339 date-time" % (path, _short(x)))
        elif fmt == "date" and not _DATE_ONLY.match(x):
            errors.append("%s: %s is not a date" % (path, _short(x)))

    def _number(self, x, schema, path, errors):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        xmin, xmax = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if xmin is True:  # Swagger 2 / draft 4 boolean form
            xmin, lo = lo, None
        if xmax is True:
            xmax, hi = hi, None
        if lo is not None and x < lo:
            errors.append("%s: %s < minimum %s" % (path, x, lo))
        if hi is not None and x > hi:
            errors.append("%s: %s > maximum %s" % (path, x, hi))
        if _is_number(xmin) and x <= xmin:
            errors.append("%s: %s <= exclusiveMinimum %s" % (path, x, xmin))
        if _is_number(xmax) and x >= xmax:
            errors.append("%s: %s >= exclusiveMaximum %s" % (path, x, xmax))

    def _array(self, x, schema, path, errors, depth):
        if "maxItems" in schema and len(x) > schema["maxItems"]:
            errors.append("%s: %d items > maxItems %d" % (path, len(x), schema["maxItems"]))
        if "minItems" in schema and len(x) < schema["minItems"]:
            errors.append("%s: %d items < minItems %d" % (path, len(x), schema["minItems"]))
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(x):
                self._validate(item, items, "%s[%d]" % (path, i), errors, depth + 1)

    def _object(self, x, schema, path, errors, depth):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name in x:
                continue
            if self.mode == "request" and props.get(name, {}).get("readOnly"):
                continue
            errors.append("%s: required property %s missing" % (path, name))
        for name, value in x.items():
            if name in props:
                self._validate(value, props[name], "%s.%s" % (path, name), errors, depth + 1)
                continue
            extra = schema.get("additionalProperties", True)
            if extra is False:
                errors.append("%s: additional property %s not allowed" % (path, name))
            elif isinstance(extra, dict):
                self._validate(value, extra, "%s.%s" % (path, name), errors, depth + 1)


def _short(x):
    s = json.dumps(x, default=str, ensure_ascii=False)
    return s if len(s) <= 60 else s[:57] + "..."
