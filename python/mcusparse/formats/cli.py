"""`mcusparse formats ...`: compression report and micro-benchmark."""
from __future__ import annotations

import argparse


def _report(args: argparse.Namespace) -> int:
    from mcusparse.formats import report
    result = report.model_report(args.model)
    print(report.report_json(result) if args.json else report.format_report(result))
    return 0


def _microbench(args: argparse.Namespace) -> int:
    from mcusparse.formats import report
    print(report.format_micro_benchmark(report.micro_benchmark()))
    return 0


def register(subparsers) -> None:
    """Add the `formats` command group to the top-level parser's sub-parsers."""
    group = subparsers.add_parser("formats", help="sparse storage formats: sizes and reports")
    commands = group.add_subparsers(dest="formats_command", required=True)

    report = commands.add_parser(
        "report", help="flash bytes per weight tensor of a .tflite model in every format")
    report.add_argument("model", help="path to a .tflite model")
    report.add_argument("--json", action="store_true", help="print the table as JSON")
    report.set_defaults(func=_report)

    bench = commands.add_parser(
        "microbench", help="bits per nonzero of CSR and dCSR on the dCSR paper's 64x64 example")
    bench.set_defaults(func=_microbench)
