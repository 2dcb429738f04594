"""A seeded generator of realistic vaults, for benchmarks: `python bench/generate.py DIR -n 10000`.

People with aliases and cadences, meetings with the report-back properties, daily notes with
tasks, long bodies with headings, code blocks and wikilinks, and a `.obsidian/` folder. The
same seed and size always give the same vault, byte for byte.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from pathlib import Path

FIRST = [
    "Ada",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Luca",
    "Maya",
    "Nils",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Vasquez",
    "Novak",
    "Haddad",
    "Reyes",
    "Schmidt",
    "Osei",
    "Kowalski",
    "Dubois",
    "Mehta",
    "Walsh",
    "Ferreira",
    "Ito",
]
COMPANIES = ["Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Acme"]
CADENCES = ["2w", "6w", "3m", "quarterly", "monthly", "1y", None, None]
WORDS = [
    "pricing",
    "launch",
    "hiring",
    "roadmap",
    "funnel",
    "retention",
    "budget",
    "partnership",
    "onboarding",
    "analytics",
    "campaign",
    "churn",
    "interview",
    "feedback",
    "strategy",
    "design",
    "research",
]


def paragraph(rng: random.Random, people: list[str]) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(30, 90))]
    for _ in range(rng.randint(0, 3)):
        words.insert(rng.randrange(len(words)), f"[[{rng.choice(people)}]]")
    return " ".join(words).capitalize() + "."


def body(rng: random.Random, people: list[str], size: int) -> str:
    parts = []
    for i in range(size):
        parts.append(f"## {rng.choice(WORDS).title()} {i + 1}\n\n{paragraph(rng, people)}\n")
        if rng.random() < 0.15:
            parts.append(
                "```python\n# - [ ] report back to [[Nobody]] (code, not a task)\n"
                "print('hello')\n```\n"
            )
        if rng.random() < 0.2:
            parts.append(f"- [ ] {rng.choice(WORDS)} for the {rng.choice(WORDS)} review\n")
    return "\n".join(parts)


def generate(root: Path, notes: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    today = dt.date(2026, 11, 27)
    (root / ".obsidian").mkdir(parents=True, exist_ok=True)
    (root / ".obsidian" / "app.json").write_text('{"alwaysUpdateLinks": true}\n')
    (root / ".obsidian" / "templates.json").write_text(json.dumps({"folder": "Templates"}))
    n_people = max(10, notes // 10)
    n_daily = notes // 5
    n_meetings = notes - n_people - n_daily
    people = []
    for i in range(n_people):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
        people.append(name)
        cadence = rng.choice(CADENCES)
        lines = [
            "---",
            "type: person",
            f"aliases: [{name.split()[0]}{i}]",
            f"email: p{i}@example.com",
            f"company: {rng.choice(COMPANIES)}",
        ]
        if cadence:
            lines.append(f"keep_in_touch: {cadence}")
        lines += ["tags: [person]", "---", "", f"# {name}", "", paragraph(rng, people)]
        write(root / "People" / f"{name}.md", "\n".join(lines) + "\n")
    for i in range(n_meetings):
        day = today - dt.timedelta(days=rng.randint(-10, 400))
        who = rng.sample(people, k=min(len(people), rng.randint(1, 3)))
        lines = ["---", "type: meeting", f"date: {day.isoformat()}", "people:"]
        lines += [f'  - "[[{p}]]"' for p in who]
        roll = rng.random()
        if roll < 0.2:
            lines.append(f'introduced_by: "[[{rng.choice(people)}]]"')
        elif roll < 0.35:
            lines.append(f'advice_from: "[[{rng.choice(people)}]]"')
            if rng.random() < 0.5:
                lines.append("outcome: It worked.")
        elif roll < 0.45:
            lines.append(f'report_back_to: ["[[{rng.choice(people)}]]"]')
        if rng.random() < 0.3:
            lines.append(f"reported_back: {(day + dt.timedelta(days=5)).isoformat()}")
        lines += ["---", "", body(rng, people, rng.randint(1, 6))]
        write(root / "Meetings" / f"{day.isoformat()} Meeting {i}.md", "\n".join(lines) + "\n")
    for i in range(n_daily):
        day = today - dt.timedelta(days=i)
        text = body(rng, people, rng.randint(1, 4))
        if rng.random() < 0.3:
            due = (day + dt.timedelta(days=7)).isoformat()
            text += f"\n- [ ] Report back to [[{rng.choice(people)}]] on the intro 📅 {due}\n"
        write(root / "Daily" / f"{day.isoformat()}.md", text)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("-n", "--notes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.folder, args.notes, args.seed)


if __name__ == "__main__":
    main()
