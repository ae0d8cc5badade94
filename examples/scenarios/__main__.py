"""Run every scenario in turn; exit 0 only if each reached its expected conclusion."""

from __future__ import annotations

from importlib import import_module

from . import SCENARIOS


def main() -> int:
    failed = []
    for name in SCENARIOS:
        print(f"\n===== {name} =====", flush=True)
        if import_module(f"examples.scenarios.{name}").main() != 0:
            failed.append(name)
    print(f"\n{len(SCENARIOS) - len(failed)}/{len(SCENARIOS)} scenarios reached their expected "
          f"conclusion" + (f"; not: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
