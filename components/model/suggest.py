"""The fewest flavours that serve every application, and how today's flavours compare.

`python -m components.model.suggest` (`make suggest-flavours`) reads
image_flavours/applications.yaml, proposes flavours from the applications
alone, then compares them with the flavour files.

The objective (docs/applications.md explains it with the seed's example):
minimise the number of flavours such that every application is served by one
of them, where a proposed flavour is an OS and the union of the needs of the
applications placed on it, and may not

- carry a capability listed in `rules.only_where_needed` that one of its
  applications does not need (IIS stays off the images of applications that
  are not web sites), or
- carry two capabilities of one `rules.exclusive` group (two .NET Framework
  4.x versions cannot be installed side by side).

Both rules relate two applications at a time, so applications are the
vertices of a conflict graph (different OS, different `only_where_needed`
capabilities, or needs that clash) and the fewest flavours is its chromatic
number. Without rules it is one flavour per OS. Identical requirement sets are
merged and applications that conflict with nobody are placed last, where they
add the fewest capabilities. Each connected part of the graph is coloured by
DSatur branch and bound: parts of up to EXACT_ALWAYS distinct requirement sets
are solved exactly, larger ones exactly when the search ends within its node
budget, otherwise the best colouring found is kept (DSatur greedy at worst)
and the result says so, with the proved lower bound (a clique).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from .applications import (
    APPLICATIONS_FILE,
    ApplicationsFile,
    Offering,
    Rules,
    load_file,
    missing,
    offerings_of,
    serving,
)
from .capabilities import os_capability, providers
from .steps import Catalogue

EXACT_ALWAYS = 32  # distinct requirement sets in one conflict component: always solved exactly
EXACT_LIMIT = 600  # larger components get DSatur greedy and the clique bound only
# Branch-and-bound nodes x component size, shared by every component larger than EXACT_ALWAYS:
# bounds the search at a few seconds in all, the same answer on every machine.
WORK_BUDGET = 1_500_000


@dataclass(frozen=True)
class Proposal:
    """One suggested flavour: an OS, its capabilities, the applications it serves."""

    os: str
    capabilities: tuple[str, ...]  # sorted, without os:<family>
    applications: tuple[str, ...]  # application names, sorted


@dataclass
class Suggestion:
    """The proposed flavours and how sure we are that there cannot be fewer."""

    proposals: list[Proposal]
    exact: bool  # True: no smaller set of flavours exists under the rules
    lower_bound: int  # no set of flavours under the rules is smaller than this
    # (application, clashing capabilities): no image can serve it
    impossible: list[tuple[str, list[str]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.proposals)


# --- graph colouring -------------------------------------------------------------------------


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _dsatur_greedy(n: int, adj: list[int]) -> list[int]:
    colour = [-1] * n
    sat = [0] * n
    degree = [bin(a).count("1") for a in adj]
    for _ in range(n):
        v = max((u for u in range(n) if colour[u] < 0), key=lambda u: (bin(sat[u]).count("1"), degree[u], -u))
        c = 0
        while sat[v] >> c & 1:
            c += 1
        colour[v] = c
        for u in _bits(adj[v]):
            sat[u] |= 1 << c
    return colour


def _greedy_clique(n: int, adj: list[int], starts: int = 24) -> list[int]:
    degree = [bin(a).count("1") for a in adj]
    order = sorted(range(n), key=lambda v: (-degree[v], v))
    best: list[int] = []
    for v in order[:starts]:
        clique, candidates = [v], adj[v]
        while candidates:
            u = max(_bits(candidates), key=lambda w: (bin(adj[w] & candidates).count("1"), degree[w], -w))
            clique.append(u)
            candidates &= adj[u]
        if len(clique) > len(best):
            best = clique
    return best or ([0] if n else [])


def colour_graph(n: int, adj: list[int], budget: Optional[int] = None) -> tuple[list[int], bool, int]:
    """Colour vertices 0..n-1 (adjacency as bit masks) with few colours.

    Returns (colour of each vertex, proved optimal, lower bound). DSatur greedy
    gives the first colouring and a greedy clique the lower bound; when they
    differ, DSatur branch and bound (the clique pre-coloured) searches for fewer
    colours within `budget` nodes (None: no limit).
    """
    if n == 0:
        return [], True, 0
    best_colour = _dsatur_greedy(n, adj)
    best = max(best_colour) + 1
    clique = _greedy_clique(n, adj)
    lower = len(clique)
    if lower == best or n > EXACT_LIMIT:
        return best_colour, lower == best, lower

    colour = [-1] * n
    sat = [0] * n
    degree = [bin(a).count("1") for a in adj]
    state = {"nodes": 0, "aborted": False, "open": (1 << n) - 1}

    def assign(v: int, c: int) -> list[int]:
        colour[v] = c
        state["open"] &= ~(1 << v)
        changed: list[int] = []
        bit = 1 << c
        for u in _bits(adj[v] & state["open"]):
            if not sat[u] & bit:
                sat[u] |= bit
                changed.append(u)
        return changed

    def unassign(v: int, c: int, changed: list[int]) -> None:
        colour[v] = -1
        state["open"] |= 1 << v
        for u in changed:
            sat[u] &= ~(1 << c)

    for index, v in enumerate(clique):
        assign(v, index)

    def search(used: int, left: int) -> None:
        nonlocal best, best_colour
        if left == 0:
            best, best_colour = used, colour[:]
            return
        state["nodes"] += 1
        if budget is not None and state["nodes"] > budget:
            state["aborted"] = True
            return
        v = max(_bits(state["open"]), key=lambda u: (bin(sat[u]).count("1"), degree[u], -u))
        for c in range(min(used + 1, best - 1)):
            if c >= best - 1:
                break  # a better colouring was found meanwhile
            if sat[v] >> c & 1:
                continue
            changed = assign(v, c)
            search(max(used, c + 1), left - 1)
            unassign(v, c, changed)
            if best == lower or state["aborted"]:
                return

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, n + 200))
    try:
        search(len(clique), n - len(clique))
    finally:
        sys.setrecursionlimit(limit)
    return best_colour, best == lower or not state["aborted"], lower


# --- the suggestion ------------------------------------------------------------------------


def suggest(apps: ApplicationsFile) -> Suggestion:
    """The fewest flavours serving every application under the file's rules."""
    rules = apps.rules
    impossible = [(a.name, members) for a in apps.applications for _, members in rules.clashes(a.needs)]
    blocked = {name for name, _ in impossible}
    # (os, exposed capabilities) -> needs -> application names
    classes: dict[tuple[str, tuple[str, ...]], dict[frozenset[str], list[str]]] = {}
    for app in apps.applications:
        if app.name in blocked:
            continue
        key = (app.os, tuple(sorted(rules.exposure(app.needs))))
        classes.setdefault(key, {}).setdefault(frozenset(app.needs), []).append(app.name)
    parts = [_Class(os, list(groups.items()), rules) for (os, _), groups in sorted(classes.items())]
    large = sum(len(c) for part in parts for c in part.components if len(c) > EXACT_ALWAYS)
    nodes = max(100, WORK_BUDGET // large) if large else None
    proposals: list[Proposal] = []
    exact, lower = True, 0
    for part in parts:
        found, proved, bound = part.solve(nodes)
        exact &= proved
        lower += bound
        proposals.extend(Proposal(part.os, tuple(sorted(caps)), tuple(sorted(names))) for caps, names in found)
    proposals.sort(key=lambda p: (p.os, -len(p.applications), p.capabilities))
    return Suggestion(proposals=proposals, exact=exact, lower_bound=lower, impossible=impossible)


class _Class:
    """Applications of one OS needing the same `only_where_needed` capabilities: they may share
    flavours, unless an exclusive group stands between them."""

    def __init__(self, os: str, groups: list[tuple[frozenset[str], list[str]]], rules: Rules) -> None:
        self.os = os
        self.groups = groups  # (needs, application names), one per distinct requirement set
        self.adj = _conflicts([needs for needs, _ in groups], rules)
        self.free = [v for v in range(len(groups)) if not self.adj[v]]
        self.components = _components([v for v in range(len(groups)) if self.adj[v]], self.adj)

    def solve(self, nodes: Optional[int]) -> tuple[list[tuple[set[str], list[str]]], bool, int]:
        """(capabilities, application names) per flavour, proved optimal, lower bound."""
        groups, adj = self.groups, self.adj
        colour = [0] * len(groups)
        colours, exact, lower = 1, True, 1
        for component in self.components:
            index = {v: i for i, v in enumerate(component)}
            sub = [sum(1 << index[u] for u in _bits(adj[v])) for v in component]
            colouring, proved, bound = colour_graph(len(component), sub, None if len(component) <= EXACT_ALWAYS else nodes)
            for v, c in zip(component, colouring):
                colour[v] = c
            colours = max(colours, max(colouring) + 1)
            exact &= proved
            lower = max(lower, bound)
        unions: list[set[str]] = [set() for _ in range(colours)]
        for component in self.components:
            for v in component:
                unions[colour[v]] |= groups[v][0]
        # Applications that conflict with nobody go where they add the fewest capabilities.
        for v in sorted(self.free, key=lambda v: (-len(groups[v][0]), sorted(groups[v][0]))):
            needs = groups[v][0]
            c = min(range(colours), key=lambda c: (len(needs - unions[c]), len(unions[c] - needs), c))
            colour[v] = c
            unions[c] |= needs
        found = []
        for c in range(colours):
            names = [name for v in range(len(groups)) if colour[v] == c for name in groups[v][1]]
            if names:
                found.append((unions[c], names))
        return found, exact, lower


def _conflicts(need_sets: list[frozenset[str]], rules: Rules) -> list[int]:
    """Adjacency bit masks: two requirement sets conflict when together they break an exclusive group.

    Each set alone breaks none (such applications are set aside first), so it
    holds at most one capability of each group; two sets conflict when they hold
    different ones.
    """
    from fnmatch import fnmatchcase

    adj = [0] * len(need_sets)
    for patterns in rules.exclusive:
        by_value: dict[str, int] = {}
        for v, needs in enumerate(need_sets):
            for cap in needs:
                if any(fnmatchcase(cap, p) for p in patterns):
                    by_value[cap] = by_value.get(cap, 0) | 1 << v
        everyone = 0
        for mask in by_value.values():
            everyone |= mask
        for mask in by_value.values():
            for v in _bits(mask):
                adj[v] |= everyone & ~mask
    return adj


def _components(vertices: list[int], adj: list[int]) -> list[list[int]]:
    seen: set[int] = set()
    out: list[list[int]] = []
    for start in vertices:
        if start in seen:
            continue
        part: list[int] = []
        frontier = [start]
        seen.add(start)
        while frontier:
            v = frontier.pop()
            part.append(v)
            for u in _bits(adj[v]):
                if u not in seen:
                    seen.add(u)
                    frontier.append(u)
        out.append(sorted(part))
    return out


# --- comparison with today's flavours ----------------------------------------------------------


def _covers(offering: Offering, proposal: Proposal, rules: Rules) -> bool:
    """Today's flavour does the proposal's job: same OS, every capability, no extra exposure."""
    wanted = set(proposal.capabilities) | {os_capability(proposal.os)}
    return (
        offering.os == proposal.os
        and wanted <= offering.capabilities
        and rules.exposure(offering.capabilities) <= set(proposal.capabilities)
    )


def report(apps: ApplicationsFile, suggestion: Suggestion, offerings: Optional[list[Offering]],
           catalogue: Optional[Catalogue] = None) -> str:
    """The text `make suggest-flavours` prints."""
    rules = apps.rules
    by_os: dict[str, int] = {}
    for app in apps.applications:
        by_os[app.os] = by_os.get(app.os, 0) + 1
    lines = [
        f"{len(apps.applications)} applications ({', '.join(f'{os} {count}' for os, count in sorted(by_os.items()))})",
        "",
    ]
    how = "fewest possible" if suggestion.exact else f"best found; at least {suggestion.lower_bound} are needed"
    lines.append(f"Suggested: {len(suggestion)} flavour{'s' if len(suggestion) != 1 else ''} ({how})")
    for number, proposal in enumerate(suggestion.proposals, 1):
        caps = ", ".join(proposal.capabilities) or "nothing beyond the OS"
        lines.append(f"  {number}. {proposal.os}: {caps}")
        lines.append(f"     serves: {', '.join(proposal.applications)}")
        if catalogue is not None:
            unknown = [c for c in proposal.capabilities if not providers(c, catalogue)]
            if unknown:
                lines.append(f"     no catalogue step gives {', '.join(unknown)} yet")
        if offerings is not None:
            today = [o.name for o in offerings if _covers(o, proposal, rules)]
            if today:
                lines.append(f"     today: {', '.join(today)}")
            else:
                same = [o for o in offerings if o.os == proposal.os]
                if same:
                    want = frozenset(proposal.capabilities) | {os_capability(proposal.os)}
                    near = min(same, key=lambda o: (len(want - o.capabilities), len(o.capabilities - want), o.name))
                    lacks = sorted(want - near.capabilities)
                    exposed = sorted(rules.exposure(near.capabilities) - set(proposal.capabilities))
                    why = []
                    if lacks:
                        why.append(f"lacks {', '.join(lacks)}")
                    if exposed:
                        why.append(f"also has {', '.join(exposed)}")
                    lines.append(f"     today: none; closest {near.name} {' and '.join(why)}")
                else:
                    lines.append(f"     today: no flavour runs {proposal.os}")
    for name, members in suggestion.impossible:
        lines.append(f"  no image can serve {name}: it needs {', '.join(members)}, which cannot share an image")
    lines.append("")
    if offerings is None:
        return "\n".join(lines).rstrip() + "\n"

    served = serving(apps, offerings)
    by_flavour = {o.name: [a for a, names in served.items() if o.name in names] for o in offerings}
    lines.append(f"Today: {len(offerings)} flavour{'s' if len(offerings) != 1 else ''}")
    for offering in offerings:
        caps = ", ".join(sorted(c for c in offering.capabilities if not c.startswith("os:"))) or "nothing beyond the OS"
        lines.append(f"  {offering.name} ({offering.os}): {caps}")
        unneeded = {a.name: sorted(rules.exposure(offering.capabilities) - set(a.needs)) for a in apps.applications}
        clean = [a for a in by_flavour[offering.name] if not unneeded[a]]
        extra = [a for a in by_flavour[offering.name] if unneeded[a]]
        lines.append(f"     serves: {', '.join(clean) or 'no application'}")
        if extra:
            lines.append(f"     could also run, with {', '.join(unneeded[extra[0]])} they do not need: {', '.join(extra)}")
    lines.append("")

    lines.append(f"Difference: today {len(offerings)}, suggested {len(suggestion)}")
    idle = [name for name, users in by_flavour.items() if not users]
    unserved = [a for a in apps.applications if not served[a.name]]
    for name in idle:
        lines.append(f"  flavour {name} serves no application")
    by_name = {o.name: o for o in offerings}
    for app in unserved:
        same = [o for o in offerings if o.os == app.os]
        if same:
            near = min(same, key=lambda o: (len(missing(app, o)), o.name))
            lines.append(f"  application {app.name} is served by no flavour today (closest {near.name} lacks {', '.join(missing(app, near))})")
        else:
            lines.append(f"  application {app.name} is served by no flavour today (no flavour runs {app.os})")
    for app in apps.applications:
        names = served[app.name]
        if names and all(rules.exposure(by_name[n].capabilities) - set(app.needs) for n in names):
            extra = sorted(rules.exposure(by_name[names[0]].capabilities) - set(app.needs))
            lines.append(f"  application {app.name} runs only on flavours with {', '.join(extra)}, which it does not need")
    if len(offerings) > len(suggestion) and not unserved:
        lines.append(f"  {len(offerings) - len(suggestion)} flavour(s) fewer would serve every application")
    elif len(offerings) < len(suggestion):
        lines.append(f"  {len(suggestion) - len(offerings)} more flavour(s) are needed to serve every application under the rules")
    if not (idle or unserved) and len(offerings) == len(suggestion):
        lines.append("  none: today's flavours are as few as the applications allow")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    from .errors import ValidationFailed
    from .loader import load_flavours
    from .steps import load_catalogue

    root = Path(__file__).resolve().parent.parent.parent
    parser = argparse.ArgumentParser(prog="make suggest-flavours", description=__doc__.splitlines()[0])
    parser.add_argument("--flavours", default=str(root / "image_flavours"), help="folder of flavour files and applications.yaml")
    parser.add_argument("--applications", default=None, help=f"applications file (default <flavours>/{APPLICATIONS_FILE})")
    args = parser.parse_args(argv)
    folder = Path(args.flavours)
    path = Path(args.applications) if args.applications else folder / APPLICATIONS_FILE
    source = _rel(path, root)
    if not path.is_file():
        print(f"error: {source}: no applications file; list the applications that run on the images first", file=sys.stderr)
        return 2
    apps, problems = load_file(path, source)
    if apps is None:
        print("error: " + ValidationFailed(problems).report().replace("; nothing was created", ""), file=sys.stderr)
        return 2
    suggestion = suggest(apps)
    catalogue: Optional[Catalogue] = None
    offerings: Optional[list[Offering]] = None
    problems = []
    try:
        catalogue = load_catalogue()
    except ValidationFailed as failed:
        problems.extend(failed.problems)
    if catalogue is not None:
        loaded, flavour_problems, _ = load_flavours(folder, root, catalogue)
        problems.extend(flavour_problems)
        if not flavour_problems:
            offerings = offerings_of(loaded, catalogue)
    print(report(apps, suggestion, offerings, catalogue), end="")
    if problems:
        print("\ntoday's flavours could not be compared:", file=sys.stderr)
        for problem in sorted(set(problems), key=str):
            print(f"  {problem}", file=sys.stderr)
        return 2
    return 0


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
