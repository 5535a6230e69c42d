"""`python -m bench.run [calls|delivery|all]`: run benchmarks against the real appliance; markdown
tables (calls.md, delivery.md) and results.json go under --out (default var/bench/<UTC time>)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import calls, delivery, profile, report
from bench.appliance_proc import REPO


def _levels(text: str) -> list[int]:
    levels = [int(x) for x in text.split(",") if x.strip()]
    if not levels or any(n < 1 or n > 500 for n in levels):
        raise argparse.ArgumentTypeError("levels are 1..500 calls, comma-separated")
    return levels


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("what", nargs="?", choices=("calls", "delivery", "all"), default="all")
    p.add_argument("--levels", type=_levels, default=[50, 100, 200, 300],
                   help="concurrent calls per level (calls benchmark)")
    p.add_argument("--messages", type=int, default=40, help="messages (delivery benchmark)")
    p.add_argument("--concurrent", type=int, default=10,
                   help="calls in progress at a time (delivery benchmark)")
    p.add_argument("--profile", action="store_true",
                   help="sample the appliance with py-spy on each level's plateau")
    p.add_argument("--nice", type=int, default=0,
                   help="run the appliance at this nice value (e.g. -10, as root)")
    p.add_argument("--source", type=Path, default=REPO,
                   help="checkout to run the appliance from (e.g. a `git archive` of one commit)")
    p.add_argument("--out", type=Path, default=None, help="directory for reports and traces")
    return p


def _out_dir(given: Path | None) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = given or REPO / "var" / "bench" / stamp
    out.mkdir(parents=True, exist_ok=True)
    return out.resolve()


def _emit(out: Path, name: str, text: str) -> None:
    (out / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    print(f"\n## {name}\n\n{text}", flush=True)


def _save(out: Path, results: dict[str, object]) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str), "utf-8")


def _commit(source: Path) -> str:
    done = subprocess.run(["git", "-C", str(source), "describe", "--always", "--dirty"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown (not a git checkout)"


def _calls(args: argparse.Namespace, out: Path, results: dict[str, object]) -> bool:
    done: list[calls.LevelResult] = []
    failures: dict[str, str] = {}
    for level in args.levels:
        try:
            result = calls.run_level(level, out / f"calls-{level}", profile=args.profile,
                                     source=args.source, nice=args.nice)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            logging.exception("level %d did not run", level)
            failures[str(level)] = str(exc)[:2000]
            results["calls_failed"] = failures
            continue
        done.append(result)
        results["calls"] = [dataclasses.asdict(r) for r in done]
        _save(out, results)
        if result.profile:
            _emit(out, f"profile-{level}", profile.table(result.profile))
    _emit(out, "calls", report.calls_table(done))
    return not failures and all(report.meets_target(r) for r in done if r.level <= 200)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    out = _out_dir(args.out)
    results: dict[str, object] = {"appliance": _commit(args.source),
                                  "started": datetime.now(UTC).isoformat()}
    ok = True
    if args.what in ("calls", "all"):
        ok &= _calls(args, out, results)
    if args.what in ("delivery", "all"):
        result = delivery.run_delivery(args.messages, args.concurrent, out / "delivery",
                                       source=args.source)
        results["delivery"] = dataclasses.asdict(result)
        _emit(out, "delivery", report.delivery_table(result))
        ok &= result.from_hangup_ms.p95 <= report.DELIVERY_P95_MAX_MS
    _save(out, results)
    print(f"\nresults in {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
