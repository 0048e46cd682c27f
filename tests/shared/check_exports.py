#!/usr/bin/env python3
"""libnn.so exports the API and nothing else: its dynamic symbol table (nm -D --defined-only)
must hold exactly the functions include/nn.h declares, every one named nn_..., and none of
the internal nn__ functions.

usage: check_exports.py NM LIBNN_SO NN_H
"""
import re
import subprocess
import sys


def main():
    nm, library, header = sys.argv[1:4]
    listing = subprocess.run([nm, "-D", "--defined-only", library], check=True,
                             capture_output=True, text=True).stdout
    # "0000000000012340 T nn_train": the last field is the name, the one before its kind.
    exported = {line.split()[-1] for line in listing.splitlines() if line.strip()}

    text = open(header, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments hold example calls
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)   # and macros hold none
    declared = set(re.findall(r"\b(nn_[a-z0-9_]+)\s*\(", text))
    declared -= set(re.findall(r"\(\s*\*\s*(nn_[a-z0-9_]+)\s*\)", text))  # function pointer types

    internal = sorted(name for name in exported if name.startswith("nn__"))
    foreign = sorted(name for name in exported if not name.startswith("nn_"))
    missing = sorted(declared - exported)
    undeclared = sorted(exported - declared - set(internal) - set(foreign))
    for what, names in (("internal nn__ symbols exported", internal),
                        ("symbols outside the nn_ prefix exported", foreign),
                        ("declared in nn.h but not exported", missing),
                        ("exported but not declared in nn.h", undeclared)):
        if names:
            print(f"{library}: {what}: {' '.join(names)}")
    if internal or foreign or missing or undeclared:
        return 1
    print(f"{library}: exports exactly the {len(exported)} functions nn.h declares")
    return 0


if __name__ == "__main__":
    sys.exit(main())
