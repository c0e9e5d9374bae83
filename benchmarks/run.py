#!/usr/bin/env python3
"""chainrule against micrograd: the same workloads, one run, alternating, several repeats.

    python3 benchmarks/run.py                       # full run (about 10 minutes: micrograd's demo
                                                    # alone takes ~150 s per repeat)
    python3 benchmarks/run.py --quick               # smoke run, small sizes (about a minute)
    python3 benchmarks/run.py --only wide,deep --repeats 3
    python3 benchmarks/run.py --demo-steps 10       # micrograd runs 10 demo steps, scaled to 100
    python3 benchmarks/run.py --output benchmarks/RESULTS.md --json /tmp/bench.json
    python3 benchmarks/run.py --profile step        # cProfile chainrule on one workload
    python3 benchmarks/run.py --list                # the workloads

(``python3 dev.py bench`` runs this file with the project's virtualenv.)  Needs numpy and
``micrograd==0.1.0``; without micrograd its column says "not installed".  torch is optional:
without it the PyTorch batched rows say "not installed" and the run goes on.

This file is the command line.  ``workloads.py`` holds what is measured (written once against
micrograd's API, with each workload's sizes and target), ``harness.py`` how: every (workload,
engine, repeat) in a fresh subprocess (``run.py --worker ...``), engines alternating, then the
markdown report (medians, min-max spread, the ratio micrograd / chainrule: above 1, chainrule
is faster or smaller).
"""

from __future__ import annotations

import argparse
import sys

from harness import orchestrate, profile_main, worker_main
from workloads import WORKLOADS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark chainrule against micrograd (see benchmarks/README.md)."
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="fresh-process repeats per engine (default 5)"
    )
    parser.add_argument(
        "--demo-repeats",
        type=int,
        default=2,
        help="repeats of the whole demo (default 2; micrograd takes ~150 s each)",
    )
    parser.add_argument(
        "--demo-steps",
        type=int,
        default=None,
        help="run only this many of micrograd's 100 demo steps and scale the time "
        "to 100 (marked ≈); chainrule always runs 100",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, 1-2 repeats")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME[,NAME]",
        help=f"run only these workloads: {', '.join(WORKLOADS)}",
    )
    parser.add_argument("--output", metavar="FILE", help="also write the markdown report to FILE")
    parser.add_argument("--json", metavar="FILE", help="also write every raw measurement as JSON")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds per subprocess (default 1800)"
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="import chainrule from the working tree in every worker, instead of a copy of "
        "autograd/ and nn/ taken at the start of the run",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument(
        "--profile", metavar="NAME", help="profile chainrule on one workload, in process"
    )
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--top", type=int, default=25, help="rows of the cProfile listing")
    parser.add_argument(
        "--worker", nargs=3, metavar=("NAME", "ENGINE", "PARAMS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(*args.worker)
        return 0
    if args.list:
        for w in WORKLOADS.values():
            print(f"{w.name:13s} {w.title.split('{')[0].rstrip(', ')} [{', '.join(w.engines)}]")
        return 0
    if args.profile:
        return profile_main(args)
    if args.demo_steps is not None and not 1 <= args.demo_steps <= 100:
        parser.error("--demo-steps must be between 1 and 100")
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
