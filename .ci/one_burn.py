#!/usr/bin/env python3
"""One build of burn for every package (see the workspace Cargo.toml): building the benches of
objectives or objectives-fit, or the CLI, must resolve the same features for burn and for every
crate burn depends on. Prints the differences and exits 1 if there are any."""
import re
import subprocess
import sys


def burn_closure(args, edges):
    """`{crate version [features]}` for burn and everything below it in `cargo tree`."""
    out = subprocess.run(
        ["cargo", "tree", *args, "-e", edges, "--prefix", "depth", "-f", "{p} [{f}]", "--no-dedupe"],
        capture_output=True, text=True, check=True,
    ).stdout
    found, inside, macro = set(), None, None
    for line in out.splitlines():
        m = re.match(r"(\d+)(.*)", line)
        if not m:
            continue
        depth, body = int(m.group(1)), m.group(2).replace(" (*)", "")
        # Below a proc-macro everything is built for the host, apart from the target's crates:
        # cargo unifies those host crates' features per package (one package's other proc-macros
        # add `default` to memchr there), and they never make burn build twice. The proc-macro
        # itself is compared.
        if macro is not None:
            if depth > macro:
                continue
            macro = None
        if body.startswith("burn "):
            inside = depth
            found.add(body)
        elif inside is not None:
            if depth <= inside:
                inside = None
            else:
                found.add(body)
                if "(proc-macro)" in body:
                    macro = depth
    return found


reference = burn_closure(["-p", "objectives"], "normal,build,dev")
bad = False
for args, edges in [
    (["-p", "objectives-fit"], "normal,build,dev"),
    (["-p", "objectives-cli"], "normal,build"),
    (["--workspace"], "normal,build,dev"),
]:
    diff = sorted(reference ^ burn_closure(args, edges))
    if diff:
        bad = True
        print(f"burn's features differ between `-p objectives` (benches) and {' '.join(args)}:")
        for d in diff:
            print(f"  {d}")
if bad:
    print("align them in the workspace Cargo.toml (feature unification block)")
    sys.exit(1)
print("one build of burn: objectives, objectives-fit, objectives-cli and the workspace agree")
