"""Summarise a py-spy ``--format raw`` (collapsed stacks) profile written by ``run.py --py-spy``.

    uv run python bench/profile_report.py PROFILE.collapsed.txt [--us-per-request US] [--top 40]
        [--match my_service/core/middleware.py --match structlog ...]

Prints the inclusive and self share of samples per frame (function and file, line numbers
dropped), optionally converted to microseconds per request (pass the server's CPU time per
request, 1e6 / req/s when the server core is saturated), and the inclusive share of any
``--match`` substring (a file, a module, a function).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"\s*\(([^()]*?):\d+\)$")


def frame_key(frame: str) -> str:
    """``func (pkg/file.py:123)`` -> ``func (pkg/file.py)``: one entry per function."""
    return _LINE.sub(lambda m: f" ({m.group(1)})", frame.strip())


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append(([frame_key(f) for f in stack.split(";")], int(count)))
    return stacks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path)
    parser.add_argument("--us-per-request", type=float, default=0.0)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", action="append", default=[])
    args = parser.parse_args()

    stacks = load(args.profile)
    total = sum(count for _, count in stacks)
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for frames, count in stacks:
        for frame in set(frames):
            inclusive[frame] += count
        self_[frames[-1]] += count
        joined = ";".join(frames)
        for pattern in args.match:
            if pattern in joined:
                matched[pattern] += count

    def fmt(samples: int) -> str:
        share = samples / total
        text = f"{100 * share:5.1f}%"
        if args.us_per_request:
            text += f" {share * args.us_per_request:7.1f} us"
        return text

    print(f"{args.profile}: {total} samples")
    print("\n== inclusive ==")
    for frame, samples in inclusive.most_common(args.top):
        print(f"{fmt(samples)}  {frame}")
    print("\n== self ==")
    for frame, samples in self_.most_common(args.top):
        print(f"{fmt(samples)}  {frame}")
    if args.match:
        print("\n== matches (inclusive) ==")
        for pattern in args.match:
            print(f"{fmt(matched[pattern])}  {pattern}")


if __name__ == "__main__":
    main()
