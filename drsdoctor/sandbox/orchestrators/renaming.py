"""The reference with every name replaced: a seeded `Renaming` rewrites its template and its code alike.

Drawn from the seed, consistently everywhere they occur: the stack, every physical name (functions, roles,
tables, the rule, the state machine, the code bucket and key, the archive environment's table), the
environment's name, every logical id (resources, parameters, conditions, outputs), policy names and Sids,
the index, the rule's target id, environment variable names (in the template and in the code that reads
them), the definition's state names (and the Fail states' errors named after them), the code's module
names, the function names its log lines carry and its job-tag prefix. Descriptions and comments that name
the reference's parts are left out of the template. What is not a name stays: record attributes, status
values, error names the code raises, AWS's own names, the code's prose.
"""

from __future__ import annotations

import io
import json
import keyword
import random
import re
import sys
import zipfile
from typing import Any

from drsdoctor.sandbox.orchestrators.base import Names
from drsdoctor.sandbox.orchestrators.reference import (
    ACCOUNT_ID,
    ENVIRONMENT_VARIABLES,
    FUNCTIONS,
    STATES,
    reference_names,
)

PREFIX = "drs-orchestrator"
PHYSICAL = re.compile(r"drs-orchestrator-\$\{EnvironmentName\}-([a-z-]+)")
SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)((?:\.[A-Za-z0-9]+)*)\}")
MODULES = ("orchestration", "execution_finder", "execution_poller", "drs_calls")  # the code zip's modules
TABLES = ("protection-groups", "recovery-plans", "execution-history")
CONSONANTS, VOWELS = "bdfgklmnprstvz", "aeiou"
_ZIP_TIMESTAMP = (2024, 1, 1, 0, 0, 0)


def _reference_words() -> set[str]:
    """Every word of the reference's names: a drawn name contains none of them."""
    text = " ".join([PREFIX, *FUNCTIONS, *TABLES, *ENVIRONMENT_VARIABLES, *STATES, *MODULES,
                     "schedule role state machine recovery status index sandbox archive plan wave"])
    words = re.split(r"[^A-Za-z]+|(?<=[a-z])(?=[A-Z])", text)
    return {word.lower() for word in words if len(word) >= 3}


