"""The boto3 calls a Python package makes, read from its source with `ast` (never run).

A small abstract interpreter: it follows values that are boto3 clients, resources, DynamoDB tables,
paginators, environment values and sts:AssumeRole answers through assignments, module globals, attributes,
function returns and arguments (each function is read again with what its caller passes, a few calls deep),
and records every method called on a client or resource with its file, line and the arguments that name
resources. What a method means (its operation, its IAM action) is code_needs.py's business.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from drsdoctor import pyast
from drsdoctor.iam.code_values import (
    IDENTIFIER,
    Assumed,
    Boto3,
    Bound,
    Call,
    Choice,
    Client,
    Env,
    Func,
    Input,
    Module,
    OsEnviron,
    Paginator,
    Resource,
    Session,
    Text,
)

__all__ = ["IDENTIFIER", "Assumed", "Call", "Env", "Input", "Text", "calls_in"]

MAX_DEPTH = 6  # calls followed into functions of the package, caller to callee


# ---- the package ---------------------------------------------------------------------------------------

@dataclass
class _Module:
    name: str
    file: str
    tree: ast.Module
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, dict[str, ast.FunctionDef | ast.AsyncFunctionDef]] = field(default_factory=dict)
    globals: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)  # obj.name = value, whatever obj is


def calls_in(sources: dict[str, str], handler: str = "") -> tuple[list[Call], list[str]]:
    """Every boto3 call made in `sources` (file path -> Python text), and the files that could not be
    parsed. `handler` (module.function, as Lambda names it) is read with its event as the input."""
    reader = _Reader()
    problems = []
    for path, text in sorted(sources.items()):
        try:
            tree = pyast.parse(text, filename=path)
            reader.add(path, tree)
        except (SyntaxError, ValueError) as error:
            problems.append(f"{path}: {error}")
    reader.run(handler)
    return sorted(reader.calls, key=lambda c: (c.file, c.line, c.method)), problems


class _Reader:
    def __init__(self) -> None:
        self.modules: dict[str, _Module] = {}
        self.calls: set[Call] = set()
        self._read: dict[tuple[Any, ...], Any] = {}  # (function, its arguments) -> what it returned
        self.named: set[Func] = set()  # functions the code read so far calls or names: they may run
        self.reached: set[Func] = set()

    def add(self, path: str, tree: ast.Module) -> None:
        name = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        module = _Module(name.rsplit(".", 1)[-1], path, tree)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                module.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                module.classes[node.name] = {item.name: item for item in node.body
                                             if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.modules[module.name] = module

    def run(self, handler: str) -> None:
        """Read from the handler: the functions it calls or names (a dispatch table, a callback), and theirs.
        Without a handler found, every function of the package."""
        for module in self.modules.values():  # module bodies first: their globals are what functions see
            _Frame(self, module, {}, 0).block(module.tree.body, top=True)
        self.named.clear()  # what a module body names runs only when reached from the handler
        entry_module, _, entry = handler.rpartition(".")
        entry_func = Func(entry_module.rsplit(".", 1)[-1], entry)
        everything = [Func(m.name, name) for m in self.modules.values() for name in m.functions] + [
            Func(m.name, name, cls) for m in self.modules.values() for cls, methods in m.classes.items()
            for name in methods]
        start = [entry_func] if self.lookup(entry_func) else everything
        for _ in range(2):  # a global set lazily inside a function is seen by the functions read before it
            self._read.clear()
            self.reached = set(start)
            pending = list(start)
            while pending:
                func = pending.pop(0)
                found = self.lookup(func)
                if found is not None:
                    self.function(found[0], found[1], {}, 0, func.cls, func == entry_func)
                pending.extend(self.named - self.reached)
                self.reached |= self.named

    def function(self, module: _Module, node: ast.FunctionDef | ast.AsyncFunctionDef, bound: dict[str, Any],
                 depth: int, cls: str, event: bool) -> Any:
        """Read one function with these arguments bound; the value it returns."""
        names = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        local: dict[str, Any] = {name: bound.get(name) for name in names}
        if names and (event or names[0] == "event") and local[names[0]] is None:
            local[names[0]] = Input()
        key = (module.name, cls, node.name, tuple(sorted((k, repr(v)) for k, v in local.items())))
        if key in self._read or depth > MAX_DEPTH:
            return self._read.get(key)
        self._read[key] = None  # a function that calls itself reads as returning nothing known
        frame = _Frame(self, module, local, depth, cls)
        frame.block(node.body)
        self._read[key] = frame.returned
        return frame.returned

    def lookup(self, func: Func) -> tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef] | None:
        module = self.modules.get(func.module)
        if module is None:
            return None
        methods = module.classes.get(func.cls, {}) if func.cls else module.functions
        node = methods.get(func.name)
        return (module, node) if node is not None else None


class _Frame:
    """One function (or module body) being read: its local names, and what it returns."""

    def __init__(self, reader: _Reader, module: _Module, local: dict[str, Any], depth: int,
                 cls: str = "") -> None:
        self.reader, self.module, self.local, self.depth, self.cls = reader, module, local, depth, cls
        self.global_names: set[str] = set()
        self.returned: Any = None
        self.top = False

    # -- statements

    def block(self, body: list[ast.stmt], top: bool = False) -> None:
        self.top = top
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Global):
            self.global_names.update(node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            value = self.value(node.value) if node.value is not None else None
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                self.assign(target, value)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node)
        elif isinstance(node, ast.Return):
            value = self.value(node.value) if node.value is not None else None
            if value is not None:
                self.returned = value
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                value = self.value(item.context_expr)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, value)
            self.block_keep(node.body)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.value(node.iter)
            self.block_keep(node.body + node.orelse)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return  # read on their own (module level) or not at all (nested)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self.statement(child)
                elif isinstance(child, ast.expr):
                    self.value(child)
                elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    self.block_keep(child.body)

    def block_keep(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            if self.top or target.id in self.global_names:
                if value is not None or target.id not in self.module.globals:
                    self.module.globals[target.id] = value
            else:
                self.local[target.id] = value
        elif isinstance(target, ast.Attribute) and value is not None:
            self.module.attributes[target.attr] = value

    def imports(self, node: ast.Import | ast.ImportFrom) -> None:
        scope = self.module.globals if self.top else self.local
        if isinstance(node, ast.Import):
            for alias in node.names:
                scope[alias.asname or alias.name.split(".")[0]] = _imported(alias.name)
            return
        source = node.module or ""
        for alias in node.names:
            name = alias.asname or alias.name
            if source in ("boto3", "boto3.session") and alias.name == "Session":
                scope[name] = Boto3("Session")
            elif source == "boto3" and alias.name in ("client", "resource"):
                scope[name] = Boto3(alias.name)
            elif source == "os" and alias.name == "environ":
                scope[name] = OsEnviron()
            elif source == "os" and alias.name == "getenv":
                scope[name] = Func("os", "getenv")
            elif alias.name in self.reader.modules:
                scope[name] = Module(alias.name)
            else:
                scope[name] = Func(source.rsplit(".", 1)[-1] if source else self.module.name, alias.name)

    # -- expressions

    def name(self, name: str) -> Any:
        if name in self.local:
            return self.reached(self.local[name])
        if name in self.module.globals:
            return self.reached(self.module.globals[name])
        if name in self.module.functions:
            return self.named_func(Func(self.module.name, name))
        if name in self.module.classes:  # a class made here: each of its methods may run
            methods = self.module.classes[name]
            self.reader.named.update(Func(self.module.name, method, name) for method in methods)
        return None

    def named_func(self, func: Func) -> Func:
        self.reader.named.add(func)
        return func

    def reached(self, found: Any) -> Any:
        """A global read by running code: the functions of a dispatch table it holds may run."""
        if isinstance(found, Choice):
            self.reader.named.update(found.funcs)
        return found

    def value(self, node: ast.expr | None) -> Any:
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return Text(node.value) if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Subscript):
            return self.subscript(self.value(node.value), self.value(node.slice))
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.BoolOp):  # `os.environ.get("A") or "x"`: the first that can be told
            values = [self.value(item) for item in node.values]
            return next((v for v in values if v is not None), None)
        if isinstance(node, ast.Dict):
            values = [self.value(item) for item in node.values] + [self.value(k) for k in node.keys if k]
            funcs = tuple(v for v in values if isinstance(v, Func))
            return Choice(funcs) if funcs else next((v for v in values if isinstance(v, Assumed)), None)
        if isinstance(node, ast.IfExp):
            self.value(node.test)
            return self.value(node.body) or self.value(node.orelse)
        if isinstance(node, ast.NamedExpr):
            found = self.value(node.value)
            self.assign(node.target, found)
            return found
        if isinstance(node, ast.Await):
            return self.value(node.value)
        for child in ast.iter_child_nodes(node):  # calls nested anywhere else still count
            if isinstance(child, ast.expr):
                self.value(child)
            elif isinstance(child, ast.comprehension):
                self.value(child.iter)
        return None

    def attribute(self, node: ast.Attribute) -> Any:
        owner = self.value(node.value)
        if isinstance(owner, Boto3) and owner.part == "" and node.attr in ("session", "Session", "client",
                                                                            "resource"):
            return Boto3("Session" if node.attr in ("session", "Session") else node.attr)
        if isinstance(owner, Boto3) and owner.part == "Session" and node.attr == "Session":
            return owner
        if isinstance(owner, Module):
            module = self.reader.modules.get(owner.name)
            if owner.name == "os" and node.attr == "environ":
                return OsEnviron()
            if owner.name == "os" and node.attr == "getenv":
                return Func("os", "getenv")
            if module is not None:
                return module.globals.get(node.attr) or (
                    self.named_func(Func(owner.name, node.attr)) if node.attr in module.functions else None)
            return None
        if isinstance(owner, Resource) and node.attr == "meta":
            return owner
        if isinstance(owner, Resource) and node.attr == "client":  # table.meta.client
            return Client(owner.service, owner.role, owner.region)
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") and self.cls:
            methods = self.module.classes.get(self.cls, {})
            if node.attr in methods:
                return self.named_func(Func(self.module.name, node.attr, self.cls))
        if isinstance(owner, (Client, Resource, Paginator, Session, OsEnviron, Boto3)):
            return Bound(owner, node.attr)
        if isinstance(owner, Assumed):
            return owner
        return self.module.attributes.get(node.attr)

    def subscript(self, owner: Any, key: Any) -> Any:
        if isinstance(owner, OsEnviron) and isinstance(key, Text):
            return Env(key.value)
        if isinstance(owner, Input) and isinstance(key, Text):
            return Input((*owner.path, key.value))
        if isinstance(owner, (Assumed, Choice)):
            return owner
        return None

    def call(self, node: ast.Call) -> Any:
        args = [self.value(arg) for arg in node.args]
        keywords = {kw.arg: self.value(kw.value) for kw in node.keywords if kw.arg}
        spread = [self.value(kw.value) for kw in node.keywords if kw.arg is None]
        assumed = next((v for v in [*keywords.values(), *spread] if isinstance(v, Assumed)), None)
        if isinstance(node.func, ast.Attribute):
            owner = self.value(node.func.value)
            method = node.func.attr
            if isinstance(owner, Input) and method == "get" and args and isinstance(args[0], Text):
                return Input((*owner.path, args[0].value))
            if isinstance(owner, Assumed) and method == "get":
                return owner
        callee = self.value(node.func)
        if isinstance(callee, Bound):
            return self.bound_call(node, callee, args, keywords, assumed)
        if isinstance(callee, Boto3):
            return self.boto3_call(callee.part, args, keywords, assumed, None)
        if isinstance(callee, Choice):  # ACTIONS[event["action"]](event): any of them, with these arguments
            for func in callee.funcs:
                self.call_function(func, args, keywords)
            return None
        if isinstance(callee, Func):
            self.reader.named.add(callee)
            if callee == Func("os", "getenv") and args and isinstance(args[0], Text):
                return Env(args[0].value)
            return self.call_function(callee, args, keywords)
        return None

    def call_function(self, callee: Func, args: list[Any], keywords: dict[str, Any]) -> Any:
        """A function of the package, read again with what this call passes it."""
        found = self.reader.lookup(callee)
        if found is None:
            return None
        module, definition = found
        names = [a.arg for a in definition.args.posonlyargs + definition.args.args]
        if callee.cls and names and names[0] in ("self", "cls"):
            names = names[1:]
        bound = dict(zip(names, args, strict=False))
        bound.update({k: v for k, v in keywords.items() if k})
        return self.reader.function(module, definition, bound, self.depth + 1, callee.cls, False)

    def boto3_call(self, part: str, args: list[Any], keywords: dict[str, Any], assumed: Assumed | None,
                   session: Session | None) -> Any:
        role = assumed or (session.role if session else None)
        service = args[0] if args else keywords.get("service_name")
        if part == "Session":
            return Session(assumed, _told(keywords.get("region_name")))
        if not isinstance(service, Text):
            return None
        region = _told(keywords.get("region_name")) or (session.region if session else None)
        if part == "client":
            return Client(service.value, role, region)
        return Resource(service.value, role=role, region=region)

    def bound_call(self, node: ast.Call, bound: Bound, args: list[Any], keywords: dict[str, Any],
                   assumed: Assumed | None) -> Any:
        owner, method = bound.owner, bound.method
        if isinstance(owner, OsEnviron):
            return Env(args[0].value) if method == "get" and args and isinstance(args[0], Text) else None
        if isinstance(owner, Session):
            return self.boto3_call(method, args, keywords, assumed, owner) \
                if method in ("client", "resource") else None
        if isinstance(owner, Boto3):
            return None
        if isinstance(owner, Paginator):
            if method == "paginate" or method == "wait":
                self.record(owner.client, owner.method, node, keywords)
            return None
        if isinstance(owner, Client):
            if method in ("get_paginator", "get_waiter") and args and isinstance(args[0], Text):
                return Paginator(owner, args[0].value, method.removeprefix("get_"))
            if method in ("can_paginate", "close", "generate_presigned_url"):
                return None
            self.record(owner, method, node, keywords)
            if owner.service == "sts" and method == "assume_role":
                return Assumed(keywords.get("RoleArn"))
            return None
        if isinstance(owner, Resource):
            if not owner.kind and method[:1].isupper():  # dynamodb.Table("name"): an object of the resource
                return Resource(owner.service, method, args[0] if args else None, owner.role, owner.region)
            arguments = dict(keywords)
            if owner.kind and owner.name is not None:  # code_needs learns which parameter it fills
                arguments[IDENTIFIER] = owner.name
            self.record(owner, method, node, arguments)
        return None

    def record(self, owner: Client | Resource, method: str, node: ast.Call,
               keywords: dict[str, Any]) -> None:
        arguments = tuple(sorted(((k, v) for k, v in keywords.items() if _told(v)), key=lambda kv: kv[0]))
        on = (owner.kind or "service") if isinstance(owner, Resource) else ""
        given = tuple(sorted(k for k in keywords if k))
        self.reader.calls.add(Call(owner.service, method, self.module.file, node.lineno, on, arguments, given,
                                   owner.role, owner.region))


def _told(value: Any) -> Any:
    """A value that names something (an environment value, a literal, a part of the event), else None."""
    return value if isinstance(value, (Env, Text, Input)) else None


def _imported(name: str) -> Any:
    if name == "boto3":
        return Boto3()
    if name == "boto3.session":
        return Boto3()
    return Module(name.split(".")[0] if name == "os" else name.rsplit(".", 1)[-1])
