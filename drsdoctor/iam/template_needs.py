"""What a template's role is asked, on the template's own resources: `iam simulate --template --role`.

The role's function (the AWS::Lambda::Function whose Role is it) gives the environment as deployed, resolved
from the template: the tables, indexes and functions its values name become the ARNs a need of a role kind
is decided on (a need on `table/{...}` is decided on the tables the function is configured with), and the
code's needs (`--code`) find the resources they name there too. No variable is known by its name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drsdoctor.iam.code_needs import CodeNeed, Place, authorised_on, resource_arn
from drsdoctor.iam.drs_needs import Need
from drsdoctor.iam.intrinsics import Resolver

REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


@dataclass
class TemplateFunction:
    """A function of the template with the role, its environment resolved."""

    name: str = ""
    handler: str = ""
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class TemplateResources:
    """The template's tables (name -> ARN, and each table's index ARNs) and functions (name -> ARN)."""

    place: Place
    tables: dict[str, str] = field(default_factory=dict)
    indexes: dict[str, list[str]] = field(default_factory=dict)  # table name -> its index ARNs
    functions: dict[str, str] = field(default_factory=dict)
    function: TemplateFunction | None = None  # the role's function

    def names(self) -> dict[str, str]:
        values = list(self.function.environment.values()) if self.function else []
        region = next((v for v in values if REGION.match(v)), self.place.region)
        return {"partition": self.place.partition, "region": self.place.region, "account": self.place.account,
                "drs_region": region, "function": self.function.name if self.function else "",
                "source_server": "{{source-server}}", "job": "{{job}}"}

    def named(self) -> list[str]:
        return list(self.function.environment.values()) if self.function else []

    def candidates(self, need: Need) -> list[str]:
        """The ARNs a role-kind need is decided on: the template's resources of its type that the role's
        function is configured with (all of them when the role runs no function of the template)."""
        resource = need.resource
        named = self.named()
        if ":table/" in resource:
            tables = [name for name in self.tables if name in named] or list(self.tables)
            if "/index/" in resource:
                return [arn for name in tables for arn in self.indexes.get(name, [])] or [resource]
            return [self.tables[name] for name in tables] or [resource]
        if ":function:" in resource and "{function}" not in resource:
            found = [arn for name, arn in self.functions.items() if name in named or arn in named]
            return found or list(self.functions.values()) or [resource]
        return [authorised_on(need.action, self.names())]

    def code_resource(self, need: CodeNeed) -> str:
        environment = self.function.environment if self.function else {}
        return resource_arn(need, environment, self.place) or authorised_on(need.action, self.names())


def template_resources(template: Mapping[str, Any], role_logical_id: str,
                       parameters: Mapping[str, str] | None = None) -> TemplateResources:
    resolver = Resolver(template, parameters)
    place = Place(str(resolver.ref("AWS::Partition")), str(resolver.ref("AWS::Region")),
                  str(resolver.ref("AWS::AccountId")))
    found = TemplateResources(place)
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping):
            continue
        properties: Mapping[str, Any] = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::DynamoDB::Table":
            name, arn = str(resolver.ref(logical_id)), str(resolver.get_att(logical_id, "Arn"))
            found.tables[name] = arn
            indexes = [*(properties.get("GlobalSecondaryIndexes") or []),
                       *(properties.get("LocalSecondaryIndexes") or [])]
            found.indexes[name] = [f"{arn}/index/{resolver.resolve(index.get('IndexName'))}"
                                   for index in indexes if isinstance(index, Mapping)]
        elif kind == "AWS::Lambda::Function":
            name = str(resolver.ref(logical_id))
            found.functions[name] = str(resolver.get_att(logical_id, "Arn"))
            if _runs_as(resolver.resolve(properties.get("Role")), resolver, role_logical_id) \
                    and found.function is None:
                variables = resolver.resolve((properties.get("Environment") or {}).get("Variables") or {})
                found.function = TemplateFunction(
                    name, str(resolver.resolve(properties.get("Handler") or "")),
                    {str(k): str(v) for k, v in variables.items()} if isinstance(variables, Mapping) else {})
    return found


def _runs_as(role: Any, resolver: Resolver, logical_id: str) -> bool:
    return isinstance(role, str) and role in (str(resolver.get_att(logical_id, "Arn")),
                                              str(resolver.ref(logical_id)))
