"""The `mcusparse` command line: one sub-command group per module."""
import argparse
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcusparse", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)
    # Each module contributes its own sub-commands; imported lazily so that
    # `mcusparse --help` stays fast.
    from mcusparse.formats import cli as formats_cli
    formats_cli.register(groups)
    from mcusparse.bench import cli as bench_cli
    bench_cli.register(groups)
    from mcusparse.compiler import cli as compiler_cli
    compiler_cli.register(groups)
    from mcusparse import prune_model
    prune_model.register(groups)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except BrokenPipeError:
        # The reader went away (`mcusparse ... | head`): not an error of ours.
        # Point stdout at /dev/null so the interpreter's exit flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError, RuntimeError) as err:
        # Bad input, missing files, failed compiles and emulator faults or
        # timeouts: their messages name the problem and the place.
        print(f"mcusparse: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mcusparse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
