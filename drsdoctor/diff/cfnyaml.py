"""CloudFormation templates decoded with PyYAML and the json module alone: short-form tags, line marks.

`!Ref X` becomes {"Ref": "X"}, `!GetAtt A.B` {"Fn::GetAtt": ["A", "B"]}, any other `!Name` {"Fn::Name": ...}
(an unknown one is refused later, by the template check). Every mapping and list remembers where it starts
(`start_mark.line`, 0-based) so an error names the line; a key given twice, a null key and YAML aliases
that expand past a bound are refused. JSON is read as JSON (its numbers and escapes), with the same marks.
This is what cfn-lint's decoder gave, without its 150 MB of dependencies.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from typing import Any, NamedTuple

import yaml

# json's pure-Python parts (typeshed leaves them out), to mark where each object and array starts
_JSON_DECODER: Any = json.decoder
_JSON_SCANNER: Any = json.scanner

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 5x faster
MAX_EXPANDED_NODES = 250_000  # aliases ("billion laughs") may not expand a template past this many nodes
NO_PREFIX = ("Ref", "Condition")


class DecodeError(ValueError):
    """Why a text is not a template, and the 1-based line where that shows (0 when unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


class Mark(NamedTuple):
    line: int  # 0-based, as PyYAML's marks
    column: int


class MarkedDict(dict[Any, Any]):
    start_mark: Mark


class MarkedList(list[Any]):
    start_mark: Mark


def _marked(value: dict[Any, Any] | list[Any], mark: Mark) -> Any:
    node: MarkedDict | MarkedList = MarkedDict(value) if isinstance(value, dict) else MarkedList(value)
    node.start_mark = mark
    return node


def decode(text: str, last_key_wins: bool = False) -> Any:
    """The template `text` holds (YAML or JSON); raises DecodeError. A key given twice is refused unless
    `last_key_wins` (a template CloudFormation already accepted is read as it read it)."""
    if not text.lstrip().startswith("{"):
        return _decode_yaml(text, last_key_wins)
    try:
        return _decode_json(text, last_key_wins)
    except DecodeError as not_json:
        if not_json.args[0].startswith("Duplicate"):
            raise
        try:  # a YAML flow mapping also starts with "{"
            return _decode_yaml(text, last_key_wins)
        except DecodeError:
            raise not_json from None


# --- YAML -------------------------------------------------------------------------------------------------


class _TemplateLoader(_Loader):
    last_key_wins = False


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line, node.start_mark.column)


def _mapping(loader: Any, node: yaml.MappingNode) -> Any:
    # `<<` merge keys, as the AWS CLI's package command resolves them; a merged key may be given again
    merged = any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value)
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    seen: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key is None:
            raise DecodeError(f"Null key {key_node.value!r} not supported", line)
        try:
            hash(key)
        except TypeError:
            raise DecodeError("a key that is a list or a mapping", line) from None
        if key in seen and not merged and not loader.last_key_wins:
            raise DecodeError(f"Duplicate found {key!r} (lines {seen[key]} and {line})", seen[key])
        seen[key] = line
        mapping[key] = loader.construct_object(value_node, deep=True)
    return _marked(mapping, _mark(node))


def _sequence(loader: Any, node: yaml.SequenceNode) -> Any:
    return _marked([loader.construct_object(child, deep=True) for child in node.value], _mark(node))


def _short_form(loader: Any, tag_suffix: str, node: Any) -> Any:
    name = tag_suffix if tag_suffix in NO_PREFIX else f"Fn::{tag_suffix}"
    value: Any
    if name == "Fn::GetAtt" and isinstance(node, yaml.ScalarNode):
        value = _marked(loader.construct_scalar(node).split(".", 1), _mark(node))
    elif isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = _sequence(loader, node)
    else:
        value = _mapping(loader, node)
    return _marked({name: value}, _mark(node))


_TemplateLoader.add_constructor("tag:yaml.org,2002:map", _mapping)
_TemplateLoader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_TemplateLoader.add_multi_constructor("!", _short_form)


def _decode_yaml(text: str, last_key_wins: bool) -> Any:
    loader = _TemplateLoader(text)
    loader.last_key_wins = last_key_wins
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _guard_aliases(node)
        return loader.construct_document(node)
    except DecodeError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise DecodeError(error.problem or error.context or "cannot be decoded", line) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:  # a bad !!binary, !!timestamp...
        raise DecodeError(str(error).splitlines()[0] if str(error) else "cannot be decoded") from None
    finally:
        loader.dispose()


def _guard_aliases(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it past MAX_EXPANDED_NODES (counted once per distinct node)."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack, visiting = [root], set()
    while stack:  # post-order without recursion: children sized before their parent
        node = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if id(node) in visiting or not children:
            sizes[id(node)] = 1 + sum(sizes.get(id(child), 0) for child in children)
            order.append(node)
            if sizes[id(node)] > MAX_EXPANDED_NODES:
                raise DecodeError(f"YAML aliases expand it past {MAX_EXPANDED_NODES:,} nodes",
                                  node.start_mark.line + 1)
            continue
        visiting.add(id(node))
        stack.append(node)
        stack.extend(child for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


# --- JSON -------------------------------------------------------------------------------------------------


def _line_at(text: str, position: int) -> Mark:
    line = text.count("\n", 0, position)
    return Mark(line, position - (text.rfind("\n", 0, position) + 1))


class _MarkedJson(json.JSONDecoder):
    """json's own decoder, its objects and arrays marked with where they start; a key given twice refused."""

    def __init__(self, last_key_wins: bool) -> None:
        super().__init__()
        self.last_key_wins = last_key_wins
        self.parse_object = self._object
        self.parse_array = self._array
        self.scan_once = _JSON_SCANNER.py_make_scanner(self)

    def _object(self, s_and_end: tuple[str, int], strict: bool, scan_once: Any, object_hook: Any,
                object_pairs_hook: Any, memo: Any = None) -> tuple[Any, int]:
        text, start = s_and_end
        pairs, end = _JSON_DECODER.JSONObject(s_and_end, strict, scan_once, None, list, memo)
        mapping: dict[str, Any] = {}
        for key, value in pairs:
            if key in mapping and not self.last_key_wins:
                at = text.find(json.dumps(key), text.find(json.dumps(key), start) + 1, end)
                line = _line_at(text, at if at >= 0 else start).line + 1
                raise DecodeError(f"Duplicate found {key!r} (line {line})", line)
            mapping[key] = value
        return _marked(mapping, _line_at(text, start - 1)), end

    def _array(self, s_and_end: tuple[str, int], scan_once: Any) -> tuple[Any, int]:
        text, start = s_and_end
        values, end = _JSON_DECODER.JSONArray(s_and_end, scan_once)
        return _marked(values, _line_at(text, start - 1)), end


def _decode_json(text: str, last_key_wins: bool) -> Any:
    try:
        return _MarkedJson(last_key_wins).decode(text)
    except DecodeError:
        raise
    except json.JSONDecodeError as error:
        raise DecodeError(error.msg, error.lineno) from None
    except ValueError as error:  # an integer too long to convert
        raise DecodeError(str(error).splitlines()[0]) from None
