"""`labelwatch audit sample` and `labelwatch report accuracy`: draw a round, estimate from it."""

from __future__ import annotations

import argparse
import functools
import json
import math

from auditor.audit.report import SubtaskAccuracy
from auditor.cli_common import open_store
from auditor.jobs import Job
from auditor.jobs.audit_estimates import accuracy_by_subtask
from auditor.jobs.audit_sample import STRATA, RoundOptions, run_audit_sample
from auditor.jobs.runner import run_job
from auditor.settings import Settings
from auditor.store.audit_report_io import RoundData, latest_round_id, read_round


def add_sample_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sample = actions.add_parser(
        "sample", help="draw an audit round: uncertainty-targeted plus a uniform share"
    )
    sample.add_argument("--task")
    budget = sample.add_mutually_exclusive_group()
    budget.add_argument("--items", type=float, help="expected items (default audit_round_items)")
    budget.add_argument("--cost", type=float, help="expected audit cost instead of items")
    sample.add_argument("--random-share", type=float, help="uniform share (default 0.2)")
    sample.add_argument(
        "--stratify", default="subtask", help=f"comma-separated subset of {', '.join(STRATA)}"
    )
    sample.add_argument("--weights", help='strategy weights as JSON, e.g. {"entropy": 1}')
    sample.add_argument("--seed", type=int)
    sample.add_argument("--json", action="store_true")


def add_report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="estimates from the audits")
    report.add_argument("what", choices=["accuracy", "budget"])
    report.add_argument("--task")
    report.add_argument(
        "--round", type=int, help="accuracy: round id (default: the newest audited)"
    )
    report.add_argument("--json", action="store_true")


def cmd_audit_sample(args: argparse.Namespace, settings: Settings) -> int:
    options = RoundOptions(
        budget_items=args.items,
        budget_cost=args.cost,
        random_share=args.random_share,
        stratify_by=tuple(s for s in args.stratify.split(",") if s),
        weights=json.loads(args.weights) if args.weights else None,
        seed=args.seed,
        task=args.task,
    )
    job = Job(
        "audit-sample", "draw an audit round", functools.partial(run_audit_sample, options=options)
    )
    result = run_job(open_store(settings), settings, job, task=args.task)
    payload = {"status": result.status, "sampled": result.outcome and result.outcome.rows_written}
    if args.json:
        print(json.dumps({**payload, "error": result.error}))
    elif result.status == "failed":
        print(f"audit sample failed: {result.error}")
    elif result.status == "skipped":
        print(f"audit sample skipped: {result.error}")
    else:
        print(f"sampled {payload['sampled']} items; `labelwatch audit queue` lists them")
    return 0 if result.status != "failed" else 1


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    if args.what == "budget":
        from auditor.cli_budget import cmd_report_budget

        return cmd_report_budget(args, settings)
    with open_store(settings).connect() as con:
        round_id = args.round if args.round is not None else latest_round_id(con, args.task)
        if round_id is None:
            print("No audited round yet: `labelwatch audit sample`, then audit the queue.")
            return 0
        data = read_round(con, round_id)
    results = accuracy_by_subtask(data)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], default=_finite, indent=2))
    else:
        print(report_text(data, results))
    return 0


def report_text(data: RoundData, results: list[SubtaskAccuracy]) -> str:
    lines = [f"Accuracy of the fused labels, task {data.task}, audit round {data.round_id}"]
    for r in results:
        lines.append(
            f"\n{r.subtask}: {r.audited} of {r.sampled} sampled items audited "
            f"(population {r.population:,})"
        )
        if r.report is None:
            lines.append(f"  {r.reason}")
            continue
        for name, e in r.report.overall.items():
            mark = "*" if name == r.report.headline else " "
            ess = e.details.get("ess")
            ess_text = f"  ess {ess:.0f}" if isinstance(ess, float) and math.isfinite(ess) else ""
            value = "n/a" if math.isnan(e.value) else f"{e.value:.3f}"
            lines.append(
                f" {mark}{name:<22} {value} [{e.low:.3f}, {e.high:.3f}]  n {e.n}{ess_text}"
            )
        lines.append(f"  * headline: {r.report.headline_reason}")
    return "\n".join(lines)


def _finite(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else str(value)
