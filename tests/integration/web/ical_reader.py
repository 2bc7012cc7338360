"""Reading the calendar files patients are sent, as a calendar program would (RFC 5545 3.1 content lines).

Written for the tests (the ``icalendar`` library is not among the project's dependencies): lines are checked to
end in CRLF and to be folded at 75 octets, then unfolded; each content line is split into its name, its
parameters (quoted values may hold ``:`` and ``;``) and its value; components must nest properly.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Property:
    """One content line: ``NAME;PARAM=value:VALUE``."""

    name: str
    params: dict[str, str]
    value: str


@dataclass
class Component:
    """A calendar component (VCALENDAR, VEVENT, VALARM) with its own properties and the components inside it."""

    name: str
    properties: dict[str, Property] = field(default_factory=dict)
    children: list[Component] = field(default_factory=list)

    def value(self, name: str) -> str:
        """Return the raw value of one property (KeyError when absent)."""
        return self.properties[name].value


def _content_line(line: str) -> Property:
    """Split one unfolded content line (RFC 5545 3.1: name *(";" param) ":" value)."""
    position = 0
    while position < len(line) and line[position] not in ";:":
        position += 1
    name = line[:position].upper()
    params: dict[str, str] = {}
    while position < len(line) and line[position] == ";":
        equals = line.index("=", position)
        key = line[position + 1 : equals].upper()
        position = equals + 1
        if line[position] == '"':
            end = line.index('"', position + 1)
            params[key] = line[position + 1 : end]
            position = end + 1
        else:
            start = position
            while line[position] not in ";:":
                position += 1
            params[key] = line[start:position]
    assert line[position] == ":", f"no value in {line!r}"
    return Property(name, params, line[position + 1 :])


def read_calendar(text: str) -> Component:
    """Return the VCALENDAR of an iCalendar file (asserting CRLF line ends, folding and nesting)."""
    assert text.endswith("\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n")), "a line longer than 75 octets"
    lines = text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]
    stack: list[Component] = []
    root: Component | None = None
    for line in lines:
        prop = _content_line(line)
        if prop.name == "BEGIN":
            component = Component(prop.value)
            if stack:
                stack[-1].children.append(component)
            stack.append(component)
        elif prop.name == "END":
            assert stack, f"END:{prop.value} closes nothing"
            assert stack[-1].name == prop.value, f"END:{prop.value} closes {stack[-1].name}"
            closed = stack.pop()
            if not stack:
                root = closed
        else:
            assert stack, f"{prop.name} outside any component"
            assert prop.name not in stack[-1].properties, f"{prop.name} twice in {stack[-1].name}"
            stack[-1].properties[prop.name] = prop
    assert root is not None
    assert root.name == "VCALENDAR"
    assert not stack
    assert root.value("VERSION") == "2.0"
    assert root.value("PRODID")
    return root


def the_event(text: str) -> tuple[Component, Component]:
    """Return the calendar and its one VEVENT."""
    calendar = read_calendar(text)
    (event,) = [c for c in calendar.children if c.name == "VEVENT"]
    return calendar, event


def calendar_properties(text: str) -> dict[str, str]:
    """Return the VEVENT's properties by name (raw values) and the calendar's METHOD."""
    calendar, event = the_event(text)
    return {**{name: p.value for name, p in event.properties.items()}, "METHOD": calendar.value("METHOD")}
