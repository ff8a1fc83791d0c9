#!/usr/bin/env python3
"""Reads `cargo ... --message-format=json` from stdin and prints the "executable" of the
compiler-artifact whose target name is NAME (the last one, if several). Exits 1 if none.
Usage: cargo-executable.py NAME < cargo.json"""
import json
import sys

name = sys.argv[1]
exe = None
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    msg = json.loads(line)
    if (msg.get("reason") == "compiler-artifact"
            and msg.get("target", {}).get("name") == name
            and msg.get("executable")):
        exe = msg["executable"]
if exe is None:
    sys.exit(f"no executable for target {name!r} in cargo's JSON output")
print(exe)
