"""What a connector must write: the abstract methods of the templates, read from the templates.

The scaffold never keeps its own list of methods: it asks each template class for its
``__abstractmethods__`` at generation time and renders each one's real signature, so a template
that gains or loses a method changes the generated package with it. Annotations are kept as the
template wrote them (every template module uses ``from __future__ import annotations``) and the
names they use are imported the way the template module imports them.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BUILTIN_NAMES = frozenset(dir(builtins)) | {"None"}


@dataclass(frozen=True, slots=True)
class TemplateMethod:
    """One abstract method (or property) of a template, ready to be rendered as a stub."""

    name: str
    template: str
    """``Class.method`` of the template that declares it."""
    is_async: bool
    is_property: bool
    parameters: str
    """The parameter list as source text, without parentheses (``self, order: InFlightOrder``)."""
    returns: str | None
    summary: str
    """The first paragraph of the template's docstring on one line, or ""."""
    imports: tuple[str, ...]
    """Import lines the annotations need."""


def template_methods(template: type) -> list[TemplateMethod]:
    """The abstract methods of ``template`` in the order the template hierarchy declares them."""
    abstract: Iterable[str] = getattr(template, "__abstractmethods__", ())
    found = [_describe(template, name) for name in abstract]
    return [method for _, method in sorted(found, key=lambda pair: pair[0])]


def _declaring_class(template: type, name: str) -> type:
    for klass in template.__mro__:
        if name in vars(klass):
            return klass
    raise LookupError(f"{template.__name__}.{name} is abstract but declared nowhere")


def _describe(template: type, name: str) -> tuple[tuple[int, int], TemplateMethod]:
    owner = _declaring_class(template, name)
    attribute = vars(owner)[name]
    is_property = isinstance(attribute, property)
    function: Callable[..., Any] = attribute.fget if is_property else attribute
    signature = inspect.signature(function)
    parameters = _render_parameters(signature)
    returns = None if signature.return_annotation is inspect.Signature.empty else str(
        signature.return_annotation
    )
    annotations = [str(p.annotation) for p in signature.parameters.values() if p.annotation is not p.empty]
    if returns is not None:
        annotations.append(returns)
    module = sys.modules[owner.__module__]
    doc = inspect.getdoc(function) or ""
    method = TemplateMethod(
        name=name,
        template=f"{owner.__name__}.{name}",
        is_async=inspect.iscoroutinefunction(function),
        is_property=is_property,
        parameters=parameters,
        returns=returns,
        summary=" ".join(doc.split("\n\n", 1)[0].split()) if doc else "",
        imports=tuple(sorted(_imports_for(annotations, module))),
    )
    depth = len(template.__mro__) - template.__mro__.index(owner)  # bases first
    return (depth, function.__code__.co_firstlineno), method


def _render_parameters(signature: inspect.Signature) -> str:
    """The parameter list as written in source, with the ``/`` and ``*`` markers where they belong."""
    parameters = list(signature.parameters.values())
    kinds = [parameter.kind for parameter in parameters]
    rendered: list[str] = []
    for index, parameter in enumerate(parameters):
        if (
            parameter.kind is parameter.KEYWORD_ONLY
            and parameter.VAR_POSITIONAL not in kinds
            and parameter.KEYWORD_ONLY not in kinds[:index]
        ):
            rendered.append("*")
        rendered.append(_render_parameter(parameter))
        last_positional_only = parameter.POSITIONAL_ONLY not in kinds[index + 1 :]
        if parameter.kind is parameter.POSITIONAL_ONLY and last_positional_only:
            rendered.append("/")
    return ", ".join(rendered)


def _render_parameter(parameter: inspect.Parameter) -> str:
    text = parameter.name
    if parameter.kind is parameter.VAR_POSITIONAL:
        text = "*" + text
    elif parameter.kind is parameter.VAR_KEYWORD:
        text = "**" + text
    if parameter.annotation is not parameter.empty:
        text += f": {parameter.annotation}"
    if parameter.default is not parameter.empty:
        spaced = parameter.annotation is not parameter.empty  # PEP 8: "x: int = 1", but "x=1"
        text += f" = {parameter.default!r}" if spaced else f"={parameter.default!r}"
    return text


def _imports_for(annotations: Iterable[str], module: Any) -> set[str]:
    known = _module_imports(module)
    lines: set[str] = set()
    for annotation in annotations:
        for identifier in _IDENTIFIER.findall(annotation):
            if identifier in _BUILTIN_NAMES:
                continue
            line = known.get(identifier)
            if line is None and hasattr(module, identifier):
                line = f"from {module.__name__} import {identifier}"
            if line is not None:
                lines.add(line)
    return lines


def _module_imports(module: Any) -> dict[str, str]:
    """Every name a module imports (``TYPE_CHECKING`` blocks included), with its import line."""
    tree = ast.parse(inspect.getsource(module))
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                local = alias.asname or alias.name
                rename = f" as {alias.asname}" if alias.asname else ""
                names[local] = f"from {node.module} import {alias.name}{rename}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names[local] = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
    return names