class Renaming:
    """Names drawn from `seed`, and the reference's template and code rewritten with them."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._random = random.Random(seed)
        self._drawn: set[str] = set()
        self._banned = _reference_words()
        self.prefix = self._word(1)
        self.environment = self._word(1)
        self.archive = self._word(1)
        self.bucket = f"{self._word(2)}-{self._word(2)}-{ACCOUNT_ID}"
        self.code_key = f"{self._word(2)}/{self._word(3)}.zip"
        self.tag_prefix = self._word(2)
        self.physical: dict[str, str] = {}  # the reference's suffix (after drs-orchestrator-ENV-) -> drawn
        self.logical: dict[str, str] = {}  # logical ids, parameters, conditions, outputs -> drawn
        self.variables = {name: self._word(2, upper=True) for name in ENVIRONMENT_VARIABLES}
        self.states = {name: self._word(3, camel=True) for name in STATES}
        self.modules = {name: self._word(3, joiner="_") for name in MODULES}
        self.index = self._word(2, camel=True)
        self.labels: dict[str, str] = {}  # policy names, Sids, the rule target's id
        self._template = self._rewrite_template()

    # -- drawing names --------------------------------------------------------------------------------------

    def _word(self, syllable_groups: int, *, upper: bool = False, camel: bool = False,
              joiner: str = "-") -> str:
        """A pronounceable name of `syllable_groups` parts, new, sharing no word with the reference."""
        while True:
            parts = ["".join(self._random.choice(CONSONANTS) + self._random.choice(VOWELS)
                             for _ in range(self._random.randint(2, 3))) for _ in range(syllable_groups)]
            joined = "".join(parts)
            if joined in self._drawn or any(word in joined for word in self._banned):
                continue
            if keyword.iskeyword(joined) or any(part in sys.stdlib_module_names for part in parts):
                continue
            self._drawn.add(joined)
            if upper:
                return "_".join(part.upper() for part in parts)
            if camel:
                return "".join(part.capitalize() for part in parts)
            return joiner.join(parts)

    def _physical(self, suffix: str) -> str:
        if suffix not in self.physical:
            self.physical[suffix] = self._word(2)
        return self.physical[suffix]

    def _label(self, label: str) -> str:
        if label not in self.labels:
            self.labels[label] = self._word(2, camel=True)
        return self.labels[label]

    def physical_name(self, suffix: str, environment: str | None = None) -> str:
        """The deployed name of the reference's `drs-orchestrator-ENV-SUFFIX`."""
        return f"{self.prefix}-{environment or self.environment}-{self.physical[suffix]}"

    # -- the name map ---------------------------------------------------------------------------------------

    def names(self) -> Names:
        """The reference's name map with every name replaced (keys: drsdoctor.sandbox.orchestrators.base)."""
        names = Names({"stack": self.stack_name, "state-machine": self.physical_name("recovery"),
                       "bucket": self.bucket, "index:status": self.index,
                       "rule:execution-finder": self.physical_name("execution-finder-schedule")})
        for function in FUNCTIONS:
            names[f"function:{function}"] = self.physical_name(function)
            names[f"role:{function}"] = self.physical_name(f"{function}-role")
        names["role:state-machine"] = self.physical_name("state-machine-role")
        for table in TABLES:
            names[f"table:{table}"] = self.physical_name(table)
        names["table:execution-history@archive"] = self.physical_name("execution-history", self.archive)
        names.update({f"env:{name}": drawn for name, drawn in self.variables.items()})
        names.update({f"state:{name}": drawn for name, drawn in self.states.items()})
        return names

    def translate(self, text: str) -> str:
        """A sentence about the reference (a fault's summary or root cause) in this renaming's names."""
        reference, renamed = reference_names(archive="archive"), self.names()
        pairs = [(reference[key], renamed[key]) for key in reference if reference[key] != renamed[key]]
        pairs += [(function, renamed[f"function:{function}"]) for function in FUNCTIONS]
        pairs += [("archive environment", f"{self.archive} environment"), ("orchestration role",
                                                                             renamed["role:orchestration"])]
        for old, new in sorted(pairs, key=lambda pair: -len(pair[0])):
            text = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, text)
        return text

    @property
    def stack_name(self) -> str:
        return f"{self.prefix}-{self.environment}"

    # -- the template ---------------------------------------------------------------------------------------

    def template(self) -> str:
        return self._template

    def _rewrite_template(self) -> str:
        from drsdoctor.reference import template

        original = template()
        for section in ("Parameters", "Conditions", "Resources", "Outputs"):
            for logical in original.get(section, {}):
                self.logical[logical] = self._word(3, camel=True)
        # physical names first: drawn in the order the template names them, so a seed always gives the same
        for suffix in PHYSICAL.findall(json.dumps(original)):
            self._physical(suffix)
        rewritten = self._rewrite(original)
        rewritten.pop("Description", None)
        return json.dumps(rewritten, indent=1)

    def _rewrite(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return self._rewrite_mapping(value, key)
        if isinstance(value, list):
            return [self._rewrite(item, key) for item in value]
        if isinstance(value, str):
            return self._rewrite_text(value, key)
        return value

    def _rewrite_mapping(self, mapping: dict[str, Any], parent: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in mapping.items():
            if key in ("Description", "ConstraintDescription"):
                continue
            if parent in ("Parameters", "Conditions", "Resources", "Outputs"):
                out[self.logical[key]] = self._rewrite(value, key)
            elif parent == "Variables":
                out[self.variables[key]] = self._rewrite(value, key)
            elif key == "DefinitionString":
                out[key] = self._rewrite_definition(value)
            else:
                out[key] = self._rewrite(value, key)
        return out

    def _rewrite_text(self, text: str, key: str) -> str:
        if key in ("Ref", "Fn::GetAtt", "Condition", "DependsOn", "Fn::If") and text in self.logical:
            return self.logical[text]
        if key == "Fn::GetAtt" and "." in text:
            logical, _, attribute = text.partition(".")
            return f"{self.logical.get(logical, logical)}.{attribute}"
        if key in ("PolicyName", "Sid", "Id"):
            return self._label(text)
        if key == "Handler":
            module, _, function = text.partition(".")
            return f"{self.modules[module]}.{function}"
        text = re.sub(r"\bStatusIndex\b", self.index, text)
        text = PHYSICAL.sub(lambda match: f"{self.prefix}-${{EnvironmentName}}-{self.physical[match[1]]}",
                            text).replace(PREFIX, self.prefix)
        return SUB_REFERENCE.sub(self._sub_reference, text)

    def _sub_reference(self, match: re.Match[str]) -> str:
        name, attributes = match[1], match[2]
        return "${" + self.logical.get(name, name) + attributes + "}"

    def _rewrite_definition(self, value: Any) -> Any:
        """The definition's states renamed (the DefinitionString is a Fn::Sub of JSON text)."""
        if not (isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str)):
            return self._rewrite(value, "DefinitionString")
        definition = json.loads(value["Fn::Sub"])
        definition.pop("Comment", None)
        renamed = self._rename_states(definition)
        return {"Fn::Sub": self._rewrite_text(json.dumps(renamed, indent=1), "DefinitionString")}

    def _rename_states(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._rename_states(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "States":
                out[key] = {self.states[name]: self._rename_states(state) for name, state in value.items()}
            elif ((key in ("StartAt", "Next", "Default") and isinstance(value, str))
                  or (key == "Error" and value in self.states)):  # a Fail state's error: named as its state
                out[key] = self.states[value]
            elif key == "Cause" and isinstance(value, str):
                out[key] = SUB_REFERENCE.sub(self._sub_reference, re.sub(
                    r"\b(" + "|".join(self.logical) + r")\b", lambda m: self.logical[m[1]], value))
            else:
                out[key] = self._rename_states(value)
        return out

    # -- the code -------------------------------------------------------------------------------------------

    def sources(self) -> dict[str, str]:
        """The function modules, renamed (file names too), reading the renamed environment variables."""
        from drsdoctor.reference import function_sources

        words: list[tuple[str, str]] = [*self.variables.items(), *self.modules.items(),
                                        *((function, self.physical[function]) for function in FUNCTIONS)]
        pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(old) for old, _ in words) + r")(?![\w-])")
        table = dict(words)
        renamed = {}
        for file_name, source in function_sources().items():
            source = source.replace(f'"{PREFIX}:', f'"{self.tag_prefix}:')
            source = pattern.sub(lambda match: table[match[1]], source)
            renamed[f"{self.modules[file_name.removesuffix('.py')]}.py"] = source
        return renamed

    def code_zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, source in sorted(self.sources().items()):
                entry = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, source.encode("utf-8"))
        return buffer.getvalue()
